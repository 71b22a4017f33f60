import type { FastifyInstance } from 'fastify';
import { errorResponses, SourceList } from '../schemas.js';
import type { ApiContext } from '../server.js';

export function sourceRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    '/v1/sources',
    {
      schema: {
        tags: ['sources'],
        summary: 'Every source fusion has seen: trust score, demotion state, counts, rate and last seen',
        response: { 200: SourceList, ...errorResponses },
      },
    },
    async () => {
      const sources = await ctx.guarded.queries.sources();
      return {
        sources: [...sources]
          .sort((a, b) => a.id.localeCompare(b.id))
          .map((s) => ({ ...s, lastSeen: new Date(s.lastSeen).toISOString() })),
      };
    },
  );
}
