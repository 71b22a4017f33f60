import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { BoundingBox } from '../../store/queries.js';
import { ApiError } from '../errors.js';
import { parseBbox } from '../params.js';
import { errorResponses } from '../schemas.js';
import type { ApiContext } from '../server.js';
import type { LiveUpdate } from '../update-feed.js';

export function inBox(update: LiveUpdate, box: BoundingBox | null): boolean {
  if (box === null) return true;
  if (update.lat === null || update.lon === null) return false;
  return update.lon >= box.minLon && update.lon <= box.maxLon && update.lat >= box.minLat && update.lat <= box.maxLat;
}

/**
 * GET /v1/stream: server-sent events of live vessel updates (event `vessel`, data = the update
 * JSON), optionally only inside `bbox`, plus an event `heartbeat` every `sseHeartbeatMs`.
 *
 * Slow clients are bounded: while a client's socket has more than `sseMaxBufferedBytes` unsent,
 * new updates for it are dropped and counted (aisflow_api_sse_dropped_total) instead of queued in
 * this process; after `sseMaxConsecutiveDrops` drops in a row it is disconnected, since it is
 * not keeping up at all. The next update it gets after a drop carries `dropped: n` in an event
 * `dropped` first, so a client knows its picture has gaps.
 */
export function streamRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { deps, limits } = ctx;
  let clients = 0;

  app.get<{ Querystring: { bbox?: string } }>(
    '/v1/stream',
    {
      schema: {
        tags: ['vessels'],
        summary: 'Server-sent events of live vessel updates (text/event-stream), optionally inside bbox',
        querystring: Type.Object({
          bbox: Type.Optional(Type.String({ maxLength: 200, description: 'minLon,minLat,maxLon,maxLat' })),
        }),
        response: {
          200: {
            description: 'event: vessel (data: a vessel update as JSON), event: heartbeat, event: dropped',
            content: { 'text/event-stream': { schema: Type.String() } },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const box = request.query.bbox !== undefined ? parseBbox(request.query.bbox) : null;
      if (deps.updates === null) throw new ApiError('AISFLOW_ERR_API_UNAVAILABLE', 'live updates are not available (no NATS connection configured)');
      if (clients >= limits.sseMaxClients) {
        throw new ApiError('AISFLOW_ERR_API_TOO_MANY_CLIENTS', `this server already streams to ${limits.sseMaxClients} clients; retry later or use another replica`);
      }

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        // nginx-style proxies must not buffer the stream.
        'x-accel-buffering': 'no',
      });
      clients += 1;
      deps.metrics.sseClients.inc();
      deps.metrics.requests.inc({ route: '/v1/stream', method: 'GET', status_code: '200' });
      res.write(`retry: 5000\n: connected\n\n`);

      let dropped = 0;
      let consecutiveDrops = 0;
      let closed = false;

      const finish = (reason: 'client' | 'slow' | 'shutdown'): void => {
        if (closed) return;
        closed = true;
        clients -= 1;
        deps.metrics.sseClients.dec();
        if (reason !== 'client') deps.metrics.sseDisconnected.inc({ reason });
        unsubscribe();
        clearInterval(heartbeat);
        ctx.onClose.delete(onServerClose);
        if (!res.writableEnded) res.end();
        if (reason === 'slow') res.destroy();
      };
      const onServerClose = () => finish('shutdown');

      const unsubscribe = deps.updates.subscribe((update) => {
        if (closed || !inBox(update, box)) return;
        if (res.writableLength > limits.sseMaxBufferedBytes) {
          dropped += 1;
          consecutiveDrops += 1;
          deps.metrics.sseDropped.inc();
          if (consecutiveDrops >= limits.sseMaxConsecutiveDrops) finish('slow');
          return;
        }
        consecutiveDrops = 0;
        if (dropped > 0) {
          res.write(`event: dropped\ndata: {"dropped":${dropped}}\n\n`);
          dropped = 0;
        }
        res.write(`event: vessel\ndata: ${update.json}\n\n`);
      });
      const heartbeat = setInterval(() => {
        if (!closed) res.write(`event: heartbeat\ndata: {"time":"${new Date(ctx.clock.now()).toISOString()}"}\n\n`);
      }, limits.sseHeartbeatMs);
      heartbeat.unref();
      ctx.onClose.add(onServerClose);
      request.raw.on('close', () => finish('client'));
      res.on('error', () => finish('client'));
    },
  );
}
