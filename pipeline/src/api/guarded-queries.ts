import { CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen, isBrokenCircuitError, type CircuitBreakerPolicy } from 'cockatiel';
import type { VesselQueries } from '../store/queries.js';
import { ApiError, errorCodeOf } from './errors.js';

export type BreakerName = 'redis' | 'postgres';
export type BreakerStateName = 'closed' | 'half_open' | 'open';

/** 0 closed, 1 half-open, 2 open: the encoding every aisflow `*_breaker_state` gauge uses. */
export const breakerStateValue: Record<BreakerStateName, number> = { closed: 0, half_open: 1, open: 2 };

/**
 * VesselQueries behind one circuit breaker per store, so a down Redis or Postgres costs callers
 * an immediate 503 instead of a pile of hung requests, and /readyz can report it. The interface
 * does not say which store a method reads; the split follows the design: history (`track`) is
 * Postgres, everything live is Redis.
 */
export interface GuardedQueries {
  queries: VesselQueries;
  state(name: BreakerName): BreakerStateName;
  names: readonly BreakerName[];
}

const storeOf: Record<keyof VesselQueries, BreakerName> = {
  getVessel: 'redis',
  vesselsInBox: 'redis',
  vesselsNear: 'redis',
  sources: 'redis',
  countVessels: 'redis',
  track: 'postgres',
};

export function guardQueries(
  inner: VesselQueries,
  options: { consecutiveFailures?: number; halfOpenAfterMs?: number; onStateChange?: (name: BreakerName, state: BreakerStateName) => void } = {},
): GuardedQueries {
  // A caller's bad input (API codes) says nothing about the store's health.
  const storeFailure = handleWhen((err) => !(errorCodeOf(err)?.startsWith('AISFLOW_ERR_API_') ?? false));
  const make = (name: BreakerName): CircuitBreakerPolicy => {
    const policy = circuitBreaker(storeFailure, {
      halfOpenAfter: options.halfOpenAfterMs ?? 5_000,
      breaker: new ConsecutiveBreaker(options.consecutiveFailures ?? 5),
    });
    policy.onStateChange((s) => options.onStateChange?.(name, toName(s)));
    return policy;
  };
  const breakers: Record<BreakerName, CircuitBreakerPolicy> = { redis: make('redis'), postgres: make('postgres') };

  const run = async <T>(method: keyof VesselQueries, fn: () => Promise<T>): Promise<T> => {
    const name = storeOf[method];
    try {
      return await breakers[name].execute(fn);
    } catch (err) {
      if (isBrokenCircuitError(err)) {
        throw new ApiError('AISFLOW_ERR_API_UNAVAILABLE', `${name} is unavailable (circuit breaker open after repeated failures); retry shortly`, { store: name }, { cause: err });
      }
      throw err;
    }
  };

  const queries: VesselQueries = {
    getVessel: (mmsi) => run('getVessel', () => inner.getVessel(mmsi)),
    vesselsInBox: (box, limit, cursor) => run('vesselsInBox', () => inner.vesselsInBox(box, limit, cursor)),
    vesselsNear: (center, radiusM, limit, cursor) => run('vesselsNear', () => inner.vesselsNear(center, radiusM, limit, cursor)),
    track: (mmsi, fromMs, toMs, limit) => run('track', () => inner.track(mmsi, fromMs, toMs, limit)),
    sources: () => run('sources', () => inner.sources()),
    countVessels: () => run('countVessels', () => inner.countVessels()),
  };
  return { queries, state: (name) => toName(breakers[name].state), names: ['redis', 'postgres'] };
}

function toName(state: CircuitState): BreakerStateName {
  switch (state) {
    case CircuitState.Closed:
      return 'closed';
    case CircuitState.HalfOpen:
      return 'half_open';
    default:
      return 'open';
  }
}
