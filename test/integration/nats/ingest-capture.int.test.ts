import { readFileSync } from 'node:fs';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecoder } from '../../../pipeline/src/ais/decoder.js';
import type { DecodeOutcome } from '../../../pipeline/src/ais/types.js';
import { parseSourcesDocument } from '../../../pipeline/src/config/ingest.js';
import { IngestService } from '../../../pipeline/src/ingest/service.js';
import { toRecord } from '../../../pipeline/src/ingest/record.js';
import { ManualClock } from '../../../pipeline/src/shared/clock.js';
import { partitionOf } from '../../../pipeline/src/shared/partition.js';
import { subjects } from '../../../pipeline/src/shared/subjects.js';
import type { StoredDlqEntry } from '../../../pipeline/src/dlq/entries.js';
import { batchesOf, connectNats, deleteStreams, quietLogger, readStream, testMetrics, testSettings, uniqueNames } from '../../harness/nats.js';

// The messy one: bad checksums, truncated lines, non-AIS sentences, VDO — every path of the handler.
const CAPTURE = 'pipeline/data/ais/amsa-mixed-feed.nmea';
const NOW = 1_764_000_000_000;

/** What decoding the file directly gives: the records ingest must publish, and its rejects. */
function decodeDirectly(path: string, sourceId: string) {
  const clock = new ManualClock(NOW);
  const decoder = createDecoder({ clock, defaultSource: sourceId, maxLineLength: 4096 });
  const text = readFileSync(path, 'latin1');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const outcomes: DecodeOutcome[] = [];
  for (const l of lines) outcomes.push(decoder.decode(l.endsWith('\r') ? l.slice(0, -1) : l, { source: sourceId, receivedAt: clock.now() }));
  outcomes.push(...decoder.flush());
  const records = outcomes.flatMap((o) => (o.kind === 'message' ? [toRecord(o.message, o.meta)] : []));
  const rejects = outcomes.filter((o) => o.kind === 'reject');
  const skips = outcomes.filter((o) => o.kind === 'skip').length;
  return { lines: lines.length, records, rejects, skips };
}

describe('ingest: a shared capture into JetStream', () => {
  const names = uniqueNames('cap');
  let nc: NatsConnection;
  let service: IngestService;
  const { registry, metrics } = testMetrics();

  beforeAll(async () => {
    nc = await connectNats();
    const { sources } = parseSourcesDocument(JSON.stringify({ sources: [{ id: 'capture', kind: 'file', address: CAPTURE }] }));
    service = new IngestService({
      nc,
      settings: testSettings(names),
      sources,
      secrets: {},
      metrics,
      logger: quietLogger(),
      clock: new ManualClock(NOW),
      runId: 'capture-test',
    });
    await service.start();
    await service.allFinished();
    expect(await service.stop(30_000)).toBe(0);
  });

  afterAll(async () => {
    await deleteStreams(nc, names);
    await nc.close();
  });

  it('publishes every decodable line exactly once, with the same content as decoding the file directly', async () => {
    const expected = decodeDirectly(CAPTURE, 'capture');
    expect(expected.records.length).toBeGreaterThan(30_000);

    const messages = await readStream(nc, names.stream);
    const batches = batchesOf(messages);
    const got = batches.flatMap((b) => b.records);
    expect(got.length).toBe(expected.records.length);
    // Multisets: the capture really repeats some sentences, so compare sorted lists, not sets.
    const canon = (r: unknown) => JSON.stringify(r);
    expect(got.map(canon).sort()).toEqual(expected.records.map(canon).sort());

    // Routing: each batch sits on its partition's subject and holds only that partition's vessels.
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i]!;
      expect(messages[i]!.subject).toBe(subjects.partition(names, b.partition));
      expect(b.v).toBe(1);
      for (const r of b.records) expect(partitionOf(r.mmsi, 8)).toBe(b.partition);
    }
    // Many records per JetStream message, and every message id distinct.
    expect(messages.length).toBeLessThan(got.length / 5);
    expect(new Set(messages.map((m) => m.msgId)).size).toBe(messages.length);

    const published = (await registry.getSingleMetric('aisflow_ingest_records_published_total')!.get()).values[0]!.value;
    expect(published).toBe(expected.records.length);
    const lines = (await registry.getSingleMetric('aisflow_ingest_lines_total')!.get()).values[0]!.value;
    expect(lines).toBe(expected.lines);
    const skipped = (await registry.getSingleMetric('aisflow_ingest_skipped_total')!.get()).values.reduce((a, v) => a + v.value, 0);
    expect(skipped).toBe(expected.skips);
    expect(skipped).toBeGreaterThan(10_000); // the feed's $PSHI, $GPGGA, ... sentences
  });

  it('dead-letters every rejected line with its raw text and reason', async () => {
    const expected = decodeDirectly(CAPTURE, 'capture');
    const entries = (await readStream(nc, names.dlqStream)).map((m) => ({
      subject: m.subject,
      entry: JSON.parse(new TextDecoder().decode(m.data)) as StoredDlqEntry,
    }));
    expect(entries.length).toBe(expected.rejects.length);
    expect(entries.length).toBeGreaterThan(0);
    const key = (reason: string, raw: string) => `${reason}|${raw}`;
    expect(entries.map((e) => key(e.entry.reason, e.entry.raw ?? '')).sort()).toEqual(
      expected.rejects.map((r) => (r.kind === 'reject' ? key(r.reason, r.raw) : '')).sort(),
    );
    for (const e of entries) {
      expect(e.subject).toBe(subjects.dlqDecode(names, 'capture'));
      expect(e.entry.stage).toBe('decode');
      expect(e.entry.source).toBeTruthy();
      expect(e.entry.time).toBe(new Date(NOW).toISOString());
    }
  });

  it('drops a re-sent batch: the same Nats-Msg-Id is stored once', async () => {
    const js = jetstream(nc);
    const [first] = await readStream(nc, names.stream);
    const jsm = await jetstreamManager(nc);
    const before = (await jsm.streams.info(names.stream)).state.messages;
    const h = headers();
    const ack = await js.publish(first!.subject, first!.data, { msgID: first!.msgId!, headers: h });
    expect(ack.duplicate).toBe(true);
    expect((await jsm.streams.info(names.stream)).state.messages).toBe(before);
  });
});
