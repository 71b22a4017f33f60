import { randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect as connectSocket, type AddressInfo } from 'node:net';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, type ApiDeps } from '../../../pipeline/src/api/server.js';
import { natsUpdateFeed, type LiveUpdate, type UpdateFeed } from '../../../pipeline/src/api/update-feed.js';
import { subjects, type NatsNames } from '../../../pipeline/src/shared/subjects.js';
import { createApiMetrics } from '../../../pipeline/src/telemetry/metrics/api.js';
import { memoryQueries } from './fixtures.js';
import { sseParser, type SseEvent } from '../../harness/sse.js';

/**
 * /v1/stream over a real socket: updates published on core NATS `<prefix>.updates.<p>` reach an
 * SSE client, filtered by bbox, with heartbeats; a client that stops reading is bounded.
 */
const names: NatsNames = { stream: 'UNUSED', dlqStream: 'UNUSED_DLQ', prefix: `t_sse_${randomUUID().slice(0, 8)}` };

interface SseClient {
  res: IncomingMessage;
  events: SseEvent[];
  waitFor(pred: (e: SseEvent) => boolean, what: string): Promise<SseEvent>;
  close(): void;
}

function openStream(base: string, path: string): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { headers: { accept: 'text/event-stream' } }, (res) => {
      const events: SseEvent[] = [];
      const waiters: Array<() => void> = [];
      const feed = sseParser((e) => events.push(e));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        feed(chunk);
        for (const w of waiters.splice(0)) w();
      });
      resolve({
        res,
        events,
        waitFor(pred, what) {
          return new Promise((done, fail) => {
            const deadline = setTimeout(() => fail(new Error(`no ${what} within 10 s; got ${JSON.stringify(events.slice(-5))}`)), 10_000);
            const check = () => {
              const hit = events.find(pred);
              if (hit) {
                clearTimeout(deadline);
                done(hit);
              } else waiters.push(check);
            };
            check();
          });
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function makeDeps(updates: UpdateFeed, limits: ApiDeps['limits'] = {}): ApiDeps {
  const registry = new Registry();
  return {
    queries: memoryQueries([], new Map(), []),
    dlq: null,
    dlqStreamName: 'X',
    adminToken: null,
    registry,
    metrics: createApiMetrics(registry),
    updates,
    streamStats: null,
    limits,
  };
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

let nc: NatsConnection;
beforeAll(async () => {
  nc = await connect({ servers: '127.0.0.1:4222' });
});
afterAll(async () => {
  await nc.drain();
});

describe('GET /v1/stream', () => {
  it('delivers NATS updates inside the bbox, skips those outside, and sends heartbeats', async () => {
    const subscriber = await connect({ servers: '127.0.0.1:4222' });
    const feed = natsUpdateFeed(subscriber, names);
    const app = buildServer(makeDeps(feed, { sseHeartbeatMs: 200 }));
    const base = await listen(app);
    const client = await openStream(base, '/v1/stream?bbox=4,51,6,53');
    try {
      expect(client.res.statusCode).toBe(200);
      expect(client.res.headers['content-type']).toContain('text/event-stream');
      await subscriber.flush();
      // Outside the box first: it must never arrive, and the in-box one after it must.
      nc.publish(subjects.updates(names, 3), JSON.stringify({ mmsi: 111111111, lat: 10, lon: 10, ts: 1 }));
      nc.publish(subjects.updates(names, 5), JSON.stringify([{ mmsi: 244670000, lat: 52.1, lon: 4.9, ts: 2, speed: 3.2 }]));
      nc.publish(subjects.updates(names, 5), 'not json');
      nc.publish(subjects.updates(names, 7), JSON.stringify({ mmsi: 244000001, position: { lat: 52.5, lon: 5.5 } }));
      await nc.flush();
      const first = await client.waitFor((e) => e.event === 'vessel', 'vessel event');
      expect(JSON.parse(first.data)).toEqual({ mmsi: 244670000, lat: 52.1, lon: 4.9, ts: 2, speed: 3.2 });
      await client.waitFor((e) => e.event === 'vessel' && JSON.parse(e.data).mmsi === 244000001, 'second vessel');
      expect(client.events.filter((e) => e.event === 'vessel').map((e) => JSON.parse(e.data).mmsi)).toEqual([244670000, 244000001]);
      const hb = await client.waitFor((e) => e.event === 'heartbeat', 'heartbeat');
      expect(Number.isFinite(Date.parse(JSON.parse(hb.data).time))).toBe(true);
      expect(await app.inject('/metrics').then((r) => r.body)).toContain('aisflow_api_sse_clients 1');
    } finally {
      client.close();
      await app.close();
      feed.close();
      await subscriber.drain();
    }
  });

  it('400s a bad bbox before streaming', async () => {
    const app = buildServer(makeDeps({ subscribe: () => () => {} }));
    const res = await app.inject('/v1/stream?bbox=1,2');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'AISFLOW_ERR_API_INVALID_BBOX' });
    await app.close();
  });

  it('refuses clients beyond the limit with 503', async () => {
    const app = buildServer(makeDeps({ subscribe: () => () => {} }, { sseMaxClients: 1 }));
    const base = await listen(app);
    const first = await openStream(base, '/v1/stream');
    try {
      const second = await app.inject('/v1/stream');
      expect(second.statusCode).toBe(503);
      expect(second.json()).toMatchObject({ code: 'AISFLOW_ERR_API_TOO_MANY_CLIENTS' });
    } finally {
      first.close();
      await app.close();
    }
  });

  it('drops updates for a client that stops reading, counts them, then disconnects it', async () => {
    // An in-process feed: the point is the server's bound, so updates are pushed as fast as
    // the event loop allows rather than through NATS.
    const listeners = new Set<(u: LiveUpdate) => void>();
    const feed: UpdateFeed = {
      subscribe(l) {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    };
    const deps = makeDeps(feed, { sseMaxBufferedBytes: 4096, sseMaxConsecutiveDrops: 200 });
    const app = buildServer(deps);
    const base = await listen(app);
    // A raw socket that sends the request and never reads: the kernel buffers fill, then the
    // server's own buffer passes the bound.
    const socket = connectSocket(Number(new URL(base).port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('GET /v1/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
    socket.pause();
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    for (let i = 0; i < 100 && listeners.size === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(listeners.size).toBe(1);
    try {
      const json = JSON.stringify({ mmsi: 244670000, lat: 1, lon: 1, pad: 'x'.repeat(16_000) });
      // Bounded: loopback socket buffers hold a few MB at most; 4000 × 16 kB = 64 MB is far more.
      for (let round = 0; round < 400 && listeners.size > 0; round++) {
        for (let i = 0; i < 10; i++) for (const l of listeners) l({ mmsi: 244670000, lat: 1, lon: 1, json });
        await new Promise((r) => setImmediate(r));
      }
      expect(listeners.size).toBe(0);
      socket.resume();
      await closed;
      const text = await app.inject('/metrics').then((r) => r.body);
      const dropped = Number(/aisflow_api_sse_dropped_total (\d+)/.exec(text)?.[1]);
      expect(dropped).toBeGreaterThanOrEqual(200);
      expect(text).toContain('aisflow_api_sse_disconnects_total{reason="slow"} 1');
      expect(text).toContain('aisflow_api_sse_clients 0');
      expect(listeners.size).toBe(0);
    } finally {
      socket.destroy();
      await app.close();
    }
  });
});
