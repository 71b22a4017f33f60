import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDecideSettings } from '../../../pipeline/src/fusion/decide.js';
import { defaultTrustSettings } from '../../../pipeline/src/fusion/trust.js';
import { FusionWorker } from '../../../pipeline/src/fusion/worker.js';
import { systemClock } from '../../../pipeline/src/shared/clock.js';
import { openFusionStores, type OpenedStores } from '../../harness/fusion-stores.js';
import { privatePgBouncer, privateRedis, type PrivateService } from '../../harness/fusion-services.js';
import { fleetRecords, fleetReference, publishRecords, quietLogger, setupNats, testMetrics, uniqueId, waitFor, type FusionTestNats } from '../../harness/fusion.js';

/**
 * Store outages with the real stores, each store stopped for 10 s. The shared Postgres cannot be
 * stopped, so the test runs its own PgBouncer in front of it and stops that process: to fusion
 * that is exactly a Postgres outage (connections refused, in-flight ones cut). Redis is a private
 * redis-server (append-only file, so a restart keeps its data) stopped by its PID, or filled.
 */
const PARTITIONS = 4;

describe('fusion through store outages (real stores; private PgBouncer and redis-server)', () => {
  let t: FusionTestNats;
  let bouncer: PrivateService;
  let redis: PrivateService;
  let stores: OpenedStores;
  beforeAll(async () => {
    t = await setupNats('out');
    [bouncer, redis] = await Promise.all([privatePgBouncer(), privateRedis()]);
    const id = uniqueId('');
    stores = await openFusionStores({ keyPrefix: `ftout:${id}`, schemaTag: `out_${id}`, postgresUrl: bouncer.url, redisUrl: redis.url });
  });
  afterAll(async () => {
    await stores?.cleanup();
    await bouncer?.destroy();
    await redis?.destroy();
    await t?.cleanup();
  });

  /**
   * A store stopped (connections refused, in-flight ones cut), or Redis full: with `maxmemory`
   * and `noeviction` (as the operator runs it) every write is refused with an `OOM` reply, which
   * must count as an outage, not as a bad batch bound for the DLQ.
   */
  interface Outage {
    store: 'postgres' | 'redis';
    base: number;
    begin(): Promise<void>;
    end(): Promise<void>;
  }
  const outages: Record<string, () => Outage> = {
    'postgres down for 10 s': () => ({ store: 'postgres', base: 219_000_000, begin: () => bouncer.stop(), end: () => bouncer.start() }),
    'redis down for 10 s': () => ({ store: 'redis', base: 229_000_000, begin: () => redis.stop(), end: () => redis.start() }),
    'redis full for 10 s (maxmemory below its use, noeviction)': () => {
      const admin = new Redis(redis.url);
      return {
        store: 'redis',
        base: 239_000_000,
        async begin() {
          const used = Number(/^used_memory:(\d+)/m.exec(await admin.info('memory'))![1]);
          await admin.config('SET', 'maxmemory-policy', 'noeviction');
          await admin.config('SET', 'maxmemory', String(Math.floor(used / 2)));
        },
        async end() {
          await admin.config('SET', 'maxmemory', '0');
          admin.disconnect();
        },
      };
    },
  };

  it.each(Object.keys(outages))('%s: the breaker opens, pulling stops, and afterwards nothing is lost or doubled', { timeout: 200_000 }, async (name) => {
    const { store, base, begin, end } = outages[name]!();
    const { metrics, registry } = testMetrics();
    const worker = await FusionWorker.start({
      nc: t.nc, names: t.names, partitions: PARTITIONS, memberId: `outage-${base}`, heartbeatMs: 300, memberTtlMs: 2_000, maxAckPending: 64, ackWaitMs: 20_000,
      batchMaxMessages: 16, retryDelayMs: 500, maxDeliver: 3, lruSize: 10_000, decide: defaultDecideSettings, trust: defaultTrustSettings,
      breakerFailures: 2, breakerHalfOpenMs: 1_000, sourcesIntervalMs: 500, live: stores.live, history: stores.history, metrics, logger: quietLogger(), clock: systemClock,
    });
    try {
      const records = fleetRecords({ vessels: 200, reports: 6, sources: ['rx-a', 'rx-b'], start: Date.now() - 300_000, baseMmsi: base });
      const rowsBefore = await stores.historyRowCount();
      const ref = fleetReference(records);
      const half = Math.floor(records.length / 2);
      await publishRecords(t.nc, t.names, PARTITIONS, records.slice(0, half), 40);
      expect(await waitFor(async () => (await stores.historyRowCount()) - rowsBefore >= ref.historyRows / 2 - 200, 30_000, 200)).toBe(true);

      await begin();
      const downAt = Date.now();
      await publishRecords(t.nc, t.names, PARTITIONS, records.slice(half), 40);
      expect(await waitFor(() => worker.readiness() !== true, 10_000)).toBe(true);
      const breaker = await registry.getSingleMetric('aisflow_fusion_breaker_state')!.get();
      expect(breaker.values.find((v) => v.labels.store === store)!.value).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - downAt))));
      // nothing was given up as a bad record meanwhile
      expect((await t.jsm.streams.info(t.names.dlqStream)).state.messages).toBe(0);
      await end();

      // both stores: a batch whose Redis write failed may already be in Postgres (the writes run
      // in parallel), and is retried until Redis has it too
      const caughtUp = async () => {
        if ((await stores.historyRowCount()) - rowsBefore !== ref.historyRows || worker.readiness() !== true) return false;
        const states = await stores.readAll([...ref.latest.keys()], PARTITIONS);
        return [...ref.latest].every(([m, f]) => states.get(m)?.ts === f.ts);
      };
      expect(await waitFor(caughtUp, 120_000, 250)).toBe(true);
      const states = await stores.readAll([...ref.latest.keys()], PARTITIONS);
      const wrong = [...ref.latest].filter(([m, f]) => states.get(m)?.ts !== f.ts || states.get(m)?.lat !== f.lat);
      expect(wrong.map(([m]) => m)).toEqual([]);
      expect((await t.jsm.streams.info(t.names.dlqStream)).state.messages).toBe(0);
      const errors = await registry.getSingleMetric('aisflow_fusion_store_errors_total')!.get();
      expect(errors.values.find((v) => v.labels.store === store)!.value).toBeGreaterThan(0);
    } finally {
      await worker.stop();
    }
  });
});
