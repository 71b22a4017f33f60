import { jetstream, jetstreamManager, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDlqAdmin } from '../../../pipeline/src/dlq/admin.js';
import { decodeDlqEntry, writeFusionDlq } from '../../../pipeline/src/dlq/entries.js';
import { dlqStreamConfig } from '../../../pipeline/src/dlq/stream.js';
import { ensureStream, isStreamConflict, recordStreamConfig } from '../../../pipeline/src/ingest/streams.js';
import type { AisBatchV1, AisRecordV1 } from '../../../pipeline/src/shared/ais-record.js';
import { partitionOf } from '../../../pipeline/src/shared/partition.js';
import { checkStreamPartitions, isPartitionsMismatch } from '../../../pipeline/src/shared/stream-partitions.js';
import { subjects } from '../../../pipeline/src/shared/subjects.js';
import { batchesOf, connectNats, deleteStreams, readStream, uniqueNames } from '../../harness/nats.js';

const limits = { maxAgeS: 3600, maxBytes: 64 * 1024 * 1024, duplicateWindowS: 60, replicas: 1 };

describe('ensureStream', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const names = uniqueNames('ens');
  beforeAll(async () => {
    nc = await connectNats();
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await deleteStreams(nc, names);
    await nc.close();
  });

  it('creates, leaves equal settings alone, updates limits, and refuses a storage change', async () => {
    const desired = recordStreamConfig(names, limits, 16);
    expect(await ensureStream(jsm, desired)).toBe('created');
    expect(await ensureStream(jsm, desired)).toBe('unchanged');
    const info = await jsm.streams.info(names.stream);
    expect(info.config.storage).toBe(StorageType.File);
    expect(info.config.duplicate_window).toBe(nanos(60_000));

    expect(await ensureStream(jsm, recordStreamConfig(names, { ...limits, maxAgeS: 7200 }, 16))).toBe('updated');
    expect((await jsm.streams.info(names.stream)).config.max_age).toBe(nanos(7_200_000));

    const err = await ensureStream(jsm, { ...desired, storage: StorageType.Memory }).catch((e: unknown) => e);
    expect(isStreamConflict(err)).toBe(true);
    expect((err as Error & { code: string }).code).toBe('AISFLOW_ERR_NATS_STREAM_CONFLICT');
    expect((err as Error).message).toContain('storage: "file" -> "memory"');

    // What the server itself refuses (a second stream on the same subjects) is a conflict too, not a crash.
    const refused = await ensureStream(jsm, { ...desired, name: `${names.stream}_TWIN` }).catch((e: unknown) => e);
    expect(isStreamConflict(refused)).toBe(true);
    expect((refused as Error).message).toMatch(/cannot be created as configured: .*overlap/);
  });
});

describe('checkStreamPartitions', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const names = uniqueNames('prt');
  const old = uniqueNames('prto');
  beforeAll(async () => {
    nc = await connectNats();
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await deleteStreams(nc, names);
    await deleteStreams(nc, old);
    await nc.close();
  });

  it('passes a missing stream and one declaring the same count; refuses one declaring another', async () => {
    expect(await checkStreamPartitions(jsm, names, 16)).toBe(false);
    await ensureStream(jsm, recordStreamConfig(names, limits, 16));
    expect(await checkStreamPartitions(jsm, names, 16)).toBe(true);
    const err = await checkStreamPartitions(jsm, names, 64).catch((e: unknown) => e);
    expect(isPartitionsMismatch(err)).toBe(true);
    expect((err as Error & { code: string }).code).toBe('AISFLOW_ERR_NATS_PARTITIONS_MISMATCH');
    expect((err as Error).message).toContain(`stream ${names.stream} is keyed by 16 partitions, this process by 64`);
  });

  it('judges a stream without the count (made before ingest wrote it) by the partition subjects holding messages', async () => {
    await ensureStream(jsm, { ...recordStreamConfig(old, limits, 64), description: 'aisflow AIS record batches (one JSON AisBatchV1 per message)' });
    const js = jetstream(nc);
    for (const p of [3, 40, 41, 63, 12]) await js.publish(subjects.partition(old, p), JSON.stringify({ v: 1, partition: p, records: [] }));
    expect(await checkStreamPartitions(jsm, old, 64)).toBe(true);
    const err = await checkStreamPartitions(jsm, old, 16).catch((e: unknown) => e);
    expect(isPartitionsMismatch(err)).toBe(true);
    expect((err as Error).message).toContain(`holds messages on ${old.prefix}.msg.40, ${old.prefix}.msg.41, ${old.prefix}.msg.63, past the 16 partitions`);
    // ingest writing its description afterwards (the check passed for 64) records the count
    await ensureStream(jsm, recordStreamConfig(old, limits, 64));
    expect((await jsm.streams.info(old.stream)).config.description).toMatch(/; partitions=64$/);
  });
});

describe('DLQ: fusion writer and admin', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const names = uniqueNames('dlq');
  const P = 8;
  // A real single-sentence report; the decoder accepts it on retry.
  const goodLine = '!AIVDM,1,1,,A,13aEOK?P00PD2wVMdLDRhgvL289?,0*26';
  const record: AisRecordV1 = { v: 1, key: 'k1', src: 'rx-a', rx: 1_764_000_000_000, mmsi: 244670000, type: 1, msg: { type: 1, repeat: 0, mmsi: 244670000 } };

  beforeAll(async () => {
    nc = await connectNats();
    jsm = await jetstreamManager(nc);
    await ensureStream(jsm, recordStreamConfig(names, limits, 16));
    await ensureStream(jsm, dlqStreamConfig(names, { maxAgeS: 3600, maxBytes: 16 * 1024 * 1024, replicas: 1 }));
  });
  afterAll(async () => {
    await deleteStreams(nc, names);
    await nc.close();
  });

  it('stats, peeks in pages, retries, and purges', async () => {
    const js = jetstream(nc);
    const admin = createDlqAdmin({ js, jsm, names, partitions: P });
    const decode = (raw: string, reason: string) =>
      js.publish(subjects.dlqDecode(names, 'feed'), JSON.stringify(decodeDlqEntry({ reason, detail: 'test', raw, source: 'feed', at: Date.now() })));
    await decode('garbage that will never decode', 'sentence_malformed');
    await decode(goodLine, 'checksum_mismatch'); // as if a decoder bug was fixed since
    const seq = await writeFusionDlq(js, names, { partition: 3, record, error: { code: 'AISFLOW_ERR_STORE_UNRECOVERABLE', message: 'bad row' }, deliveries: 5, msgId: 'AIS:42' });
    // The same failure written twice (a redelivery) is stored once.
    expect(await writeFusionDlq(js, names, { partition: 3, record, error: { code: 'AISFLOW_ERR_STORE_UNRECOVERABLE', message: 'bad row' }, deliveries: 6, msgId: 'AIS:42' })).toBe(seq);

    const stats = await admin.stats();
    expect(stats).toMatchObject({ messages: 3, byStage: { decode: 2, fusion: 1 }, firstSeq: 1, lastSeq: 3 });

    const page1 = await admin.peek({ limit: 2 });
    expect(page1.map((e) => [e.seq, e.stage, e.reason])).toEqual([
      [1, 'decode', 'sentence_malformed'],
      [2, 'decode', 'checksum_mismatch'],
    ]);
    const page2 = await admin.peek({ limit: 2, afterSeq: page1[1]!.seq });
    expect(page2).toHaveLength(1);
    expect(page2[0]).toMatchObject({ seq: 3, stage: 'fusion', reason: 'AISFLOW_ERR_STORE_UNRECOVERABLE', deliveries: 5, source: 'rx-a', record });

    const result = await admin.retry({ limit: 10 });
    expect(result).toEqual({ retried: 2, failed: 1 });
    // The undecodable one stays; peek skips the deleted sequences.
    expect((await admin.peek({ limit: 10 })).map((e) => e.seq)).toEqual([1]);

    const batches: AisBatchV1[] = batchesOf(await readStream(nc, names.stream));
    const retried = batches.flatMap((b) => b.records);
    expect(retried).toHaveLength(2);
    expect(retried.find((r) => r.key === 'k1')).toEqual(record);
    expect(retried.find((r) => r.key !== 'k1')).toMatchObject({ v: 1, mmsi: 244670316, src: 'feed', type: 1 });
    for (const b of batches) for (const r of b.records) expect(partitionOf(r.mmsi, P)).toBe(b.partition);

    // Retrying the same fusion entry again (say the delete was lost) is de-duplicated by its id.
    const again = await js.publish(subjects.partition(names, partitionOf(record.mmsi, P)), '{}', { msgID: `dlq-retry.${names.dlqStream}.${seq}.${partitionOf(record.mmsi, P)}` });
    expect(again.duplicate).toBe(true);

    expect(await admin.purge()).toEqual({ purged: 1 });
    expect((await admin.stats()).messages).toBe(0);
    expect(await admin.peek({ limit: 5 })).toEqual([]);
  });
});
