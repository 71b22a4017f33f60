import { RetryableStoreError, UnrecoverableStoreError } from '../../pipeline/src/store/errors.js';
import { staticVersion } from '../../pipeline/src/store/redis/live-state.js';
import type { FusedVesselState, HistoryRow, HistoryStore, LiveStateStore, SourceTrustView, VesselUpsert } from '../../pipeline/src/store/types.js';
import { isValidMmsi } from '../../pipeline/src/store/mmsi.js';

/**
 * In-process implementations of the store contract with the contract's semantics (newer `ts`
 * wins, history idempotent by key with sources merged) and fault injection, for the tests of
 * fusion's own orchestration: ack only after both writes, breaker pause, poison isolation,
 * hand-over. The same scenarios run against the real Redis and Postgres stores elsewhere.
 */
export interface Faults {
  /** throw RetryableStoreError from this store while true */
  down: { redis: boolean; postgres: boolean };
  /** throw UnrecoverableStoreError when a history row of this MMSI is in the batch */
  poisonMmsi: number | null;
}

export function memoryStores() {
  const states = new Map<number, FusedVesselState>();
  const rows = new Map<string, HistoryRow>();
  const vessels = new Map<number, VesselUpsert>();
  let sources: SourceTrustView[] = [];
  const faults: Faults = { down: { redis: false, postgres: false }, poisonMmsi: null };
  let historyInsertAttempts = 0;

  const live: LiveStateStore = {
    async writeStates(list) {
      if (faults.down.redis) throw new RetryableStoreError('redis', 'injected outage');
      let written = 0;
      let stale = 0;
      for (const s of list) {
        const cur = states.get(s.mmsi);
        // as in the Redis CAS: the position half only with a newer ts (ties lose), the static
        // half only with a higher version, each whatever the other did
        const newerStatic = s.static !== null && (!cur?.static || staticVersion(s.static) > staticVersion(cur.static));
        if (cur && cur.ts >= s.ts) {
          if (newerStatic) {
            states.set(s.mmsi, { ...cur, static: structuredClone(s.static) });
            written++;
          } else stale++;
        } else {
          states.set(s.mmsi, { ...structuredClone(s), static: newerStatic || !cur ? structuredClone(s.static) : cur.static });
          written++;
        }
      }
      return { written, stale };
    },
    async writeSources(list) {
      if (faults.down.redis) throw new RetryableStoreError('redis', 'injected outage');
      sources = structuredClone([...list]);
    },
    async readStates(list) {
      if (faults.down.redis) throw new RetryableStoreError('redis', 'injected outage');
      return new Map(list.flatMap((v) => (states.has(v.mmsi) ? [[v.mmsi, structuredClone(states.get(v.mmsi)!)] as const] : [])));
    },
    async close() {},
  };

  const history: HistoryStore = {
    async writeBatch(batch) {
      if (faults.down.postgres) throw new RetryableStoreError('postgres', 'injected outage');
      if (faults.poisonMmsi !== null && batch.history.some((h) => h.mmsi === faults.poisonMmsi)) {
        throw new UnrecoverableStoreError('postgres', `injected bad value for ${faults.poisonMmsi}`);
      }
      let inserted = 0;
      for (const h of batch.history) {
        historyInsertAttempts++;
        const cur = rows.get(h.key);
        if (cur) cur.sources = [...new Set([...cur.sources, ...h.sources])];
        else {
          rows.set(h.key, structuredClone(h));
          inserted++;
        }
      }
      let rejected = 0;
      for (const v of batch.vessels) {
        // as the Postgres store: no vessels row for a number many transmitters share
        if (!isValidMmsi(v.mmsi)) {
          rejected++;
          continue;
        }
        const cur = vessels.get(v.mmsi);
        vessels.set(v.mmsi, {
          mmsi: v.mmsi,
          lastSeen: Math.max(cur?.lastSeen ?? 0, v.lastSeen),
          fix: !cur?.fix || (v.fix && v.fix.ts > cur.fix.ts) ? v.fix : cur.fix,
          static: v.static ?? cur?.static ?? null,
          sources: [...new Set([...(cur?.sources ?? []), ...v.sources])],
        });
      }
      return { historyInserted: inserted, vesselsUpserted: batch.vessels.length - rejected, vesselsRejected: rejected };
    },
    async close() {},
  };

  return {
    live,
    history,
    faults,
    states,
    rows,
    vessels,
    get sources() {
      return sources;
    },
    get historyInsertAttempts() {
      return historyInsertAttempts;
    },
  };
}
