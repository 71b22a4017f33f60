import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDecideSettings } from '../../../pipeline/src/fusion/decide.js';
import { defaultTrustSettings } from '../../../pipeline/src/fusion/trust.js';
import { FusionWorker, type FusionWorkerOptions } from '../../../pipeline/src/fusion/worker.js';
import { systemClock } from '../../../pipeline/src/shared/clock.js';
import { openFusionStores, type OpenedStores } from '../../harness/fusion-stores.js';
import { fleetRecords, fleetReference, publishRecords, quietLogger, setupNats, spoofedFleet, testMetrics, uniqueId, waitFor, type FusionTestNats } from '../../harness/fusion.js';

/**
 * The fusion suite on the real stores, once on standalone Redis and once on the project's
 * 6-node Redis Cluster (the key layout's hash tags must keep every script call in one slot).
 */
const PARTITIONS = 8;

describe.each(['standalone', 'cluster'] as const)('fusion on the real stores (Redis %s + Postgres via PgBouncer)', (redisMode) => {
  let t: FusionTestNats;
  let stores: OpenedStores;
  const workers: FusionWorker[] = [];
  beforeAll(async () => {
    t = await setupNats(`rs${redisMode.slice(0, 2)}`);
    const id = uniqueId('');
    stores = await openFusionStores({ keyPrefix: `ftrs:${id}`, schemaTag: `rs_${id}`, redisMode });
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await stores?.cleanup();
    await t?.cleanup();
  });

  async function start(memberId: string, over: Partial<FusionWorkerOptions> = {}) {
    const { metrics, registry } = testMetrics();
    const w = await FusionWorker.start({
      nc: t.nc, names: t.names, partitions: PARTITIONS, memberId, heartbeatMs: 200, memberTtlMs: 1_500, maxAckPending: 64, ackWaitMs: 10_000,
      batchMaxMessages: 16, retryDelayMs: 300, maxDeliver: 3, lruSize: 50_000, decide: defaultDecideSettings, trust: defaultTrustSettings,
      breakerFailures: 3, breakerHalfOpenMs: 1_000, sourcesIntervalMs: 300, live: stores.live, history: stores.history, metrics, logger: quietLogger(), clock: systemClock,
      ...over,
    });
    workers.push(w);
    return { w, registry };
  }
  async function stop(w: FusionWorker) {
    await w.stop();
    workers.splice(workers.indexOf(w), 1);
  }

  it('two members on the same partitions end with exactly the reference: latest fixes, one row per report', async () => {
    const a = await start('a');
    // b joins with a cold LRU while a already owns everything: a hand-over under load
    const records = fleetRecords({ vessels: 400, reports: 5, sources: ['rx-a', 'rx-b'], start: Date.now() - 300_000, baseMmsi: 230_000_000 });
    const ref = fleetReference(records);
    const third = Math.floor(records.length / 3);
    await publishRecords(t.nc, t.names, PARTITIONS, records.slice(0, third), 40);
    const b = await start('b');
    await publishRecords(t.nc, t.names, PARTITIONS, records.slice(third, 2 * third), 40);
    await stop(a.w);
    await publishRecords(t.nc, t.names, PARTITIONS, records.slice(2 * third), 40);
    // redelivered as a whole: nothing may change
    await publishRecords(t.nc, t.names, PARTITIONS, records.slice(0, third), 40);

    const done = await waitFor(async () => (await stores.historyRowCount()) === ref.historyRows && (await stores.liveCount(PARTITIONS)) === ref.vessels, 60_000, 250);
    if (!done) expect({ rows: await stores.historyRowCount(), live: await stores.liveCount(PARTITIONS) }).toEqual({ rows: ref.historyRows, live: ref.vessels });
    const states = await stores.readAll([...ref.latest.keys()], PARTITIONS);
    const wrong = [...ref.latest].filter(([m, f]) => states.get(m)?.ts !== f.ts || states.get(m)?.lat !== f.lat);
    expect(wrong).toEqual([]);
    expect(await stores.vesselCount()).toBe(ref.vessels);
    await stop(b.w);
  });

  it('demotes a spoofer that jumps vessels across the ocean; the fused track stays on the honest source', async () => {
    const { w } = await start('demote');
    const start0 = Date.now() - 300_000;
    const records = spoofedFleet(231_000_000, start0);
    await publishRecords(t.nc, t.names, PARTITIONS, records, 20);
    const lastTs = Math.floor((start0 + 190_000) / 1000) * 1000;
    const mmsis = [0, 1, 2, 3, 4].map((v) => 231_000_000 + v);
    expect(await waitFor(async () => [...(await stores.readAll(mmsis, PARTITIONS)).values()].filter((s) => s.ts === lastTs).length === 5, 30_000, 200)).toBe(true);
    for (const s of (await stores.readAll(mmsis, PARTITIONS)).values()) {
      expect(s.source).toBe('honest');
      expect(s.lat).toBeGreaterThan(53);
    }
    expect(await waitFor(async () => {
      const views = await (stores.live as unknown as { readSources(): Promise<{ id: string; state: string }[]> }).readSources();
      return views.some((v) => v.id === 'spoofer' && v.state === 'demoted') && views.some((v) => v.id === 'honest' && v.state === 'trusted');
    }, 10_000)).toBe(true);
    await stop(w);
  });
});
