import { describe, expect, it } from 'vitest';
import { combineGc, formatGc, GcMeter, type GcTotals } from '../../scripts/bench/gc-meter.js';

const totals = (n: number): GcTotals => ({ allocatedBytes: n * 1024, promotedBytes: n * 512, scavenges: n, markCompacts: n, pauseMs: n * 10, minorFaults: n * 3 });

describe('GcMeter (bench:fusion figures)', () => {
  it('counts the bytes a burst of short-lived objects allocated, the scavenges it took, and what survived', () => {
    const meter = new GcMeter();
    meter.start();
    const before = meter.read();
    const kept: number[][] = [];
    let sink = 0;
    // ~64 MB of small arrays, far past the largest semi-space (16 MB): several scavenges
    for (let i = 0; i < 400_000; i++) {
      const a = new Array<number>(16).fill(i);
      sink += a[3]!;
      if (i % 100 === 0) kept.push(a);
    }
    const after = meter.read();
    const d = combineGc(after, before, -1);
    expect(sink).toBeGreaterThan(0);
    expect(d.scavenges).toBeGreaterThan(0);
    expect(d.allocatedBytes).toBeGreaterThan(32 * 1024 * 1024);
    expect(d.pauseMs).toBeGreaterThan(0);
    expect(d.minorFaults).toBeGreaterThanOrEqual(0);
    expect(kept.length).toBe(4_000);
  });

  it('sums members and takes differences field by field', () => {
    expect(combineGc(totals(3), totals(1), 1)).toEqual(totals(4));
    expect(combineGc(totals(3), totals(1), -1)).toEqual(totals(2));
  });

  it('prints per-record figures and the share of the phase spent in GC', () => {
    expect(formatGc(totals(2), 1, 2)).toBe('2.0 / 1.0 KB, 6.00; 2, 2, 1.0 %');
  });
});
