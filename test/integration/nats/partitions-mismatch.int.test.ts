import { spawn } from 'node:child_process';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStream, recordStreamConfig } from '../../../pipeline/src/ingest/streams.js';
import { connectNats, deleteStreams, natsUrl, uniqueNames } from '../../harness/nats.js';

/** Runs `aisflow <command>` to its exit (bounded: a process that keeps running is killed and fails the test). */
function runToExit(command: string, env: Record<string, string>): Promise<{ code: number | string; output: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AISFLOW_'))) as Record<string, string>;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/aisflow.mjs', command], { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code: code ?? signal ?? -1, output });
    });
  });
}

describe('fusion and the API against a stream keyed by another partition count', () => {
  let nc: NatsConnection;
  const names = uniqueNames('mis');
  beforeAll(async () => {
    nc = await connectNats();
    await ensureStream(await jetstreamManager(nc), recordStreamConfig(names, { maxAgeS: 3600, maxBytes: 16 * 1024 * 1024, duplicateWindowS: 60, replicas: 1 }, 64));
  });
  afterAll(async () => {
    await deleteStreams(nc, names);
    await nc.close();
  });

  it.each(['fusion', 'api'])('%s exits 78 with AISFLOW_ERR_NATS_PARTITIONS_MISMATCH before touching a store', async (command) => {
    const result = await runToExit(command, {
      AISFLOW_NATS_URL: natsUrl,
      AISFLOW_NATS_STREAM: names.stream,
      AISFLOW_NATS_DLQ_STREAM: names.dlqStream,
      AISFLOW_NATS_SUBJECT_PREFIX: names.prefix,
      AISFLOW_PARTITIONS: '16',
      AISFLOW_HTTP_PORT: '0',
      // unreachable on purpose: the check comes first, so these are never dialled
      AISFLOW_REDIS_URL: 'redis://127.0.0.1:1',
      AISFLOW_POSTGRES_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    expect(result.code, result.output.slice(-2000)).toBe(78);
    expect(result.output).toContain('AISFLOW_ERR_NATS_PARTITIONS_MISMATCH');
    expect(result.output).toContain('is keyed by 64 partitions, this process by 16');
  });
});
