import type { StaticFields } from '../ais/types.js';
import type { AisRecordV1 } from '../shared/ais-record.js';
import type { FusionOutcome } from '../telemetry/metrics/fusion.js';
import type { FusedVesselState, HistoryRow } from '../store/types.js';
import type { TrustLevel, TrustPenalty } from './trust.js';

/**
 * The fusion decision for one record: PURE (no clock, no I/O). Given the record, what fusion
 * remembers about the vessel, the trust level of sources and `now`, it says what the record
 * does: move the live position, add a history row, merge static data, count for or against its
 * source. The batch planner (plan.ts) folds decisions into store writes.
 */

export interface DecideSettings {
  /** reports more than this ahead of `now` are rejected as `future` (clock skew bound), ms @default 60000 */
  maxFutureSkewMs: number;
  /** reports older than this are rejected as `stale`, ms @default 21600000 (6 h: satellite feeds lag) */
  maxAgeMs: number;
  /** fastest plausible vessel, knots @default 80 */
  maxSpeedKn: number;
  /** fastest plausible SAR aircraft (type 9), knots @default 600 */
  maxAircraftSpeedKn: number;
  /** jumps shorter than this are always plausible (GPS noise, position rounding), metres @default 500 */
  jitterM: number;
  /** a last fix older than this no longer judges plausibility (vessel may have sailed out of range), ms @default 1800000 */
  reanchorAfterMs: number;
  /** a trusted source's live state younger than this beats a demoted source's report, ms @default 180000 */
  trustedFreshMs: number;
  /** out of order by more than this counts as `late` against the source, ms @default 60000 */
  lateMs: number;
  /** a duplicate heard this long after the first copy counts as `late_duplicate`, ms @default 30000 */
  lateDuplicateMs: number;
  /** history keys remembered per vessel for duplicate detection (copies arrive within seconds; each costs ~150 bytes per vessel) @default 4 */
  recentReports: number;
  /** sources remembered in the live state @default 8 */
  maxStateSources: number;
}

export const defaultDecideSettings: DecideSettings = {
  maxFutureSkewMs: 60_000,
  maxAgeMs: 6 * 3_600_000,
  maxSpeedKn: 80,
  maxAircraftSpeedKn: 600,
  jitterM: 500,
  reanchorAfterMs: 30 * 60_000,
  trustedFreshMs: 180_000,
  lateMs: 60_000,
  lateDuplicateMs: 30_000,
  recentReports: 4,
  maxStateSources: 8,
};

export interface RecentReport {
  /**
   * the record key (payload hash); with `ts` it identifies the report for this vessel, as the
   * history key does. The LRU keeps this flat string from the parsed batch, where the history
   * key would be a concatenation (a rope of several strings) held for every remembered report.
   */
  report: string;
  /** report time (whole seconds, ms) */
  ts: number;
  /** receive time of the first copy */
  firstRx: number;
  sources: readonly string[];
}

/** What fusion remembers about one vessel (the LRU entry). Immutable: decisions return a new one. */
export interface VesselMemory {
  state: FusedVesselState | null;
  /** merged static data; also known before the first position (then `state` is null) */
  static: FusedVesselState['static'];
  recent: readonly RecentReport[];
}

export const emptyMemory: VesselMemory = { state: null, static: null, recent: [] };

/** Memory of a vessel whose live state was read from Redis (nothing recent known). */
export function memoryFromState(state: FusedVesselState | null): VesselMemory {
  return state ? { state, static: state.static, recent: [] } : emptyMemory;
}

export interface DecideContext {
  now: number;
  partition: number;
  settings: DecideSettings;
  /** trust level of a source, as of the start of the batch */
  trustOf(source: string): TrustLevel;
}

export type TrustEffect = { kind: 'accept'; source: string } | { kind: 'penalty'; source: string; penalty: TrustPenalty };

export interface Decision {
  outcome: FusionOutcome;
  /** why the record is invalid (outcome `invalid`) */
  detail?: string;
  memory: VesselMemory;
  /** refined report time, ms */
  reportTs?: number;
  history?: HistoryRow;
  /** the live state moved to `memory.state` */
  stateChanged: boolean;
  /** static fields this record contributes (only non-null values), with their report time */
  staticFields?: { ts: number; fields: StaticFields };
  /** the vessel was heard (for `vessels.last_seen`) */
  heard: boolean;
  trust: TrustEffect | null;
}

/** Message types that carry a vessel's (or SAR aircraft's) position. */
const positionTypes = new Set([1, 2, 3, 9, 18, 19, 27]);
/** Message types that carry static or voyage data. */
const staticTypes = new Set([5, 19, 24]);
const staticKeys = ['shipName', 'callsign', 'imo', 'shipType', 'toBow', 'toStern', 'toPort', 'toStarboard', 'draught', 'destination', 'eta'] as const;

/** A record key (docs/record-schema.md): ingest's 64-bit report hash; history stores it as a bigint. */
const RECORD_KEY = /^[0-9a-f]{16}$/;

/** Schema check of a record from the wire; a string says what is wrong. */
export function validateRecord(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'record is not an object';
  const r = value as Partial<AisRecordV1>;
  if (r.v !== 1) return `unknown record version ${JSON.stringify(r.v)}`;
  if (typeof r.key !== 'string' || r.key.length === 0) return 'key missing';
  if (!RECORD_KEY.test(r.key)) return `key ${JSON.stringify(r.key.slice(0, 40))} is not 16 lowercase hex digits`;
  if (typeof r.src !== 'string') return 'src missing';
  if (typeof r.rx !== 'number' || !Number.isFinite(r.rx)) return 'rx is not a number';
  // any 30-bit value: receivers do hear MMSIs beyond 9 digits (misconfigured transponders), and
  // they are still that transponder's identity
  if (!Number.isInteger(r.mmsi) || (r.mmsi as number) < 0 || (r.mmsi as number) > 0x3fff_ffff) return `mmsi ${JSON.stringify(r.mmsi)} out of range`;
  if (!Number.isInteger(r.type) || (r.type as number) < 1 || (r.type as number) > 27) return `type ${JSON.stringify(r.type)} out of range`;
  if (typeof r.msg !== 'object' || r.msg === null) return 'msg missing';
  return null;
}

/**
 * Report time from the receive time and the AIS UTC-second field: the latest time not after
 * `rx` (plus a small allowance for receiver clock noise) whose second-of-minute is `second`.
 * Reports reach receivers within seconds, so this recovers the transmit second and makes copies
 * heard by different receivers agree to the second. Without a usable second, rx to the second.
 */
export function reportTime(rx: number, second: unknown, clockNoiseMs = 5_000): number {
  const wholeSecond = Math.floor(rx / 1000) * 1000;
  if (typeof second !== 'number' || !Number.isInteger(second) || second < 0 || second > 59) return wholeSecond;
  let t = Math.floor(rx / 60_000) * 60_000 + second * 1000;
  if (t > rx + clockNoiseMs) t -= 60_000;
  return t;
}

/** History idempotency key: the same radio report gives the same key at every receiver and on every redelivery. */
export function historyKey(mmsi: number, reportTs: number, payloadKey: string): string {
  return `${mmsi}:${Math.floor(reportTs / 1000)}:${payloadKey}`;
}

const earthRadiusM = 6_371_008.8;
const metresPerSecondPerKnot = 1852 / 3600;

/** Great-circle distance, metres. */
export function distanceM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * earthRadiusM * Math.asin(Math.min(1, Math.sqrt(a)));
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function staticOf(msg: Record<string, unknown>): StaticFields | null {
  const fields: Record<string, unknown> = {};
  let any = false;
  for (const k of staticKeys) {
    const v = msg[k];
    if (v === null || v === undefined || v === '') continue;
    fields[k] = v;
    any = true;
  }
  return any ? (fields as StaticFields) : null;
}

/** Merges static fields: a newer report overwrites, an older one only fills gaps. */
export function mergeStatic(current: FusedVesselState['static'], fields: StaticFields, ts: number): NonNullable<FusedVesselState['static']> {
  if (!current) return { ...fields, updatedAt: ts };
  if (ts >= current.updatedAt) return { ...current, ...fields, updatedAt: ts };
  const filled: Record<string, unknown> = { ...current };
  for (const [k, v] of Object.entries(fields)) if (filled[k] === null || filled[k] === undefined) filled[k] = v;
  return filled as unknown as NonNullable<FusedVesselState['static']>;
}

function withSource(sources: readonly string[], source: string, max: number): string[] {
  // the common case (the same receiver again) keeps the array: states share it, never mutate it
  if (sources[0] === source && sources.length <= max) return sources as string[];
  return [source, ...sources.filter((s) => s !== source)].slice(0, max);
}

function remember(recent: readonly RecentReport[], report: RecentReport, max: number): RecentReport[] {
  // sized once: a slice and a push grew the copy's backing store on every record
  const keep = Math.max(0, Math.min(recent.length, max - 1));
  const next = new Array<RecentReport>(keep + 1);
  for (let i = 0; i < keep; i++) next[i] = recent[recent.length - keep + i]!;
  next[keep] = report;
  return next;
}

/**
 * Every decision has the same fields in the same order: one object shape for the planner, and
 * no object spread (spreading `base` into each result built a dictionary-mode object per record,
 * the larger part of the ~1.5 KB decideRecord allocated per record).
 */
function decision(
  outcome: FusionOutcome,
  memory: VesselMemory,
  reportTs: number | undefined,
  history: HistoryRow | undefined,
  stateChanged: boolean,
  staticFields: Decision['staticFields'],
  heard: boolean,
  trust: TrustEffect | null,
): Decision {
  return { outcome, memory, reportTs, history, stateChanged, staticFields, heard, trust };
}

export function decideRecord(record: AisRecordV1, memory: VesselMemory, ctx: DecideContext): Decision {
  const s = ctx.settings;
  const msg = record.msg as Record<string, unknown>;
  const isPosition = positionTypes.has(record.type);
  const isStatic = staticTypes.has(record.type);
  if (!isPosition && !isStatic) return decision('ignored', memory, undefined, undefined, false, undefined, false, null);

  const ts = reportTime(record.rx, msg.second);
  if (ts > ctx.now + s.maxFutureSkewMs) return decision('future', memory, ts, undefined, false, undefined, false, { kind: 'penalty', source: record.src, penalty: 'bad_time' });
  if (ctx.now - ts > s.maxAgeMs) return decision('stale', memory, ts, undefined, false, undefined, false, { kind: 'penalty', source: record.src, penalty: 'late' });

  // static and voyage data merge into the vessel record whatever happens to the position
  const fields = isStatic ? staticOf(msg) : null;
  const staticFields = fields ? { ts, fields } : undefined;
  let state = memory.state;
  let staticChanged = false;
  if (fields) {
    const merged = mergeStatic(memory.static, fields, ts);
    staticChanged = state !== null;
    state = state ? { ...state, static: merged } : null;
    memory = { state, static: merged, recent: memory.recent };
  }

  const lat = num(msg.lat);
  const lon = num(msg.lon);
  const hasFix = isPosition && lat !== null && lon !== null && Math.abs(lat) <= 90 && Math.abs(lon) <= 180;
  if (!hasFix) {
    // static only (or a position report without a position): the live state changes only if it
    // exists; static data seen before the first fix waits in memory.static
    return decision(fields ? 'static_merged' : 'ignored', memory, ts, undefined, staticChanged, staticFields, fields !== null, null);
  }

  const key = historyKey(record.mmsi, ts, record.key);
  // one array for the row and the remembered report: neither is ever mutated
  const heardBy = [record.src];
  const row: HistoryRow = {
    key,
    report: record.key,
    mmsi: record.mmsi,
    ts,
    lat,
    lon,
    speed: num(msg.speed),
    course: num(msg.course),
    heading: num(msg.heading),
    status: num(msg.status),
    msgType: record.type,
    sources: heardBy,
  };

  // the same report again (another receiver heard it, or a redelivery): the same report time
  // (whole seconds, as in the history key) and payload hash
  let seen: RecentReport | undefined;
  for (const r of memory.recent) {
    if (r.ts === ts && r.report === record.key) {
      seen = r;
      break;
    }
  }
  if (seen) {
    const late = record.rx - seen.firstRx > s.lateDuplicateMs && !seen.sources.includes(record.src);
    const recent = memory.recent.map((r) => (r === seen ? { ...r, sources: r.sources.includes(record.src) ? r.sources : [...r.sources, record.src] } : r));
    const trust: TrustEffect = late ? { kind: 'penalty', source: record.src, penalty: 'late_duplicate' } : { kind: 'accept', source: record.src };
    return decision('duplicate', { state: memory.state, static: memory.static, recent }, ts, row, staticChanged, staticFields, true, trust);
  }

  const maxKn = record.type === 9 ? s.maxAircraftSpeedKn : s.maxSpeedKn;
  const sourceLevel = ctx.trustOf(record.src);
  if (state && state.lat !== null && state.lon !== null) {
    const dtMs = Math.abs(ts - state.ts);
    if (dtMs <= s.reanchorAfterMs) {
      const dist = distanceM(state.lat, state.lon, lat, lon);
      const impliedKn = dist / Math.max(1, dtMs / 1000) / metresPerSecondPerKnot;
      // a jump from a fix a demoted source set is not held against a trusted source: re-anchor
      const anchorDistrusted = ctx.trustOf(state.source) !== 'trusted' && sourceLevel === 'trusted';
      if (dist > s.jitterM && impliedKn > maxKn && !anchorDistrusted) {
        return decision('implausible', memory, ts, undefined, staticChanged, staticFields, false, { kind: 'penalty', source: record.src, penalty: 'implausible' });
      }
    }
  }

  const recent = remember(memory.recent, { report: record.key, ts, firstRx: record.rx, sources: heardBy }, s.recentReports);

  if (state && ts < state.ts) {
    // history keeps it; the live position never moves backwards
    const late = state.ts - ts > s.lateMs;
    const trust: TrustEffect = late ? { kind: 'penalty', source: record.src, penalty: 'late' } : { kind: 'accept', source: record.src };
    return decision('out_of_order', { state, static: memory.static, recent }, ts, row, staticChanged, staticFields, true, trust);
  }

  if (sourceLevel !== 'trusted' && state && ctx.trustOf(state.source) === 'trusted' && ts - state.ts < s.trustedFreshMs) {
    // a demoted source wins only when no trusted source has a fresh report
    return decision('demoted_source', { state, static: memory.static, recent }, ts, row, staticChanged, staticFields, true, { kind: 'accept', source: record.src });
  }

  const next: FusedVesselState = {
    mmsi: record.mmsi,
    partition: ctx.partition,
    ts,
    lat,
    lon,
    speed: row.speed,
    course: row.course,
    heading: row.heading,
    status: row.status,
    msgType: record.type,
    source: record.src,
    sources: withSource(state?.sources ?? [], record.src, s.maxStateSources),
    static: memory.static,
  };
  return decision('accepted', { state: next, static: memory.static, recent }, ts, row, true, staticFields, true, { kind: 'accept', source: record.src });
}
