/**
 * Retry delay: exponential, capped, with "equal jitter" (half fixed, half random), so a fleet
 * of pods that lost the same server (a feed, NATS, Redis) does not retry in lock-step, yet never
 * retries at 0.
 */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + (random() * cap) / 2);
}
