/**
 * True when every field we set in `desired` has the same value in `live`. The API server adds
 * defaults and status (which we ignore); it never changes a field we set, so "live contains
 * desired" means our apply would be a no-op and the write is skipped: an idle operator makes no
 * writes. Lists must match element by element (we own the whole list when we set it).
 */
export function contains(live: unknown, desired: unknown): boolean {
  if (Array.isArray(desired)) {
    return Array.isArray(live) && live.length === desired.length && desired.every((d, i) => contains(live[i], d));
  }
  if (desired !== null && typeof desired === 'object') {
    if (live === null || typeof live !== 'object' || Array.isArray(live)) return false;
    const l = live as Record<string, unknown>;
    return Object.entries(desired as Record<string, unknown>).every(([k, v]) => v === undefined || contains(l[k], v));
  }
  return live === desired;
}
