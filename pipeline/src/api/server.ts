import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { FusionEnv } from '../config/fusion.js';
import type { DlqAdmin } from '../dlq/types.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { ErrorCodes } from '../shared/errors.js';
import type { VesselQueries } from '../store/queries.js';
import type { ReadinessCheck } from '../telemetry/http-server.js';
import type { Logger } from '../telemetry/logger.js';
import type { ApiMetrics } from '../telemetry/metrics/api.js';
import { errorCodeOf, statusOf, type ErrorBody } from './errors.js';
import { breakerStateValue, guardQueries, type GuardedQueries } from './guarded-queries.js';
import { adminRoutes } from './routes/admin.js';
import { opsRoutes } from './routes/ops.js';
import { sourceRoutes } from './routes/sources.js';
import { streamRoutes } from './routes/stream.js';
import { vesselRoutes } from './routes/vessels.js';
import { ErrorResponse, Vessel } from './schemas.js';
import type { StreamStats } from './stream-stats.js';
import type { UpdateFeed } from './update-feed.js';

/** Bounds that keep any one request cheap. Defaults match `config/api.ts`. */
export interface ApiLimits {
  /** @default 500 */
  maxPageSize: number;
  /** @default 100 */
  defaultPageSize: number;
  /** @default 10000 */
  maxTrackPoints: number;
  /** @default 7 days (ms) */
  maxTrackRangeMs: number;
  /** range when `from` is not given @default 1 hour (ms) */
  defaultTrackRangeMs: number;
  /**
   * how far past now a track reaches when `to` is not given: the clock skew fusion accepts
   * (AISFLOW_FUSION_MAX_FUTURE_SKEW_MS) @default 60000 (ms)
   */
  trackAheadMs: number;
  /** @default 500000 (m) */
  maxRadiusM: number;
  /** @default 15000 (ms) */
  sseHeartbeatMs: number;
  /** @default 1 MiB */
  sseMaxBufferedBytes: number;
  /** @default 1000 */
  sseMaxConsecutiveDrops: number;
  /** @default 1000 */
  sseMaxClients: number;
}

export const defaultLimits: ApiLimits = {
  maxPageSize: 500,
  defaultPageSize: 100,
  maxTrackPoints: 10_000,
  maxTrackRangeMs: 7 * 24 * 3_600_000,
  defaultTrackRangeMs: 3_600_000,
  trackAheadMs: FusionEnv.properties.AISFLOW_FUSION_MAX_FUTURE_SKEW_MS.default,
  maxRadiusM: 500_000,
  sseHeartbeatMs: 15_000,
  sseMaxBufferedBytes: 1_048_576,
  sseMaxConsecutiveDrops: 1000,
  sseMaxClients: 1000,
};

export interface ApiDeps {
  queries: VesselQueries;
  /** null: the DLQ is not reachable from this process; the admin DLQ routes answer 503 */
  dlq: DlqAdmin | null;
  /** the value `DELETE /admin/dlq?confirm=` must carry */
  dlqStreamName: string;
  /** null or '': admin routes disabled */
  adminToken: string | null;
  registry: Registry;
  metrics: ApiMetrics;
  /** live updates for /v1/stream; null answers 503 there */
  updates: UpdateFeed | null;
  /** JetStream figures for /metrics/summary; null leaves them out */
  streamStats: StreamStats | null;
  /** extra /readyz checks (NATS connected, store pings); breakers are always checked */
  readiness?: readonly ReadinessCheck[];
  logger?: Logger;
  clock?: Clock;
  limits?: Partial<ApiLimits>;
  /** cockatiel breaker tuning around store reads */
  breaker?: { consecutiveFailures?: number; halfOpenAfterMs?: number };
}

/** What route modules share. */
export interface ApiContext {
  deps: ApiDeps;
  limits: ApiLimits;
  clock: Clock;
  guarded: GuardedQueries;
  /** Called when the server closes: SSE streams end so close() does not wait on them. */
  onClose: Set<() => void>;
}

/**
 * The API as a fastify instance that never listens by itself: `bin/api.ts` calls `listen()`,
 * tests call `inject()` or listen on port 0. Every route has a JSON schema (validation,
 * serialization, and the OpenAPI document at /docs).
 */
export function buildServer(deps: ApiDeps): FastifyInstance {
  const limits: ApiLimits = { ...defaultLimits, ...deps.limits };
  const clock = deps.clock ?? systemClock;
  const guarded = guardQueries(deps.queries, {
    ...deps.breaker,
    onStateChange: (name, state) => deps.metrics.breakerState.set({ store: name }, breakerStateValue[state]),
  });
  for (const name of guarded.names) deps.metrics.breakerState.set({ store: name }, 0);
  const ctx: ApiContext = { deps, limits, clock, guarded, onClose: new Set() };

  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    // The API sits behind a Service / ingress: request ids come from the proxy when it sets one.
    requestIdHeader: 'x-request-id',
    bodyLimit: 64 * 1024,
    routerOptions: { maxParamLength: 200 },
  });

  app.addSchema(ErrorResponse);
  app.addSchema(Vessel);

  app.setErrorHandler((err: FastifyError, request, reply) => {
    let status: number;
    let body: ErrorBody;
    const code = errorCodeOf(err);
    if (code !== null) {
      status = statusOf(code);
      // A store's or NATS's own message may name hosts and internals: callers get the
      // catalogue's wording, the log gets the rest.
      const internal = status >= 500 && !code.startsWith('AISFLOW_ERR_API_');
      body = { code, message: internal ? ErrorCodes[code] : err.message };
      const details = (err as { details?: Record<string, unknown> }).details;
      if (details) body.details = details;
    } else if (err.validation) {
      status = 400;
      body = {
        code: 'AISFLOW_ERR_API_BAD_REQUEST',
        message: err.message,
        details: { in: err.validationContext, problems: err.validation.map((v) => ({ path: v.instancePath, message: v.message })) },
      };
    } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      // fastify's own client errors (bad JSON body, unsupported media type, body too large).
      status = err.statusCode;
      body = { code: 'AISFLOW_ERR_API_BAD_REQUEST', message: err.message, details: { fastifyCode: err.code } };
    } else {
      status = 500;
      body = { code: 'AISFLOW_ERR_INTERNAL', message: 'an unexpected internal error; the server log has the details' };
    }
    if (status >= 500) request.log.error({ err }, 'request failed');
    return reply.code(status).type('application/json; charset=utf-8').send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = { code: 'AISFLOW_ERR_API_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` };
    return reply.code(404).send(body);
  });

  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: the label set stays closed.
    const route = request.routeOptions.url ?? 'unmatched';
    deps.metrics.requests.inc({ route, method: request.method, status_code: String(reply.statusCode) });
    deps.metrics.requestDuration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
  });

  app.addHook('onClose', async () => {
    for (const close of ctx.onClose) close();
  });

  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'aisflow API',
        version: '1',
        description: 'Fused live AIS vessel picture: live state, areas, tracks, sources, a live stream, and DLQ administration.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      tags: [
        { name: 'vessels', description: 'live state and history' },
        { name: 'sources', description: 'receivers and their trust' },
        { name: 'ops', description: 'health, readiness and metrics' },
        { name: 'admin', description: 'dead-letter queue (bearer token)' },
      ],
    },
  });
  void app.register(swaggerUi, { routePrefix: '/docs' });

  void app.register(async (instance) => {
    vesselRoutes(instance, ctx);
    sourceRoutes(instance, ctx);
    streamRoutes(instance, ctx);
    opsRoutes(instance, ctx);
    adminRoutes(instance, ctx);
  });

  // A pino Logger makes fastify's generic logger type narrower; callers need only the base type.
  return app as unknown as FastifyInstance;
}
