import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../../pipeline/src/bin/ingest.js';
import { ensureStream, recordStreamConfig } from '../../../pipeline/src/ingest/streams.js';
import { subjects } from '../../../pipeline/src/shared/subjects.js';
import { batchesOf, connectNats, deleteStreams, freePort, natsUrl, readStream, uniqueNames, waitFor } from '../../harness/nats.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `aisflow ingest` command; `onStart` may signal it. Bounded: killed after 90 s. */
function runIngest(args: string[], env: Record<string, string>, onStart?: (pid: number) => Promise<void>): Promise<Run> {
  return new Promise((resolve) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AISFLOW_')));
    const child = spawn(process.execPath, ['bin/aisflow.mjs', 'ingest', ...args], { env: { ...clean, AISFLOW_NATS_URL: natsUrl, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
    if (onStart) void onStart(child.pid!);
  });
}

function namesEnv(names: { stream: string; dlqStream: string; prefix: string }, port: number): Record<string, string> {
  return {
    AISFLOW_NATS_STREAM: names.stream,
    AISFLOW_NATS_DLQ_STREAM: names.dlqStream,
    AISFLOW_NATS_SUBJECT_PREFIX: names.prefix,
    AISFLOW_HTTP_PORT: String(port),
    AISFLOW_PARTITIONS: '8',
  };
}

describe('aisflow ingest (the real process)', () => {
  let nc: NatsConnection;
  const dir = mkdtempSync(join(tmpdir(), 'aisflow-ingest-proc-'));
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    nc = await connectNats();
  });
  afterAll(async () => {
    for (const c of cleanups) await c();
    await nc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('on SIGTERM stops reading, publishes and acknowledges everything it read, and exits 0', async () => {
    const names = uniqueNames('sig');
    cleanups.push(() => deleteStreams(nc, names));
    const port = await freePort();
    const run = await runIngest(
      ['--file', 'pipeline/data/ais/aishub-3min-sample.nmea', '--loop'],
      { ...namesEnv(names, port), AISFLOW_INGEST_MAX_PENDING_RECORDS: '30000', AISFLOW_PUBLISH_MAX_INFLIGHT: '4' },
      async (pid) => {
        const metric = async () => {
          const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).catch(() => '');
          return Number(/^aisflow_ingest_records_published_total (\d+)/m.exec(text)?.[1] ?? 0);
        };
        await waitFor(async () => (await metric()) > 2000, 60_000, 100);
        process.kill(pid, 'SIGTERM');
      },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const final = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; decoded?: number; published?: number; pending?: number })
      .filter((l) => l.msg === 'drained; exiting' || l.msg.startsWith('draining'));
    expect(final).toHaveLength(2);
    const [draining, drained] = final;
    expect(draining!.pending).toBeGreaterThan(0); // there was something left to drain
    expect(drained!.published).toBe(drained!.decoded);
    const records = batchesOf(await readStream(nc, names.stream)).flatMap((b) => b.records);
    expect(records.length).toBe(drained!.published);
  });

  // Start-up failures run the same run() in-process: a spawned process per case only adds seconds.
  async function runInProcess(flags: Parameters<typeof run>[0], env: Record<string, string>) {
    let stderr = '';
    const code = await run(flags, { AISFLOW_NATS_URL: natsUrl, AISFLOW_LOG_LEVEL: 'silent', ...env }, (t) => (stderr += t));
    return { code, stderr };
  }

  it('names the bad field of a sources document and exits 78', async () => {
    const file = join(dir, 'sources.yaml');
    writeFileSync(
      file,
      ['sources:', '  - id: coast-1', '    kind: tcp', '    address: 127.0.0.1:5631', '  - id: coast-2', '    kind: tcp', '    address: no-port-here', '  - id: coast-1', '    kind: udp', '    address: 0.0.0.0:10110', ''].join('\n'),
    );
    const bad = await runInProcess({}, { ...namesEnv(uniqueNames('cfg'), 0), AISFLOW_INGEST_SOURCES_FILE: file });
    expect(bad.code).toBe(78);
    expect(bad.stderr).toContain('sources[1].address');
    expect(bad.stderr).toContain('sources[2].id: duplicate id "coast-1"');
    const env = await runInProcess({}, { ...namesEnv(uniqueNames('cfg'), 0), AISFLOW_PARTITIONS: 'many', AISFLOW_INGEST_SORUCES_FILE: file });
    expect(env.code).toBe(78);
    expect(env.stderr).toContain('AISFLOW_PARTITIONS');
    expect(env.stderr).toContain('AISFLOW_INGEST_SORUCES_FILE: not a setting');
    const secret = await runInProcess({ file: 'x.nmea' }, { ...namesEnv(uniqueNames('cfg'), 0), AISFLOW_INGEST_SOURCES_FILE: writeSources('ws.json', { sources: [{ id: 'cloud', kind: 'websocket', address: 'wss://h/x', apiKeyEnv: 'AISFLOW_SECRET_CLOUD' }] }) });
    expect(secret.code).toBe(78);
    expect(secret.stderr).toContain('AISFLOW_SECRET_CLOUD: not set');
  });

  function writeSources(name: string, doc: unknown): string {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(doc));
    return file;
  }

  it('refuses a stream it cannot change with AISFLOW_ERR_NATS_STREAM_CONFLICT and exits 65', async () => {
    const names = uniqueNames('cfl');
    cleanups.push(() => deleteStreams(nc, names));
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: names.stream, subjects: [subjects.allPartitions(names)], storage: StorageType.Memory });
    const result = await runInProcess({ file: 'pipeline/data/ais/kystverket-tagblock.nmea' }, namesEnv(names, 0));
    expect(result.code).toBe(65);
    expect(result.stderr).toContain('AISFLOW_ERR_NATS_STREAM_CONFLICT');
    expect(result.stderr).toContain('storage: "memory" -> "file"');
    expect(result.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect((await jsm.streams.info(names.stream)).config.storage).toBe(StorageType.Memory);
  });

  it('refuses a stream filled with another partition count (AISFLOW_ERR_NATS_PARTITIONS_MISMATCH, exit 65) and publishes nothing', async () => {
    const names = uniqueNames('prt');
    cleanups.push(() => deleteStreams(nc, names));
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, recordStreamConfig(names, { maxAgeS: 3600, maxBytes: 64 * 1024 * 1024, duplicateWindowS: 60, replicas: 1 }, 64));
    const result = await runInProcess({ file: 'pipeline/data/ais/kystverket-tagblock.nmea' }, { ...namesEnv(names, 0), AISFLOW_PARTITIONS: '16' });
    expect(result.code).toBe(65);
    expect(result.stderr).toContain('AISFLOW_ERR_NATS_PARTITIONS_MISMATCH');
    expect(result.stderr).toContain('keyed by 64 partitions, this process by 16');
    expect((await jsm.streams.info(names.stream)).state.messages).toBe(0);
  });
});
