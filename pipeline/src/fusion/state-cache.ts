import type { FusedVesselState, LiveStateStore } from '../store/types.js';
import { memoryFromState, type RecentReport, type VesselMemory } from './decide.js';

/**
 * Bounded LRU of what fusion remembers per vessel, so the common path reads nothing from Redis.
 * A Map keeps insertion order: re-inserting on access makes the first key the least recently
 * used. Misses are filled in one `readStates` call per batch.
 *
 * Memory: a vessel is not kept as its VesselMemory object graph (a state, its sources array, a
 * recent list of report objects, each number boxed: ~800 bytes and a dozen heap objects per
 * vessel, which every full GC walks) but packed into slots: its numbers in one shared
 * Float64Array, its strings and the (shared, immutable) static and source arrays in plain
 * arrays indexed by slot. `peek` unpacks a fresh VesselMemory; decisions never mutate it.
 */
const NUMBERS = 9; // ts, lat, lon, speed, course, heading, status, msgType, partition
const INITIAL_SLOTS = 1024;

export class StateCache {
  private readonly slots = new Map<number, number>();
  private readonly free: number[] = [];
  private capacity = 0;
  private used = 0;
  /** per slot: NUMBERS state numbers, then firstRx and ts of each recent report (NaN: null) */
  private numbers = new Float64Array(0);
  /** per slot: the winning source; undefined when the vessel has no live state yet */
  private source: (string | undefined)[] = [];
  private sources: (readonly string[] | undefined)[] = [];
  private statics: VesselMemory['static'][] = [];
  private recentCount = new Uint8Array(0);
  /** per slot × recentReports: the record key and sources of each recent report */
  private recentReport: (string | undefined)[] = [];
  private recentSources: (readonly string[] | undefined)[] = [];
  /** one shared `[source]` array per source: most vessels and reports are heard by one receiver */
  private readonly single = new Map<string, readonly string[]>();
  private readonly stride: number;
  private readonly recentReports: number;
  hits = 0;
  misses = 0;

  constructor(
    readonly maxEntries: number,
    private readonly hooks: { hit?(n: number): void; miss?(n: number): void } = {},
    /** recent reports kept per vessel (DecideSettings.recentReports) @default 4 */
    options: { recentReports?: number } = {},
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer (got ${maxEntries})`);
    this.recentReports = options.recentReports ?? 4;
    if (!Number.isInteger(this.recentReports) || this.recentReports < 0 || this.recentReports > 255) throw new RangeError(`recentReports must be an integer in 0..255 (got ${this.recentReports})`);
    this.stride = NUMBERS + 2 * this.recentReports;
  }

  get size(): number {
    return this.slots.size;
  }

  /** Without touching recency or counters (the planner reads through this after `load`). */
  peek(mmsi: number): VesselMemory | undefined {
    const slot = this.slots.get(mmsi);
    return slot === undefined ? undefined : this.unpack(mmsi, slot);
  }

  set(mmsi: number, memory: VesselMemory): void {
    let slot = this.slots.get(mmsi);
    if (slot !== undefined) this.slots.delete(mmsi);
    else slot = this.allocate();
    this.slots.set(mmsi, slot);
    this.pack(slot, memory);
    while (this.slots.size > this.maxEntries) {
      const oldest = this.slots.entries().next().value;
      if (oldest === undefined) break;
      this.release(oldest[0], oldest[1]);
    }
  }

  delete(mmsi: number): void {
    const slot = this.slots.get(mmsi);
    if (slot !== undefined) this.release(mmsi, slot);
  }

  /**
   * Makes every listed vessel present: hits are refreshed, misses are read from the live store
   * (a vessel Redis does not know gets an empty memory). Counts one hit or miss per vessel.
   */
  async load(vessels: Iterable<{ mmsi: number; partition: number }>, store: Pick<LiveStateStore, 'readStates'>): Promise<void> {
    const missing = new Map<number, { mmsi: number; partition: number }>();
    let hits = 0;
    for (const v of vessels) {
      if (missing.has(v.mmsi)) continue;
      const slot = this.slots.get(v.mmsi);
      if (slot !== undefined) {
        this.slots.delete(v.mmsi);
        this.slots.set(v.mmsi, slot);
        hits++;
      } else missing.set(v.mmsi, v);
    }
    // a vessel listed twice counts once
    this.hits += hits;
    this.hooks.hit?.(hits);
    if (missing.size === 0) return;
    this.misses += missing.size;
    this.hooks.miss?.(missing.size);
    const states = await store.readStates([...missing.values()]);
    for (const mmsi of missing.keys()) {
      // another batch may have filled it while we waited: keep the newer
      if (this.slots.has(mmsi)) continue;
      this.set(mmsi, memoryFromState(states.get(mmsi) ?? null));
    }
  }

  private allocate(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    if (this.used === this.capacity) this.grow();
    return this.used++;
  }

  private grow(): void {
    const capacity = Math.min(Math.max(INITIAL_SLOTS, this.capacity * 2), this.maxEntries + 1);
    const numbers = new Float64Array(capacity * this.stride);
    numbers.set(this.numbers);
    this.numbers = numbers;
    const counts = new Uint8Array(capacity);
    counts.set(this.recentCount);
    this.recentCount = counts;
    this.capacity = capacity;
  }

  private release(mmsi: number, slot: number): void {
    this.slots.delete(mmsi);
    this.source[slot] = undefined;
    this.sources[slot] = undefined;
    this.statics[slot] = null;
    const r = slot * this.recentReports;
    for (let i = 0; i < this.recentReports; i++) {
      this.recentReport[r + i] = undefined;
      this.recentSources[r + i] = undefined;
    }
    this.recentCount[slot] = 0;
    this.free.push(slot);
  }

  private pack(slot: number, memory: VesselMemory): void {
    const n = this.numbers;
    const o = slot * this.stride;
    const s = memory.state;
    if (s) {
      n[o] = s.ts;
      n[o + 1] = s.lat ?? NaN;
      n[o + 2] = s.lon ?? NaN;
      n[o + 3] = s.speed ?? NaN;
      n[o + 4] = s.course ?? NaN;
      n[o + 5] = s.heading ?? NaN;
      n[o + 6] = s.status ?? NaN;
      n[o + 7] = s.msgType;
      n[o + 8] = s.partition;
      this.source[slot] = s.source;
      this.sources[slot] = this.shared(s.sources);
    } else {
      this.source[slot] = undefined;
      this.sources[slot] = undefined;
    }
    this.statics[slot] = memory.static;
    // the newest reports are at the end of the list: keep those
    const keep = Math.min(memory.recent.length, this.recentReports);
    const from = memory.recent.length - keep;
    const r = slot * this.recentReports;
    for (let i = 0; i < this.recentReports; i++) {
      const report = i < keep ? memory.recent[from + i]! : undefined;
      this.recentReport[r + i] = report?.report;
      this.recentSources[r + i] = report ? this.shared(report.sources) : undefined;
      if (report) {
        n[o + NUMBERS + 2 * i] = report.firstRx;
        n[o + NUMBERS + 2 * i + 1] = report.ts;
      }
    }
    this.recentCount[slot] = keep;
  }

  private shared(sources: readonly string[]): readonly string[] {
    if (sources.length !== 1) return sources;
    const known = this.single.get(sources[0]!);
    if (known) return known;
    // source ids are untrusted input: past a bound, arrays are simply not shared
    if (this.single.size < 10_000) this.single.set(sources[0]!, Object.freeze(sources));
    return sources;
  }

  private unpack(mmsi: number, slot: number): VesselMemory {
    const n = this.numbers;
    const o = slot * this.stride;
    const source = this.source[slot];
    const statics = this.statics[slot] ?? null;
    let state: FusedVesselState | null = null;
    if (source !== undefined) {
      state = {
        mmsi,
        partition: n[o + 8]!,
        ts: n[o]!,
        lat: orNull(n[o + 1]!),
        lon: orNull(n[o + 2]!),
        speed: orNull(n[o + 3]!),
        course: orNull(n[o + 4]!),
        heading: orNull(n[o + 5]!),
        status: orNull(n[o + 6]!),
        msgType: n[o + 7]!,
        source,
        sources: this.sources[slot] as string[],
        static: statics,
      };
    }
    const count = this.recentCount[slot]!;
    const recent: RecentReport[] = new Array<RecentReport>(count);
    const r = slot * this.recentReports;
    for (let i = 0; i < count; i++) {
      recent[i] = { report: this.recentReport[r + i]!, ts: n[o + NUMBERS + 2 * i + 1]!, firstRx: n[o + NUMBERS + 2 * i]!, sources: this.recentSources[r + i]! };
    }
    return { state, static: statics, recent };
  }
}

function orNull(v: number): number | null {
  return Number.isNaN(v) ? null : v;
}
