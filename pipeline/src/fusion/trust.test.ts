import { describe, expect, it } from 'vitest';
import { ManualClock } from '../shared/clock.js';
import { defaultTrustSettings, newSourceTrust, recordAccepted, recordPenalty, scoreAt, settle, toTrustView, TrustTable, type TrustSettings } from './trust.js';

const cfg: TrustSettings = { ...defaultTrustSettings, weights: { implausible: 0.2, late: 0.05, late_duplicate: 0.02, bad_time: 0.1 }, quietMs: 60_000, recoveryPerMinute: 0.5, demoteBelow: 0.51 };

describe('source trust state machine', () => {
  it('stays trusted on small penalties and demotes when the score crosses the threshold', () => {
    let s = newSourceTrust('spoofer', 0);
    const levels: string[] = [];
    for (let i = 0; i < 3; i++) {
      s = recordPenalty(s, 'implausible', 1000 * i, cfg);
      levels.push(s.level);
    }
    // 1 → 0.8 → 0.6 → 0.4: the third jump demotes
    expect(levels).toEqual(['trusted', 'trusted', 'demoted']);
    expect(s.demotions).toBe(1);
    expect(s.rejected).toBe(3);
    expect(scoreAt(s, 2000, cfg)).toBeCloseTo(0.4);
  });

  it.each([
    ['late', 0.05, 10],
    ['late_duplicate', 0.02, 25],
    ['bad_time', 0.1, 5],
  ] as const)('penalty %s weighs %d: demoted after %d of them', (penalty, weight, n) => {
    let s = newSourceTrust('x', 0);
    for (let i = 1; i < n; i++) s = recordPenalty(s, penalty, i, cfg);
    expect(s.level).toBe('trusted');
    s = recordPenalty(s, penalty, n, cfg);
    expect(s.level).toBe('demoted');
    expect(s.baseScore).toBeCloseTo(1 - weight * n);
  });

  it('recovers only after a quiet period, through recovering, back to trusted', () => {
    const clock = new ManualClock(0);
    const table = new TrustTable(cfg);
    for (let i = 0; i < 3; i++) table.penalize('s1', 'implausible', clock.now());
    expect(table.level('s1', clock.now())).toBe('demoted');
    clock.advance(59_000);
    expect(table.level('s1', clock.now())).toBe('demoted'); // still inside the quiet period
    clock.advance(31_000); // quiet for half a minute: 0.4 + 0.5 × 0.5 = 0.65
    expect(table.level('s1', clock.now())).toBe('recovering');
    expect(toTrustView(table.get('s1', clock.now()), clock.now(), cfg).score).toBeCloseTo(0.65, 2);
    clock.advance(30_000); // 0.4 + 1.0 * 0.5 = 0.9 ≥ 0.8
    expect(table.level('s1', clock.now())).toBe('trusted');
  });

  it('a penalty while recovering demotes again at once and counts a demotion', () => {
    let s = newSourceTrust('s', 0);
    for (let i = 0; i < 3; i++) s = recordPenalty(s, 'implausible', 0, cfg);
    s = settle(s, 100_000, cfg);
    expect(s.level).toBe('recovering');
    s = recordPenalty(s, 'late', 100_000, cfg);
    expect(s.level).toBe('demoted');
    expect(s.demotions).toBe(2);
  });

  it('accepted reports do not reset the quiet period; counts and rate are tracked', () => {
    let s = newSourceTrust('s', 0);
    for (let i = 0; i < 3; i++) s = recordPenalty(s, 'implausible', 0, cfg);
    for (let t = 1_000; t <= 120_000; t += 1_000) s = recordAccepted(s, t, cfg);
    expect(s.accepted).toBe(120);
    expect(s.level).toBe('trusted'); // 0.4 + 1 min × 0.5 = 0.9 at 120 s
    const view = toTrustView(s, 120_000, cfg);
    expect(view.rate).toBeGreaterThan(0.8);
    expect(view.rate).toBeLessThan(1.2);
    expect(view.state).toBe('trusted');
  });

  it('bounds the table: the source seen longest ago is forgotten', () => {
    const table = new TrustTable(cfg, 3);
    for (const id of ['a', 'b', 'c']) table.accept(id, 0);
    table.accept('a', 1);
    table.accept('d', 2);
    expect(table.size).toBe(3);
    expect(table.views(3).map((v) => v.id).sort()).toEqual(['a', 'c', 'd']);
  });
});
