import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createDecoder } from '../../../pipeline/src/ais/decoder.js';
import { parseSourcesDocument } from '../../../pipeline/src/config/ingest.js';
import { IngestService } from '../../../pipeline/src/ingest/service.js';
import { toRecord } from '../../../pipeline/src/ingest/record.js';
import { ManualClock } from '../../../pipeline/src/shared/clock.js';
import { batchesOf, connectNats, freePort, PrivateNatsServer, quietLogger, readStream, testMetrics, testSettings, uniqueNames, waitFor } from '../../harness/nats.js';

const NOW = 1_764_000_000_000;
const LINES = 12_000;

describe('ingest: NATS stopped and restarted mid-stream', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aisflow-ingest-restart-'));
  let server: PrivateNatsServer | null = null;

  afterAll(async () => {
    await server?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses nothing and duplicates nothing', async () => {
    server = await PrivateNatsServer.start();
    const capture = join(dir, 'part.nmea');
    const lines = readFileSync('pipeline/data/ais/aishub-3min-sample.nmea', 'latin1').split('\n').slice(0, LINES);
    writeFileSync(capture, `${lines.join('\n')}\n`, 'latin1');

    // What must arrive: the file decoded directly, with the same frozen clock.
    const decoder = createDecoder({ clock: new ManualClock(NOW), defaultSource: 'replay' });
    const expected = lines
      .map((l) => decoder.decode(l.replace(/\r$/, ''), { source: 'replay', receivedAt: NOW }))
      .concat(decoder.flush())
      .flatMap((o) => (o.kind === 'message' ? [JSON.stringify(toRecord(o.message, o.meta))] : []))
      .sort();

    const nc = await connectNats(server.url);
    const names = uniqueNames('rst');
    const { registry, metrics } = testMetrics();
    // Paced so that the outage falls in the middle of the replay (~4 s of input).
    const { sources } = parseSourcesDocument(JSON.stringify({ sources: [{ id: 'replay', kind: 'file', address: capture, pace: 'rate', linesPerSecond: LINES / 4 }] }));
    const service = new IngestService({
      nc,
      settings: testSettings(names, { publish: { maxInflight: 16, timeoutMs: 750 }, maxPendingRecords: 2_000 }),
      sources,
      secrets: {},
      metrics,
      logger: quietLogger(),
      clock: new ManualClock(NOW),
      runId: 'restart-test',
    });
    await service.start();

    const published = async () => (await registry.getSingleMetric('aisflow_ingest_records_published_total')!.get()).values[0]?.value ?? 0;
    expect(await waitFor(async () => (await published()) > 500, 20_000)).toBe(true);
    await server.stopProcess();
    await new Promise((r) => setTimeout(r, 3_000));
    // While NATS was away the sources were paused rather than memory growing without bound.
    const pausedGauge = (await registry.getSingleMetric('aisflow_ingest_source_paused')!.get()).values[0]?.value;
    const pendingWhileDown = service.publisher.pending;
    await server.startProcess();

    await service.allFinished();
    expect(await service.stop(30_000)).toBe(0);

    const errors = (await registry.getSingleMetric('aisflow_ingest_publish_errors_total')!.get()).values[0]?.value ?? 0;
    expect(errors).toBeGreaterThan(0); // the outage really hit publishing
    expect(pausedGauge).toBe(1);
    expect(pendingWhileDown).toBeLessThanOrEqual(2_000 + 500); // high-water mark plus at most one read chunk

    const messages = await readStream(nc, names.stream);
    const got = batchesOf(messages)
      .flatMap((b) => b.records)
      .map((r) => JSON.stringify(r))
      .sort();
    expect(got.length).toBe(expected.length);
    expect(got).toEqual(expected);
    expect(new Set(messages.map((m) => m.msgId)).size).toBe(messages.length);
    await nc.close();
  });

  it('keeps a paused TCP feed connected through an outage longer than its idle timeout, and loses none of it', async () => {
    server ??= await PrivateNatsServer.start();
    const lines = readFileSync('pipeline/data/ais/aishub-3min-sample.nmea', 'latin1')
      .split('\n')
      .filter((l) => l.startsWith('!AIVDM,1,1,'))
      .slice(0, 3000);
    const decoder = createDecoder({ clock: new ManualClock(NOW) });
    const expected = lines.filter((l) => decoder.decode(l.trim()).kind === 'message').length;

    const port = await freePort();
    const clients: net.Socket[] = [];
    const feed = net.createServer((c) => clients.push(c.on('error', () => undefined)));
    await new Promise<void>((r) => feed.listen(port, '127.0.0.1', () => r()));

    const nc = await connectNats(server.url);
    const names = uniqueNames('tcpp');
    const { registry, metrics } = testMetrics();
    const { sources } = parseSourcesDocument(JSON.stringify({ sources: [{ id: 'feed', kind: 'tcp', address: `127.0.0.1:${port}`, idleTimeoutMs: 1000 }] }));
    const service = new IngestService({
      nc,
      settings: testSettings(names, { publish: { maxInflight: 4, timeoutMs: 500 }, maxPendingRecords: 200 }),
      sources,
      secrets: {},
      metrics,
      logger: quietLogger(),
      clock: new ManualClock(NOW),
      runId: 'paused-tcp-test',
    });
    await service.start();
    expect(await waitFor(() => clients.length === 1)).toBe(true);

    await server.stopProcess();
    // Everything is sent while NATS is down: ingest reads until 200 records are pending, then stops
    // reading; the rest waits in the socket buffers for longer than the 1 s idle timeout.
    await new Promise<void>((r) => clients[0]!.write(`${lines.join('\n')}\n`, () => r()));
    expect(await waitFor(() => service.publisher.isPaused, 10_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 2_500));
    await server.startProcess();

    const published = async () => (await registry.getSingleMetric('aisflow_ingest_records_published_total')!.get()).values[0]?.value ?? 0;
    expect(await waitFor(async () => (await published()) >= expected, 30_000, 100)).toBe(true);
    expect(clients).toHaveLength(1); // never reconnected: the paused connection was not taken for idle
    const reconnects = (await registry.getSingleMetric('aisflow_ingest_reconnects_total')!.get()).values[0]?.value ?? 0;
    expect(reconnects).toBe(0);

    expect(await service.stop(20_000)).toBe(0);
    const records = batchesOf(await readStream(nc, names.stream)).flatMap((b) => b.records);
    expect(records).toHaveLength(expected);
    for (const c of clients) c.destroy();
    await new Promise((r) => feed.close(r));
    await nc.close();
  });
});
