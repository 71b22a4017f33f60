import type { LiveStateStore } from '../store/types.js';
import { memoryFromState, type VesselMemory } from './decide.js';

/**
 * Bounded LRU of what fusion remembers per vessel, so the common path reads nothing from Redis.
 * A Map keeps insertion order: re-inserting on access makes the first key the least recently
 * used. Misses are filled in one `readStates` call per batch.
 */
export class StateCache {
  private readonly entries = new Map<number, VesselMemory>();
  hits = 0;
  misses = 0;

  constructor(
    readonly maxEntries: number,
    private readonly hooks: { hit?(n: number): void; miss?(n: number): void } = {},
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer (got ${maxEntries})`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Without touching recency or counters (the planner reads through this after `load`). */
  peek(mmsi: number): VesselMemory | undefined {
    return this.entries.get(mmsi);
  }

  set(mmsi: number, memory: VesselMemory): void {
    this.entries.delete(mmsi);
    this.entries.set(mmsi, memory);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  delete(mmsi: number): void {
    this.entries.delete(mmsi);
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
      const found = this.entries.get(v.mmsi);
      if (found) {
        this.entries.delete(v.mmsi);
        this.entries.set(v.mmsi, found);
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
      if (this.entries.has(mmsi)) continue;
      this.set(mmsi, memoryFromState(states.get(mmsi) ?? null));
    }
  }
}
