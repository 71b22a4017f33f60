import type { SourceTrustView } from '../store/types.js';

/**
 * Source trust and demotion: a PURE state machine per source (receiver / feed id).
 *
 *   trusted ──score < demoteBelow──► demoted ──quiet for quietMs──► recovering ──score ≥ promoteAt──► trusted
 *                                      ▲                                │
 *                                      └──────────── any penalty ◄──────┘
 *
 * The score falls by a fixed weight per penalty (implausible jump, late report, late duplicate,
 * report from the future). After `quietMs` without a penalty it climbs back linearly at
 * `recoveryPerMinute`. Time only comes in through `now` arguments, so tests drive it with a
 * manual clock and a replay gives the same states.
 */
export type TrustPenalty = 'implausible' | 'late' | 'late_duplicate' | 'bad_time';
export type TrustLevel = SourceTrustView['state'];

export interface TrustSettings {
  /** score lost per penalty */
  weights: Readonly<Record<TrustPenalty, number>>;
  /** demoted when the score falls below this @default 0.5 */
  demoteBelow: number;
  /** a recovering source is trusted again at this score @default 0.8 */
  promoteAt: number;
  /** time without penalties before the score starts to recover, ms @default 300000 */
  quietMs: number;
  /** score regained per minute once quiet @default 0.1 */
  recoveryPerMinute: number;
}

export const defaultTrustSettings: TrustSettings = {
  weights: { implausible: 0.15, late: 0.01, late_duplicate: 0.005, bad_time: 0.05 },
  demoteBelow: 0.5,
  promoteAt: 0.8,
  quietMs: 300_000,
  recoveryPerMinute: 0.1,
};

export interface SourceTrust {
  readonly id: string;
  /** score right after the last penalty (or 1) */
  readonly baseScore: number;
  /** time of the last penalty, ms; null if none yet */
  readonly lastPenaltyAt: number | null;
  readonly level: TrustLevel;
  readonly demotions: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly lastSeen: number;
  /** reports in the current and previous minute window, for the rate */
  readonly windowStart: number;
  readonly windowCount: number;
  readonly previousWindowCount: number;
}

export function newSourceTrust(id: string, now: number): SourceTrust {
  return { id, baseScore: 1, lastPenaltyAt: null, level: 'trusted', demotions: 0, accepted: 0, rejected: 0, lastSeen: now, windowStart: now, windowCount: 0, previousWindowCount: 0 };
}

/** The score at `now`: the base score plus the recovery earned since the quiet period ended. */
export function scoreAt(s: SourceTrust, now: number, cfg: TrustSettings): number {
  if (s.lastPenaltyAt === null) return s.baseScore;
  const quietFor = now - s.lastPenaltyAt - cfg.quietMs;
  if (quietFor <= 0) return s.baseScore;
  return Math.min(1, s.baseScore + (quietFor / 60_000) * cfg.recoveryPerMinute);
}

/** Moves demoted → recovering → trusted as time passes without penalties. */
export function settle(s: SourceTrust, now: number, cfg: TrustSettings): SourceTrust {
  if (s.level === 'trusted' || s.lastPenaltyAt === null) return s;
  if (now - s.lastPenaltyAt < cfg.quietMs) return s;
  const score = scoreAt(s, now, cfg);
  const level: TrustLevel = score >= cfg.promoteAt ? 'trusted' : 'recovering';
  return level === s.level ? s : { ...s, level };
}

function countReport(s: SourceTrust, now: number): Pick<SourceTrust, 'lastSeen' | 'windowStart' | 'windowCount' | 'previousWindowCount'> {
  const lastSeen = Math.max(s.lastSeen, now);
  if (now - s.windowStart < 60_000) return { lastSeen, windowStart: s.windowStart, windowCount: s.windowCount + 1, previousWindowCount: s.previousWindowCount };
  // a new minute window; the previous one is kept only if it was the one just before
  const previous = now - s.windowStart < 120_000 ? s.windowCount : 0;
  return { lastSeen, windowStart: now, windowCount: 1, previousWindowCount: previous };
}

/** A report that was used (accepted, duplicate on time, out of order but plausible ...). */
export function recordAccepted(s: SourceTrust, now: number, cfg: TrustSettings): SourceTrust {
  return settle({ ...s, ...countReport(s, now), accepted: s.accepted + 1 }, now, cfg);
}

/** A penalty: the score falls; crossing the threshold (or any penalty while recovering) demotes. */
export function recordPenalty(s: SourceTrust, penalty: TrustPenalty, now: number, cfg: TrustSettings): SourceTrust {
  const current = settle(s, now, cfg);
  const score = Math.max(0, scoreAt(current, now, cfg) - cfg.weights[penalty]);
  const counted = { ...current, ...countReport(current, now), rejected: current.rejected + (penalty === 'implausible' || penalty === 'bad_time' ? 1 : 0) };
  const demote = current.level === 'recovering' || (current.level === 'trusted' && score < cfg.demoteBelow);
  return {
    ...counted,
    baseScore: score,
    lastPenaltyAt: now,
    level: demote ? 'demoted' : current.level,
    demotions: current.demotions + (demote ? 1 : 0),
  };
}

export function isTrusted(s: SourceTrust | undefined): boolean {
  return s === undefined || s.level === 'trusted';
}

export function toTrustView(s: SourceTrust, now: number, cfg: TrustSettings): SourceTrustView {
  const settled = settle(s, now, cfg);
  const elapsed = Math.min(60_000, Math.max(1, now - settled.windowStart));
  // windowCount over `elapsed`, topped up by the previous window's share of the last minute
  const fromPrevious = settled.previousWindowCount * ((60_000 - elapsed) / 60_000);
  return {
    id: settled.id,
    score: Math.round(scoreAt(settled, now, cfg) * 1000) / 1000,
    state: settled.level,
    demotions: settled.demotions,
    accepted: settled.accepted,
    rejected: settled.rejected,
    lastSeen: settled.lastSeen,
    rate: Math.round(((settled.windowCount + fromPrevious) / 60) * 100) / 100,
  };
}

/**
 * Every source's trust, bounded: source ids come from tag blocks (untrusted), so the table
 * keeps at most `maxSources` and forgets the one seen longest ago. Mutable holder of immutable
 * states so the batch loop can update in place.
 */
export class TrustTable {
  private readonly sources = new Map<string, SourceTrust>();
  constructor(
    readonly settings: TrustSettings = defaultTrustSettings,
    private readonly maxSources = 1024,
  ) {}

  get(id: string, now: number): SourceTrust {
    const found = this.sources.get(id);
    if (found) return found;
    const fresh = newSourceTrust(id, now);
    this.put(fresh);
    return fresh;
  }

  level(id: string, now: number): TrustLevel {
    const found = this.sources.get(id);
    return found ? settle(found, now, this.settings).level : 'trusted';
  }

  accept(id: string, now: number): SourceTrust {
    return this.put(recordAccepted(this.get(id, now), now, this.settings));
  }

  penalize(id: string, penalty: TrustPenalty, now: number): SourceTrust {
    return this.put(recordPenalty(this.get(id, now), penalty, now, this.settings));
  }

  views(now: number): SourceTrustView[] {
    return [...this.sources.values()].map((s) => toTrustView(s, now, this.settings));
  }

  get size(): number {
    return this.sources.size;
  }

  private put(s: SourceTrust): SourceTrust {
    this.sources.delete(s.id);
    this.sources.set(s.id, s);
    if (this.sources.size > this.maxSources) {
      const oldest = this.sources.keys().next().value;
      if (oldest !== undefined) this.sources.delete(oldest);
    }
    return s;
  }
}
