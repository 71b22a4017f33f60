import { readFileSync } from 'node:fs';
import type { JetStreamClient } from '@nats-io/jetstream';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createDecoder } from '../ais/decoder.js';
import type { AisBatchV1, AisRecordV1 } from '../shared/ais-record.js';
import { ManualClock } from '../shared/clock.js';
import { partitionOf } from '../shared/partition.js';
import { createLogger } from '../telemetry/logger.js';
import { createIngestMetrics } from '../telemetry/metrics/ingest.js';
import { BatchPublisher, type PublisherOptions } from './publisher.js';
import { toRecord } from './record.js';

const P = 4;
const names = { stream: 'T', dlqStream: 'T_DLQ', prefix: 't' };

/** Records of a real capture (several message types and sizes), in file order. */
function captureRecords(): AisRecordV1[] {
  const clock = new ManualClock(1_733_782_034_000);
  const decoder = createDecoder({ clock, defaultSource: 'test' });
  const out: AisRecordV1[] = [];
  for (const line of readFileSync('pipeline/data/ais/kystverket-tagblock.nmea', 'latin1').split('\n')) {
    const o = decoder.decode(line, { source: 'test', receivedAt: clock.now() });
    if (o.kind === 'message') out.push(toRecord(o.message, o.meta));
  }
  return out;
}

interface Sent {
  subject: string;
  data: Uint8Array;
  msgID: string;
}

/** A JetStream client that acknowledges every publish at once and keeps what it was given. */
function fakeJs(sent: Sent[]): JetStreamClient {
  return {
    publish: (subject: string, data: Uint8Array, opts: { msgID: string }) => {
      // copy: the publisher may reuse nothing after the ack, but the test reads it later
      sent.push({ subject, data: Uint8Array.from(data), msgID: opts.msgID });
      return Promise.resolve({ stream: 'T', seq: sent.length, duplicate: false });
    },
  } as unknown as JetStreamClient;
}

function publisher(sent: Sent[], overrides: Partial<PublisherOptions> = {}) {
  const registry = new Registry();
  const metrics = createIngestMetrics(registry);
  const p = new BatchPublisher({
    js: fakeJs(sent),
    names,
    partitions: P,
    maxRecords: 1000,
    maxBytes: 262_144,
    lingerMs: 5,
    maxInflight: 4,
    timeoutMs: 5000,
    maxPendingRecords: 1_000_000,
    runId: 'test',
    metrics,
    logger: createLogger({ name: 'publisher-test', level: 'silent' }),
    // a frozen clock: no batch lingers out, so every batch before drain is sealed by a limit
    now: () => 0,
    ...overrides,
  });
  return { p, registry };
}

function decodeBatches(sent: Sent[]): Array<{ sent: Sent; batch: AisBatchV1 }> {
  return sent.map((s) => ({ sent: s, batch: JSON.parse(Buffer.from(s.data).toString('utf8')) as AisBatchV1 }));
}

/** What each partition must receive, in the order the records were added. */
function byPartition(records: AisRecordV1[]): AisRecordV1[][] {
  const out: AisRecordV1[][] = Array.from({ length: P }, () => []);
  for (const r of records) out[partitionOf(r.mmsi, P)]!.push(r);
  return out;
}

describe('BatchPublisher', () => {
  const records = captureRecords();

  it('splits batches exactly at maxBytes, keeping every record once and in order per partition', async () => {
    const maxBytes = 6000;
    const sent: Sent[] = [];
    const { p, registry } = publisher(sent, { maxBytes });
    for (const r of records) p.add(r, partitionOf(r.mmsi, P));
    expect(await p.drain(5000)).toBe(0);
    p.close();

    const batches = decodeBatches(sent);
    const want = byPartition(records);
    const got: AisRecordV1[][] = Array.from({ length: P }, () => []);
    for (const { sent: s, batch } of batches) {
      expect(s.data.length).toBeLessThanOrEqual(maxBytes);
      expect(batch.v).toBe(1);
      expect(s.subject).toBe(`t.msg.${batch.partition}`);
      expect(batch.records.length).toBeGreaterThan(0);
      for (const r of batch.records) expect(partitionOf(r.mmsi, P)).toBe(batch.partition);
      got[batch.partition]!.push(...batch.records);
    }
    // Records pass through the JSON round trip unchanged (as fusion will parse them).
    expect(got).toEqual(want.map((rs) => rs.map((r) => JSON.parse(JSON.stringify(r)) as AisRecordV1)));
    expect(new Set(sent.map((s) => s.msgID)).size).toBe(sent.length);

    // Sealed by size means full: the next record of the partition would not have fit. Only the
    // last batch of each partition (sealed by drain) may be smaller.
    const perPartition = new Map<number, Array<{ sent: Sent; batch: AisBatchV1 }>>();
    for (const b of batches) perPartition.set(b.batch.partition, [...(perPartition.get(b.batch.partition) ?? []), b]);
    let split = 0;
    for (const [partition, list] of perPartition) {
      const all = want[partition]!;
      let index = 0;
      for (const [i, b] of list.entries()) {
        index += b.batch.records.length;
        if (i === list.length - 1) continue;
        split += 1;
        const next = Buffer.byteLength(JSON.stringify(all[index]));
        expect(b.sent.data.length + 1 + next).toBeGreaterThan(maxBytes);
      }
    }
    // The capture is far larger than one 6000-byte batch per partition: the byte limit was hit.
    expect(split).toBeGreaterThan(P);

    const published = (await registry.getSingleMetric('aisflow_ingest_records_published_total')!.get()).values[0]!.value;
    expect(published).toBe(records.length);
    expect(p.pending).toBe(0);
  });

  it('seals a batch at maxRecords', async () => {
    const sent: Sent[] = [];
    const { p } = publisher(sent, { maxRecords: 7 });
    for (const r of records) p.add(r, partitionOf(r.mmsi, P));
    expect(await p.drain(5000)).toBe(0);
    p.close();
    const batches = decodeBatches(sent);
    const counts = new Map<number, number[]>();
    for (const { batch } of batches) counts.set(batch.partition, [...(counts.get(batch.partition) ?? []), batch.records.length]);
    for (const [partition, list] of counts) {
      expect(list.slice(0, -1).every((n) => n === 7)).toBe(true);
      expect(list.at(-1)).toBeLessThanOrEqual(7);
      expect(list.reduce((a, n) => a + n, 0)).toBe(byPartition(records)[partition]!.length);
    }
  });
});
