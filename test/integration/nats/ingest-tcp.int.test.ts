import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecoder } from '../../../pipeline/src/ais/decoder.js';
import { toRecord } from '../../../pipeline/src/ingest/record.js';
import { parseSourcesDocument } from '../../../pipeline/src/config/ingest.js';
import { IngestService } from '../../../pipeline/src/ingest/service.js';
import { systemClock } from '../../../pipeline/src/shared/clock.js';
import type { StoredDlqEntry } from '../../../pipeline/src/dlq/entries.js';
import {
  batchesOf,
  connectNats,
  deleteStreams,
  freePort,
  quietLogger,
  readStream,
  testMetrics,
  testSettings,
  uniqueNames,
  waitFor,
} from '../../harness/nats.js';

/** The first four single-sentence reports of distinct vessels in the bundled capture, with their record keys. */
function goodLines(): { lines: string[]; keys: string[] } {
  const decoder = createDecoder({ clock: systemClock });
  const lines: string[] = [];
  const keys: string[] = [];
  const mmsis = new Set<number>();
  for (const line of readFileSync('pipeline/data/ais/aishub-3min-sample.nmea', 'latin1').split('\n')) {
    if (!line.startsWith('!AIVDM,1,1,')) continue;
    const o = decoder.decode(line.trim());
    if (o.kind !== 'message' || mmsis.has(o.message.mmsi)) continue;
    mmsis.add(o.message.mmsi);
    lines.push(line.trim());
    keys.push(toRecord(o.message, o.meta).key);
    if (lines.length === 4) break;
  }
  return { lines, keys };
}
const { lines: GOOD, keys: KEYS } = goodLines();

/** A scripted NMEA server on a fixed port that can be closed and re-opened (the feed restarts). */
class FeedServer {
  private server: net.Server | null = null;
  readonly clients = new Set<net.Socket>();
  constructor(readonly port: number) {}
  async listen(): Promise<void> {
    const server = net.createServer((s) => {
      this.clients.add(s);
      s.on('close', () => this.clients.delete(s));
      s.on('error', () => undefined);
    });
    this.server = server;
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', () => r()));
  }
  async waitForClient(): Promise<net.Socket> {
    expect(await waitFor(() => this.clients.size > 0, 15_000)).toBe(true);
    return [...this.clients][0]!;
  }
  async close(): Promise<void> {
    for (const c of this.clients) c.destroy();
    this.clients.clear();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = null;
  }
}

function write(socket: net.Socket, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(data, (err) => (err ? reject(err) : resolve())));
}

describe('ingest: TCP client source', () => {
  const names = uniqueNames('tcp');
  let nc: NatsConnection;
  let feed: FeedServer;
  let service: IngestService;
  const { registry, metrics } = testMetrics();

  beforeAll(async () => {
    nc = await connectNats();
    feed = new FeedServer(await freePort());
    await feed.listen();
    const { sources } = parseSourcesDocument(
      JSON.stringify({
        sources: [{ id: 'feed', kind: 'tcp', address: `127.0.0.1:${feed.port}`, reconnect: { initialDelayMs: 50, maxDelayMs: 200 }, breaker: { failureThreshold: 50, halfOpenAfterMs: 200 } }],
      }),
    );
    service = new IngestService({ nc, settings: testSettings(names), sources, secrets: {}, metrics, logger: quietLogger(), clock: systemClock, runId: 'tcp-test' });
    await service.start();
  });

  afterAll(async () => {
    await service.stop(10_000);
    await feed.close();
    await deleteStreams(nc, names);
    await nc.close();
  });

  async function published(): Promise<number> {
    return (await registry.getSingleMetric('aisflow_ingest_records_published_total')!.get()).values[0]?.value ?? 0;
  }

  it('reads lines split across packets, survives the server closing and coming back, loses no line sent', async () => {
    let socket = await feed.waitForClient();
    // One line in three packets, then a whole one.
    await write(socket, GOOD[0]!.slice(0, 10));
    await new Promise((r) => setTimeout(r, 30));
    await write(socket, GOOD[0]!.slice(10, 30));
    await new Promise((r) => setTimeout(r, 30));
    await write(socket, `${GOOD[0]!.slice(30)}\r\n${GOOD[1]}\r\n`);
    expect(await waitFor(async () => (await published()) === 2)).toBe(true);

    // The feed goes away right after sending (the last line even without its newline) and returns.
    await write(socket, `${GOOD[2]}\r\n${GOOD[3]}`);
    await feed.close();
    await feed.listen();
    socket = await feed.waitForClient();
    await write(socket, `${GOOD[1]}\r\n${GOOD[2]}\r\n`);
    expect(await waitFor(async () => (await published()) === 6)).toBe(true);

    const records = batchesOf(await readStream(nc, names.stream)).flatMap((b) => b.records);
    expect(records.map((r) => r.key).sort()).toEqual([0, 1, 2, 3, 1, 2].map((i) => KEYS[i]!).sort());
    expect(records.every((r) => r.src === 'feed')).toBe(true);
    const reconnects = (await registry.getSingleMetric('aisflow_ingest_reconnects_total')!.get()).values[0]!.value;
    expect(reconnects).toBeGreaterThanOrEqual(1);
  });

  it('dead-letters garbage and a 1 MB line, keeps the good lines around them, and keeps running', async () => {
    const socket = await feed.waitForClient();
    const before = await published();
    const huge = Buffer.alloc(1024 * 1024, 0x42);
    await write(socket, `${GOOD[0]}\r\n\u0000\u00ff garbage !!\r\n${GOOD[3]!.replace(/\*[0-9A-F]{2}$/, '*00')}\r\n${GOOD[1]}\r\n`);
    for (let i = 0; i < huge.length; i += 64 * 1024) await write(socket, huge.subarray(i, i + 64 * 1024));
    await write(socket, `\r\n${GOOD[2]}\r\n${GOOD[3]}\r\n`);
    expect(await waitFor(async () => (await published()) === before + 4)).toBe(true);

    const dlq = await waitFor(async () => (await readStream(nc, names.dlqStream)).length >= 2);
    expect(dlq).toBe(true);
    const entries = (await readStream(nc, names.dlqStream)).map((m) => JSON.parse(new TextDecoder().decode(m.data)) as StoredDlqEntry);
    const reasons = entries.map((e) => e.reason);
    expect(reasons).toContain('line_too_long');
    expect(reasons).toContain('checksum_mismatch');
    const tooLong = entries.find((e) => e.reason === 'line_too_long')!;
    expect(tooLong.raw!.length).toBe(4096);
    expect(tooLong.detail).toContain(String(huge.length));
    // The source stayed connected through it all: the same socket is still the only client.
    expect(feed.clients.size).toBe(1);
    const rejects = await registry.getSingleMetric('aisflow_ingest_rejects_total')!.get();
    expect(rejects.values.find((v) => v.labels.reason === 'line_too_long')?.value).toBe(1);
  });
});
