import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { HealthResponse, ReadyResponse, Summary } from '../schemas.js';
import type { ApiContext } from '../server.js';

/** Reads that back a scrape or a summary must not hold it up for long. */
const READ_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${READ_TIMEOUT_MS} ms`)), READ_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function opsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { deps, guarded, clock } = ctx;
  // The previous stream sample, for a rate without keeping history.
  let previous: { atMs: number; lastSeq: number } | null = null;

  app.get(
    '/metrics',
    { schema: { tags: ['ops'], summary: 'Prometheus metrics (text exposition format)', response: { 200: { content: { 'text/plain': { schema: Type.String() } } } } } },
    async (_request, reply) => {
      // Store-backed gauges are read at scrape time; a failed read keeps the last value and counts.
      await Promise.all([
        withTimeout(guarded.queries.countVessels(), 'vessel count').then(
          (n) => deps.metrics.vesselsLive.set(n),
          () => deps.metrics.gaugeRefreshErrors.inc({ gauge: 'vessels_live' }),
        ),
        (deps.streamStats ? withTimeout(deps.streamStats.dlq(), 'dlq stream info') : deps.dlq ? withTimeout(deps.dlq.stats(), 'dlq stats') : Promise.reject(new Error('no dlq'))).then(
          (s) => deps.metrics.dlqMessages.set(s.messages),
          () => deps.metrics.gaugeRefreshErrors.inc({ gauge: 'dlq_messages' }),
        ),
      ]);
      reply.type(deps.registry.contentType);
      return deps.registry.metrics();
    },
  );

  app.get(
    '/metrics/summary',
    {
      schema: {
        tags: ['ops'],
        summary: 'One JSON look at the pipeline: rates, lag, DLQ size, vessels, breaker states',
        response: { 200: Summary },
      },
    },
    async () => {
      const errors: string[] = [];
      const [vessels, stream, dlq, sources] = await Promise.allSettled([
        withTimeout(guarded.queries.countVessels(), 'vessel count'),
        deps.streamStats ? withTimeout(deps.streamStats.records(), 'record stream info') : Promise.reject(new Error('no NATS connection')),
        deps.streamStats ? withTimeout(deps.streamStats.dlq(), 'dlq stream info') : Promise.reject(new Error('no NATS connection')),
        withTimeout(guarded.queries.sources(), 'sources'),
      ]);
      const nowMs = clock.now();
      if (vessels.status === 'rejected') errors.push(`vessels: ${reason(vessels.reason)}`);
      if (stream.status === 'rejected') errors.push(`stream: ${reason(stream.reason)}`);
      if (dlq.status === 'rejected') errors.push(`dlq: ${reason(dlq.reason)}`);
      if (sources.status === 'rejected') errors.push(`sources: ${reason(sources.reason)}`);

      let streamOut = null;
      if (stream.status === 'fulfilled') {
        const s = stream.value;
        const rate = previous && nowMs > previous.atMs && s.lastSeq >= previous.lastSeq ? ((s.lastSeq - previous.lastSeq) * 1000) / (nowMs - previous.atMs) : null;
        previous = { atMs: nowMs, lastSeq: s.lastSeq };
        streamOut = { ...s, batchesPerSecond: rate };
      }
      const sourceList = sources.status === 'fulfilled' ? sources.value : [];
      return {
        time: new Date(nowMs).toISOString(),
        vessels: vessels.status === 'fulfilled' ? vessels.value : null,
        stream: streamOut,
        dlq: dlq.status === 'fulfilled' ? dlq.value : null,
        sources: sourceList.map((s) => ({ id: s.id, state: s.state, score: s.score, rate: s.rate })),
        messagesPerSecond: sourceList.reduce((sum, s) => sum + s.rate, 0),
        breakers: Object.fromEntries(guarded.names.map((n) => [n, guarded.state(n)])),
        errors,
      };
    },
  );

  app.get('/healthz', { schema: { tags: ['ops'], summary: 'The process answers (liveness)', response: { 200: HealthResponse } } }, async () => ({ status: 'ok' as const }));

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['ops'],
        summary: 'Dependencies reachable and breakers closed (readiness); 503 lists what is failing',
        response: { 200: ReadyResponse, 503: ReadyResponse },
      },
    },
    async (_request, reply) => {
      const failing: Record<string, string> = {};
      for (const name of guarded.names) {
        const state = guarded.state(name);
        if (state === 'open') failing[`breaker:${name}`] = 'circuit breaker open after repeated failures';
      }
      await Promise.all(
        (deps.readiness ?? []).map(async (c) => {
          try {
            const result = await withTimeout(Promise.resolve(c.check()), c.name);
            if (result !== true) failing[c.name] = result;
          } catch (err) {
            failing[c.name] = reason(err);
          }
        }),
      );
      if (Object.keys(failing).length > 0) return reply.code(503).send({ status: 'not_ready', failing });
      return { status: 'ready' };
    },
  );
}
