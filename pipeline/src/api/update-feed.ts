import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { subjects, type NatsNames } from '../shared/subjects.js';

/** One live vessel update as the SSE route needs it: where (for the bbox filter) and the JSON to send. */
export interface LiveUpdate {
  mmsi: number;
  lat: number | null;
  lon: number | null;
  /** the update as JSON text, sent to clients unchanged */
  json: string;
}

export interface UpdateFeed {
  /** Calls `listener` for every update until the returned function is called. */
  subscribe(listener: (update: LiveUpdate) => void): () => void;
}

/**
 * Reads the positions out of one updates message. Fusion publishes JSON: one vessel state or an
 * array of them; a state carries `lat`/`lon` at the top (FusedVesselState) or under `position`
 * (VesselView). Anything else is skipped and counted by the caller: the stream is best-effort
 * and must never fail on one odd message.
 */
export function parseUpdates(data: string): LiveUpdate[] | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return null;
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  const out: LiveUpdate[] = [];
  for (const item of items) {
    if (typeof item !== 'object' || item === null) continue;
    const o = item as Record<string, unknown>;
    if (typeof o.mmsi !== 'number') continue;
    const pos = (typeof o.position === 'object' && o.position !== null ? o.position : o) as Record<string, unknown>;
    const lat = typeof pos.lat === 'number' ? pos.lat : null;
    const lon = typeof pos.lon === 'number' ? pos.lon : null;
    // Re-serialized: one line whatever the publisher sent, as an SSE data field needs.
    out.push({ mmsi: o.mmsi, lat, lon, json: JSON.stringify(item) });
  }
  return out;
}

/**
 * One core-NATS subscription to `<prefix>.updates.>` shared by every SSE client of this process:
 * each message is parsed once and fanned out, so a thousand clients cost one subscription.
 */
export function natsUpdateFeed(nc: NatsConnection, names: NatsNames, onUnparsable: () => void = () => {}): UpdateFeed & { close(): void } {
  const listeners = new Set<(update: LiveUpdate) => void>();
  let sub: Subscription | null = null;

  const start = (): void => {
    const s = nc.subscribe(subjects.allUpdates(names), {
      callback: (err, msg) => {
        if (err) return;
        const updates = parseUpdates(msg.string());
        if (updates === null) {
          onUnparsable();
          return;
        }
        for (const update of updates) for (const l of listeners) l(update);
      },
    });
    sub = s;
  };

  return {
    subscribe(listener) {
      if (sub === null) start();
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    close() {
      sub?.unsubscribe();
      sub = null;
      listeners.clear();
    },
  };
}
