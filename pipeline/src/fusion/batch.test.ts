import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { circuitBreaker, ConsecutiveBreaker, handleAll } from 'cockatiel';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { memoryStores } from '../../../test/harness/fusion-memory-stores.js';
import { quietLogger, testMetrics } from '../../../test/harness/fusion.js';
import { fnv1a64 } from '../ingest/record.js';
import type { AisBatchV1, AisRecordV1 } from '../shared/ais-record.js';
import type { Clock } from '../shared/clock.js';
import { BatchProcessor } from './batch.js';
import { defaultDecideSettings } from './decide.js';
import { StateCache } from './state-cache.js';
import { defaultTrustSettings, TrustTable } from './trust.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const names = { stream: 'S', dlqStream: 'S_DLQ', prefix: 'p' };
const pos = (mmsi: number, rx: number, src: string, key: string): AisRecordV1 => ({
  v: 1, key: fnv1a64(key), src, rx, mmsi, type: 1, msg: { type: 1, repeat: 0, mmsi, lat: 52, lon: 4, speed: 5, course: 1, heading: 1, status: 0, second: null },
});

/** A full garbage collection, without starting the test process with --expose-gc. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** A JetStream message as the consumer hands it over: body, sequence, delivery count, ack/nak. */
function fakeMsg(seq: number, deliveryCount: number, records: AisRecordV1[], log: string[]): JsMsg {
  const body: AisBatchV1 = { v: 1, partition: 0, records };
  const data = JSON.stringify(body);
  return {
    info: { streamSequence: seq, deliveryCount, timestampNanos: T0 * 1e6 },
    headers: undefined,
    data: new TextEncoder().encode(data),
    json: () => JSON.parse(data) as unknown,
    string: () => data,
    ack: () => log.push(`ack ${seq}/${deliveryCount}`),
    nak: () => log.push(`nak ${seq}/${deliveryCount}`),
  } as unknown as JsMsg;
}

function setup(options: { maxInFlightBytes?: number; postgresLingerMs?: number } = {}) {
  let now = T0 + 60_000;
  const clock: Clock = { now: () => now };
  const stores = memoryStores();
  const trust = new TrustTable(defaultTrustSettings);
  const published: string[] = [];
  const nc = { publish: (_subject: string, data: string) => published.push(data) } as unknown as NatsConnection;
  const metrics = testMetrics();
  const breaker = () => circuitBreaker(handleAll, { halfOpenAfter: 1_000, breaker: new ConsecutiveBreaker(100) });
  const processor = new BatchProcessor({
    live: stores.live, history: stores.history, nc, js: {} as JetStreamClient, names, metrics: metrics.metrics, logger: quietLogger(), clock,
    cache: new StateCache(1_000), trust, decide: defaultDecideSettings, redisBreaker: breaker(), postgresBreaker: breaker(), maxDeliver: 5, retryDelayMs: 0,
    ...options,
  });
  return { processor, stores, trust, published, registry: metrics.registry, advance: (ms: number) => (now += ms), now: () => now };
}

/** Holds every Postgres write of the memory stores until the returned function is called. */
function holdPostgres(stores: ReturnType<typeof memoryStores>): () => void {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const write = stores.history.writeBatch.bind(stores.history);
  stores.history.writeBatch = async (batch) => {
    await gate;
    return write(batch);
  };
  return release;
}

describe('BatchProcessor', () => {
  it('counts trust effects once when a written message is delivered again, even 40 s later', async () => {
    const { processor, trust, advance, now } = setup();
    const log: string[] = [];
    const records = [pos(1, T0, 'rx', 'a'), pos(2, T0, 'rx', 'b'), pos(3, T0, 'rx', 'c')];
    await processor.handle(0, [fakeMsg(7, 1, records, log)]);
    await processor.settled(0);
    // the ack was lost (or the ack wait expired while the message waited): JetStream redelivers
    advance(40_000);
    await processor.handle(0, [fakeMsg(7, 2, records, log)]);
    await processor.settled(0);
    expect(log).toEqual(['ack 7/1', 'ack 7/2']);
    const view = trust.views(now()).find((v) => v.id === 'rx')!;
    // a second count would be 6 accepted, or a late_duplicate penalty for each copy
    expect(view.accepted).toBe(3);
    expect(view.rejected).toBe(0);
    expect(view.score).toBe(1);
  });

  it('a message whose Postgres write failed after Redis took it: trust counted once, history and vessel fix written on redelivery', async () => {
    const { processor, stores, trust, now } = setup();
    const log: string[] = [];
    const records = [pos(1, T0, 'rx', 'a'), pos(2, T0, 'rx', 'b')];
    stores.faults.down.postgres = true;
    await processor.handle(0, [fakeMsg(3, 1, records, log)]);
    await processor.settled(0);
    expect(stores.states.size).toBe(2); // Redis took it
    stores.faults.down.postgres = false;
    await processor.handle(0, [fakeMsg(3, 2, records, log)]);
    await processor.settled(0);
    expect(log).toEqual(['nak 3/1', 'ack 3/2']);
    expect(trust.views(now()).find((v) => v.id === 'rx')!.accepted).toBe(2);
    expect([...stores.rows.values()].map((r) => r.mmsi).sort()).toEqual([1, 2]);
    // the redelivered records are duplicates of what fusion remembers; the vessel rows still get the fix
    expect([1, 2].map((m) => stores.vessels.get(m)?.fix?.ts)).toEqual([T0, T0]);
  });

  it('static-only data reaches the live state at once when the vessel already has a position', async () => {
    const { processor, stores, published } = setup();
    const log: string[] = [];
    await processor.handle(0, [fakeMsg(1, 1, [pos(42, T0, 'rx', 'a')], log)]);
    const voyage: AisRecordV1 = { v: 1, key: fnv1a64('v5'), src: 'rx', rx: T0 + 2_000, mmsi: 42, type: 5, msg: { type: 5, repeat: 0, mmsi: 42, shipName: 'AURORA', callsign: 'PD1234', destination: 'ROTTERDAM' } as AisRecordV1['msg'] };
    await processor.handle(0, [fakeMsg(2, 1, [voyage], log)]);
    await processor.settled(0);
    expect(log).toEqual(['ack 1/1', 'ack 2/1']);
    const live = stores.states.get(42)!;
    expect([live.ts, live.lat, live.static?.shipName, live.static?.destination]).toEqual([T0, 52, 'AURORA', 'ROTTERDAM']);
    expect((JSON.parse(published.at(-1)!) as { mmsi: number; name: string }[])[0]).toMatchObject({ mmsi: 42, name: 'AURORA' });
  });

  it('publishes the live update and takes the next batch once Redis has the state; acks after Postgres', async () => {
    const { processor, stores, published } = setup();
    const log: string[] = [];
    const releasePostgres = holdPostgres(stores);
    await processor.handle(0, [fakeMsg(1, 1, [pos(42, T0, 'rx', 'a')], log)]);
    expect(published.map((p) => (JSON.parse(p) as { mmsi: number }[]).map((u) => u.mmsi))).toEqual([[42]]);
    expect(log).toEqual([]); // not acked before Postgres has it
    releasePostgres();
    await processor.settled(0);
    expect(log).toEqual(['ack 1/1']);
  });

  it('lets go of the memories a batch committed to the LRU while its Postgres write is still pending', async () => {
    const { processor, stores } = setup();
    const cache = (processor as unknown as { d: { cache: StateCache } }).d.cache;
    // the memories the batch commits to the LRU, which packs them: only the batch's plan refers to
    // them (the misses loaded first are the shared empty memory, with no state)
    const committed: WeakRef<object>[] = [];
    const set = cache.set.bind(cache);
    cache.set = (mmsi, memory) => {
      if (memory.state) committed.push(new WeakRef(memory));
      set(mmsi, memory);
    };
    const releasePostgres = holdPostgres(stores);
    await processor.handle(0, [fakeMsg(1, 1, [pos(42, T0, 'rx', 'a'), pos(43, T0, 'rx', 'b')], [])]);
    // in Redis, not yet in Postgres; WeakRef targets stay alive until the current job ends
    await new Promise((r) => setImmediate(r));
    collectGarbage();
    expect(committed).toHaveLength(2);
    expect(committed.map((ref) => ref.deref())).toEqual([undefined, undefined]);
    releasePostgres();
    await processor.settled(0);
  });

  it('holds the next batch of any partition while the in-flight byte budget is taken, until an ack frees it', async () => {
    const first = fakeMsg(1, 1, [pos(42, T0, 'rx', 'a')], []);
    const { processor, stores, published, registry } = setup({ maxInFlightBytes: first.data.length + 10 });
    const metric = async (name: string) => (await registry.getSingleMetric(name)!.get()).values[0]?.value;
    const log: string[] = [];
    const releasePostgres = holdPostgres(stores);
    // the first batch fits the budget; it goes to Redis and waits for Postgres
    await processor.handle(0, [fakeMsg(1, 1, [pos(42, T0, 'rx', 'a')], log)]);
    // another partition's batch does not fit beside it: not even parsed until the ack
    let secondDone = false;
    const second = processor.handle(1, [fakeMsg(2, 1, [pos(43, T0, 'rx', 'b')], log)]).then(() => (secondDone = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(secondDone).toBe(false);
    expect(published).toHaveLength(1);
    expect(await metric('aisflow_fusion_in_flight_bytes')).toBe(first.data.length);
    expect(await metric('aisflow_fusion_admission_waits_total')).toBe(1);
    releasePostgres();
    await second;
    await processor.settled(1);
    expect(log).toEqual(['ack 1/1', 'ack 2/1']);
    expect(published).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 0)); // the release runs after the ack
    expect(await metric('aisflow_fusion_in_flight_bytes')).toBe(0);
  });

  it('merges small Postgres writes that arrive within the linger into one transaction; without it, writes them one by one', async () => {
    for (const [postgresLingerMs, transactions] of [
      [200, 1],
      [0, 3],
    ] as const) {
      const { processor, stores } = setup({ postgresLingerMs });
      const writes: number[] = [];
      const write = stores.history.writeBatch.bind(stores.history);
      stores.history.writeBatch = async (batch) => {
        writes.push(batch.history.length);
        return write(batch);
      };
      const log: string[] = [];
      // three partitions' batches, each in Redis at once; none big enough to go alone
      for (const p of [0, 1, 2]) await processor.handle(p, [fakeMsg(p + 1, 1, [pos(100 + p, T0, 'rx', `m${p}`)], log)]);
      // lingering: not written yet, so not acked
      if (postgresLingerMs > 0) expect(log).toEqual([]);
      for (const p of [0, 1, 2]) await processor.settled(p);
      expect(log.sort()).toEqual(['ack 1/1', 'ack 2/1', 'ack 3/1']);
      expect(writes).toHaveLength(transactions);
      expect(writes.reduce((a, b) => a + b, 0)).toBe(3);
    }
  });

  it('takes a batch larger than the whole budget when nothing else is in flight', async () => {
    const { processor } = setup({ maxInFlightBytes: 16 });
    const log: string[] = [];
    await processor.handle(0, [fakeMsg(1, 1, [pos(42, T0, 'rx', 'a'), pos(43, T0, 'rx', 'b')], log)]);
    await processor.settled(0);
    expect(log).toEqual(['ack 1/1']);
  });

  it('counts vessel upserts the store leaves out (MMSI 0, ten digits); their history rows stay', async () => {
    const { processor, stores, registry } = setup();
    const log: string[] = [];
    await processor.handle(0, [fakeMsg(9, 1, [pos(0, T0, 'rx', 'z'), pos(1_012_345_678, T0, 'rx', 'y'), pos(244_000_001, T0, 'rx', 'x')], log)]);
    await processor.settled(0);
    expect(log).toEqual(['ack 9/1']);
    const rejected = (await registry.getSingleMetric('aisflow_fusion_vessels_rejected_total')!.get()).values;
    expect(rejected).toEqual([expect.objectContaining({ labels: { reason: 'invalid_mmsi' }, value: 2 })]);
    expect(stores.rows.size).toBe(3);
    expect([...stores.vessels.keys()]).toEqual([244_000_001]);
  });
});
