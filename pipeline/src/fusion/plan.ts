import type { AisRecordV1 } from '../shared/ais-record.js';
import type { FusedVesselState, HistoryRow, VesselUpsert } from '../store/types.js';
import type { FusionOutcome } from '../telemetry/metrics/fusion.js';
import { decideRecord, emptyMemory, validateRecord, type DecideContext, type DecideSettings, type TrustEffect, type VesselMemory } from './decide.js';
import type { TrustLevel } from './trust.js';

/**
 * Folds the decisions for one batch of records into store writes. PURE: reads memories through
 * `memoryOf` and returns the new ones in `memories`; the caller commits them (and the trust
 * effects) only after both stores took the batch, so a failed write leaves nothing half-applied.
 */
export interface PlannedRecord {
  record: unknown;
  partition: number;
}

export interface BatchPlan {
  outcomes: Partial<Record<FusionOutcome, number>>;
  /** one row per report key, crediting every source that heard it in this batch */
  history: HistoryRow[];
  /** sorted by mmsi so concurrent writers lock rows in the same order */
  vessels: VesselUpsert[];
  /** the newest state of each vessel whose live state changed */
  states: FusedVesselState[];
  /** receive time of the record behind each changed state, for the end-to-end latency */
  stateRx: Map<number, number>;
  memories: Map<number, VesselMemory>;
  /** trust effects, each with the index of its record in the batch (committed once per record) */
  trust: { effect: TrustEffect; index: number }[];
  invalid: { index: number; record: unknown; detail: string }[];
}

export function planBatch(
  records: readonly PlannedRecord[],
  memoryOf: (mmsi: number) => VesselMemory | undefined,
  options: { now: number; settings: DecideSettings; trustOf(source: string): TrustLevel },
): BatchPlan {
  const outcomes: Partial<Record<FusionOutcome, number>> = {};
  const history = new Map<string, HistoryRow>();
  const vessels = new Map<number, VesselUpsert>();
  const changed = new Set<number>();
  const stateRx = new Map<number, number>();
  const memories = new Map<number, VesselMemory>();
  const trust: BatchPlan['trust'] = [];
  const invalid: BatchPlan['invalid'] = [];

  // one context per partition, not one per record (a batch is one partition's, as a rule)
  let ctx: DecideContext = { now: options.now, partition: records[0]?.partition ?? 0, settings: options.settings, trustOf: options.trustOf };
  records.forEach(({ record, partition }, index) => {
    const problem = validateRecord(record);
    if (problem !== null) {
      outcomes.invalid = (outcomes.invalid ?? 0) + 1;
      invalid.push({ index, record, detail: problem });
      return;
    }
    const r = record as AisRecordV1;
    const memory = memories.get(r.mmsi) ?? memoryOf(r.mmsi) ?? emptyMemory;
    if (ctx.partition !== partition) ctx = { ...ctx, partition };
    const d = decideRecord(r, memory, ctx);
    outcomes[d.outcome] = (outcomes[d.outcome] ?? 0) + 1;
    if (d.memory !== memory) memories.set(r.mmsi, d.memory);
    if (d.trust) trust.push({ effect: d.trust, index });
    if (d.stateChanged) {
      changed.add(r.mmsi);
      stateRx.set(r.mmsi, r.rx);
    }
    if (d.history) {
      const existing = history.get(d.history.key);
      if (!existing) history.set(d.history.key, d.history);
      else if (!existing.sources.includes(r.src)) existing.sources = [...existing.sources, r.src];
    }
    if (d.heard && d.reportTs !== undefined) {
      let v = vessels.get(r.mmsi);
      if (!v) {
        v = { mmsi: r.mmsi, lastSeen: d.reportTs, fix: null, static: null, sources: [] };
        vessels.set(r.mmsi, v);
      }
      v.lastSeen = Math.max(v.lastSeen, d.reportTs);
      if (!v.sources.includes(r.src)) v.sources.push(r.src);
      if (d.staticFields) {
        v.static = !v.static
          ? { ts: d.staticFields.ts, fields: { ...d.staticFields.fields } }
          : d.staticFields.ts >= v.static.ts
            ? { ts: d.staticFields.ts, fields: { ...v.static.fields, ...d.staticFields.fields } }
            : { ts: v.static.ts, fields: { ...d.staticFields.fields, ...v.static.fields } };
      }
    }
  });

  const states: FusedVesselState[] = [];
  for (const mmsi of changed) {
    const state = memories.get(mmsi)?.state;
    if (state) states.push(state);
  }
  // Every heard vessel carries its live fix, changed in this batch or not: the vessels row keeps
  // only a newer fix, so this costs nothing when it is known, and a batch redelivered after a
  // Postgres failure (its records now duplicates of what fusion remembers) still writes the fix.
  for (const v of vessels.values()) {
    const state = (memories.get(v.mmsi) ?? memoryOf(v.mmsi))?.state;
    if (state && state.lat !== null && state.lon !== null) {
      v.fix = { ts: state.ts, lat: state.lat, lon: state.lon, speed: state.speed, course: state.course, heading: state.heading };
    }
  }
  return {
    outcomes,
    history: [...history.values()],
    vessels: [...vessels.values()].sort((a, b) => a.mmsi - b.mmsi),
    states,
    stateRx,
    memories,
    trust,
    invalid,
  };
}
