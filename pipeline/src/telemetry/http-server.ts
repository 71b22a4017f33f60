import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface ReadinessCheck {
  name: string;
  /** true when ready; a string explains why not */
  check(): Promise<true | string> | true | string;
}

/**
 * The small HTTP server every non-API process runs: `/metrics` (Prometheus text), `/healthz`
 * (the event loop answers) and `/readyz` (every dependency check passes; 503 with the reasons
 * otherwise). Built, not listening: callers `listen()` so tests can use `inject()`.
 */
export function buildOpsServer(options: { registry: Registry; checks?: readonly ReadinessCheck[] }): FastifyInstance {
  const app = Fastify({ logger: false });
  const checks = options.checks ?? [];

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', options.registry.contentType);
    return options.registry.metrics();
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const results = await Promise.all(
      checks.map(async (c) => {
        try {
          return [c.name, await c.check()] as const;
        } catch (err) {
          return [c.name, (err as Error).message] as const;
        }
      }),
    );
    const failing = Object.fromEntries(results.filter(([, r]) => r !== true));
    if (Object.keys(failing).length > 0) {
      return reply.code(503).send({ status: 'not_ready', failing });
    }
    return { status: 'ready' };
  });

  return app;
}
