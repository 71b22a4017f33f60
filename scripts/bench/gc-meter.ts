import { readFileSync } from 'node:fs';
import { GCProfiler } from 'node:v8';

/**
 * What a process allocated and collected so far. On this shared machine records/s and the p99
 * swing by 2x from one run to the next; bytes allocated per record and page faults per record
 * barely move, so they show whether a change made the work smaller.
 */
export interface GcTotals {
  /** heap bytes allocated, counted at each GC (what was allocated since the last one is not in yet) */
  allocatedBytes: number;
  /** how much the old generation grew during scavenges: young objects that lived long enough to move */
  promotedBytes: number;
  scavenges: number;
  markCompacts: number;
  /** main-thread time in GC (V8's cost of each GC and incremental marking step) */
  pauseMs: number;
  /** minor page faults of the whole process: fresh heap and malloc pages, ~12 µs each here */
  minorFaults: number;
}

type HeapSnapshot = { heapStatistics: { usedHeapSize: number }; heapSpaceStatistics: { spaceName: string; spaceUsedSize: number }[] };
type GcStatistic = { gcType: string; cost: number; beforeGC: HeapSnapshot; afterGC: HeapSnapshot };

const OLD_GENERATION = new Set(['old_space', 'large_object_space', 'code_space', 'code_large_object_space']);

function oldGeneration(s: HeapSnapshot): number {
  let bytes = 0;
  for (const space of s.heapSpaceStatistics) if (OLD_GENERATION.has(space.spaceName)) bytes += space.spaceUsedSize;
  return bytes;
}

/** Field 10 of /proc/self/stat (after the parenthesised name, which may hold spaces). */
function minorFaults(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
}

export class GcMeter {
  private readonly profiler = new GCProfiler();
  private readonly totals: Omit<GcTotals, 'minorFaults'> = { allocatedBytes: 0, promotedBytes: 0, scavenges: 0, markCompacts: 0, pauseMs: 0 };
  private usedAfterLastGc = 0;

  start(): void {
    this.usedAfterLastGc = process.memoryUsage().heapUsed;
    this.profiler.start();
  }

  /** The totals since `start`. The profiler reports only when stopped, so it is restarted. */
  read(): GcTotals {
    const { statistics } = this.profiler.stop() as unknown as { statistics: GcStatistic[] };
    this.profiler.start();
    for (const gc of statistics) {
      this.totals.allocatedBytes += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - this.usedAfterLastGc);
      this.usedAfterLastGc = gc.afterGC.heapStatistics.usedHeapSize;
      this.totals.pauseMs += gc.cost / 1000;
      if (gc.gcType === 'Scavenge') {
        this.totals.scavenges++;
        this.totals.promotedBytes += Math.max(0, oldGeneration(gc.afterGC) - oldGeneration(gc.beforeGC));
      } else if (gc.gcType === 'MarkSweepCompact') {
        this.totals.markCompacts++;
      }
    }
    return { ...this.totals, minorFaults: minorFaults() };
  }
}

/** `a + sign * b`, field by field: sums over fusion members, and differences between two reads. */
export function combineGc(a: GcTotals, b: GcTotals, sign: 1 | -1): GcTotals {
  const out = { ...a };
  for (const k of Object.keys(out) as (keyof GcTotals)[]) out[k] = a[k] + sign * b[k];
  return out;
}

/** The bench line: KB allocated and promoted, and page faults, per record; GC counts and pause share. */
export function formatGc(d: GcTotals, records: number, seconds: number): string {
  const perRecord = (bytes: number) => (bytes / 1024 / Math.max(1, records)).toFixed(1);
  return `${perRecord(d.allocatedBytes)} / ${perRecord(d.promotedBytes)} KB, ${(d.minorFaults / Math.max(1, records)).toFixed(2)}; ${d.scavenges}, ${d.markCompacts}, ${((d.pauseMs / 1000 / Math.max(1e-9, seconds)) * 100).toFixed(1)} %`;
}
