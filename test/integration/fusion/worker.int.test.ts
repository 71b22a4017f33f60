import { jetstream } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDecideSettings } from '../../../pipeline/src/fusion/decide.js';
import { defaultTrustSettings } from '../../../pipeline/src/fusion/trust.js';
import { FusionWorker, type FusionWorkerOptions } from '../../../pipeline/src/fusion/worker.js';
import { systemClock } from '../../../pipeline/src/shared/clock.js';
import { subjects } from '../../../pipeline/src/shared/subjects.js';
import { memoryStores } from '../../harness/fusion-memory-stores.js';
import { fleetRecords, fleetReference, positionRecord, publishRecords, quietLogger, setupNats, spoofedFleet, testMetrics, waitFor, type FusionTestNats } from '../../harness/fusion.js';

/**
 * Fusion's orchestration against a real NATS JetStream: ownership, hand-over, ack-after-write,
 * breaker pause, poison isolation, demotion. The stores here are in-process implementations of
 * the store contract with fault injection (see the harness); the real Redis/Postgres stores are
 * exercised by pipeline.int.test.ts.
 */
const PARTITIONS = 8;

describe('fusion worker on real JetStream', () => {
  let t: FusionTestNats;
  const workers: FusionWorker[] = [];
  beforeAll(async () => {
    t = await setupNats('wrk');
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await t.cleanup();
  });

  async function startWorker(memberId: string, stores: ReturnType<typeof memoryStores>, over: Partial<FusionWorkerOptions> = {}) {
    const { metrics, registry } = testMetrics();
    const w = await FusionWorker.start({
      nc: t.nc,
      names: t.names,
      partitions: PARTITIONS,
      memberId,
      heartbeatMs: 200,
      memberTtlMs: 1_500,
      maxAckPending: 64,
      ackWaitMs: 5_000,
      batchMaxMessages: 16,
      retryDelayMs: 200,
      maxDeliver: 3,
      lruSize: 10_000,
      decide: defaultDecideSettings,
      trust: defaultTrustSettings,
      breakerFailures: 2,
      breakerHalfOpenMs: 500,
      sourcesIntervalMs: 200,
      live: stores.live,
      history: stores.history,
      metrics,
      logger: quietLogger(),
      clock: systemClock,
      ...over,
    });
    workers.push(w);
    return { w, metrics, registry };
  }

  async function stopWorker(w: FusionWorker) {
    await w.stop();
    workers.splice(workers.indexOf(w), 1);
  }

  it('two members split the partitions, hand over on leave, and fuse a fleet exactly once', async () => {
    const stores = memoryStores();
    const a = await startWorker('a', stores);
    const b = await startWorker('b', stores);
    expect(await waitFor(() => a.w.owned.length + b.w.owned.length === PARTITIONS && a.w.owned.every((p) => !b.w.owned.includes(p)), 10_000)).toBe(true);
    expect(a.w.owned.length).toBeGreaterThan(0);
    expect(b.w.owned.length).toBeGreaterThan(0);

    const records = fleetRecords({ vessels: 300, reports: 5, sources: ['rx-a', 'rx-b'], start: Date.now() - 120_000 });
    const ref = fleetReference(records);
    const half = Math.floor(records.length / 2);
    await publishRecords(t.nc, t.names, PARTITIONS, records.slice(0, half));
    // b leaves mid-stream: a takes every partition at once (deleted key, no TTL wait)
    await stopWorker(b.w);
    expect(await waitFor(() => a.w.owned.length === PARTITIONS, 10_000)).toBe(true);
    await publishRecords(t.nc, t.names, PARTITIONS, records.slice(half));

    expect(await waitFor(() => stores.rows.size === ref.historyRows && [...ref.latest].every(([m, f]) => stores.states.get(m)?.ts === f.ts), 30_000)).toBe(true);
    expect(stores.states.size).toBe(ref.vessels);
    for (const [mmsi, fix] of ref.latest) expect(stores.states.get(mmsi)).toMatchObject({ ts: fix.ts, lat: fix.lat, lon: fix.lon });
    // every report heard by both receivers is one row crediting both
    expect([...stores.rows.values()].every((r) => r.sources.length === 2)).toBe(true);
    const outcomes = await a.registry.getSingleMetric('aisflow_fusion_records_total')!.get();
    const accepted = outcomes.values.find((v) => v.labels.outcome === 'accepted')!.value;
    expect(accepted).toBeGreaterThan(0);
    await stopWorker(a.w);
  });

  it('a member leaving while it drains a backlog leaves none of its messages waiting for the ack wait', async () => {
    // A stopped pull must not swallow messages: the server would count them as delivered until
    // the ack wait (a minute here) ran out, and with a small ack window the partition would stall
    // for that long. Everything must arrive well before.
    const stores = memoryStores();
    // slow enough writes that the leaving member has a full window on the wire when it stops
    const write = stores.history.writeBatch.bind(stores.history);
    stores.history.writeBatch = async (batch) => {
      await new Promise((r) => setTimeout(r, 20));
      return write(batch);
    };
    const over = { ackWaitMs: 60_000, maxAckPending: 8, batchMaxMessages: 2 };
    const a = await startWorker('drain-a', stores, over);
    const b = await startWorker('drain-b', stores, over);
    expect(await waitFor(() => a.w.owned.length + b.w.owned.length === PARTITIONS && b.w.owned.length > 0, 10_000)).toBe(true);
    const records = fleetRecords({ vessels: 200, reports: 10, sources: ['rx-a'], start: Date.now() - 300_000, baseMmsi: 511_000_000 });
    const ref = fleetReference(records);
    await publishRecords(t.nc, t.names, PARTITIONS, records, 5);
    await new Promise((r) => setTimeout(r, 150));
    expect(stores.rows.size).toBeLessThan(ref.historyRows); // b is still draining
    await stopWorker(b.w);
    expect(await waitFor(() => stores.rows.size === ref.historyRows, 20_000)).toBe(true);
    await stopWorker(a.w);
  });

  it('a store outage opens the breaker and pauses pulling; nothing is lost or dead-lettered', async () => {
    const stores = memoryStores();
    const { w, registry } = await startWorker('solo-outage', stores);
    stores.faults.down.postgres = true;
    const records = fleetRecords({ vessels: 50, reports: 3, sources: ['rx-a'], start: Date.now() - 60_000, baseMmsi: 311_000_000 });
    await publishRecords(t.nc, t.names, PARTITIONS, records);
    expect(await waitFor(() => w.readiness() !== true, 10_000)).toBe(true);
    const breaker = await registry.getSingleMetric('aisflow_fusion_breaker_state')!.get();
    expect(breaker.values.find((v) => v.labels.store === 'postgres')!.value).toBeGreaterThan(0);
    expect(stores.rows.size).toBe(0);
    stores.faults.down.postgres = false;
    const ref = fleetReference(records);
    expect(await waitFor(() => stores.rows.size === ref.historyRows && w.readiness() === true, 30_000)).toBe(true);
    for (const [mmsi, fix] of ref.latest) expect(stores.states.get(mmsi)?.ts).toBe(fix.ts);
    const dlq = await t.jsm.streams.info(t.names.dlqStream);
    expect(dlq.state.messages).toBe(0);
    await stopWorker(w);
  });

  it('a poison record is isolated and dead-lettered after max deliveries; the rest proceed', async () => {
    const stores = memoryStores();
    const { w } = await startWorker('solo-poison', stores);
    stores.faults.poisonMmsi = 411_000_003;
    const records = fleetRecords({ vessels: 10, reports: 2, sources: ['rx-a'], start: Date.now() - 60_000, baseMmsi: 411_000_000 });
    const garbage = { v: 1, key: 'bad', src: 'rx-a', rx: 'yesterday', mmsi: 411_000_001, type: 1, msg: {} } as unknown as (typeof records)[number];
    await publishRecords(t.nc, t.names, PARTITIONS, [...records, garbage], 100);
    // the poison vessel's 2 reports → DLQ; the schema-invalid record → DLQ at once
    expect(await waitFor(async () => (await t.jsm.streams.info(t.names.dlqStream)).state.messages === 3, 30_000)).toBe(true);
    expect(await waitFor(() => stores.rows.size === 18, 10_000)).toBe(true);
    expect([...stores.rows.values()].some((r) => r.mmsi === 411_000_003)).toBe(false);
    const js = jetstream(t.nc);
    const c = await js.consumers.get(t.names.dlqStream);
    const reasons: string[] = [];
    for (let i = 0; i < 3; i++) {
      const m = await c.next({ expires: 2_000 });
      if (m) reasons.push((m.json() as { reason: string }).reason);
    }
    expect(reasons.sort()).toEqual(['AISFLOW_ERR_FUSION_INVALID_RECORD', 'AISFLOW_ERR_STORE_UNRECOVERABLE', 'AISFLOW_ERR_STORE_UNRECOVERABLE']);
    await stopWorker(w);
  });

  it('demotes a spoofing source that jumps vessels across the ocean; the track stays on the honest source', async () => {
    const stores = memoryStores();
    const { w, registry } = await startWorker('solo-demote', stores);
    const start = Date.now() - 300_000;
    const records = spoofedFleet(511_000_000, start);
    await publishRecords(t.nc, t.names, PARTITIONS, records, 20);
    expect(await waitFor(() => [0, 1, 2, 3, 4].every((v) => stores.states.get(511_000_000 + v)?.ts === Math.floor((start + 190_000) / 1000) * 1000), 30_000)).toBe(true);
    for (let v = 0; v < 5; v++) {
      const s = stores.states.get(511_000_000 + v)!;
      expect(s.source).toBe('honest');
      expect(s.lat).toBeGreaterThan(53);
    }
    expect([...stores.rows.values()].filter((r) => r.sources.includes('spoofer'))).toEqual([]);
    expect(await waitFor(() => stores.sources.some((s) => s.id === 'spoofer' && s.state === 'demoted'), 10_000)).toBe(true);
    const demoted = await registry.getSingleMetric('aisflow_fusion_source_demoted')!.get();
    expect(demoted.values.find((v) => v.labels.source === 'spoofer')!.value).toBe(1);
    expect(stores.sources.find((s) => s.id === 'honest')!.state).toBe('trusted');
    await stopWorker(w);
  });

  it('publishes live updates on core NATS after the writes', async () => {
    const stores = memoryStores();
    const got: unknown[] = [];
    const sub = t.nc.subscribe(subjects.allUpdates(t.names), { callback: (_e, m) => void got.push(...(m.json() as unknown[])) });
    const { w } = await startWorker('solo-updates', stores);
    await publishRecords(t.nc, t.names, PARTITIONS, [positionRecord(611_000_001, Date.now() - 1_000, 1.5, 2.5, 'rx-a')]);
    expect(await waitFor(() => got.length > 0, 10_000)).toBe(true);
    expect(got[0]).toMatchObject({ mmsi: 611_000_001, lat: 1.5, lon: 2.5, source: 'rx-a' });
    sub.unsubscribe();
    await stopWorker(w);
  });
});
