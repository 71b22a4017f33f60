import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DlqAdmin } from '../../dlq/types.js';
import { createBearerCheck } from '../auth.js';
import { ApiError } from '../errors.js';
import { DlqEntry, DlqStats } from '../schemas.js';
import type { ApiContext } from '../server.js';

const adminErrors = {
  400: Type.Ref('Error'),
  401: Type.Ref('Error'),
  403: Type.Ref('Error'),
  404: Type.Ref('Error'),
  503: Type.Ref('Error'),
};

/**
 * DLQ administration behind a bearer token. Without a configured token the routes still exist
 * (so the OpenAPI document is the same everywhere) but answer 404 AISFLOW_ERR_API_DISABLED;
 * `bin/api.ts` says so at start-up.
 */
export function adminRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const check = createBearerCheck(ctx.deps.adminToken);
  // onRequest, before body/query validation: an unauthenticated caller learns nothing about the routes.
  const guard = async (request: FastifyRequest): Promise<void> => {
    if (check === null) {
      throw new ApiError('AISFLOW_ERR_API_DISABLED', 'admin routes are disabled: no admin token is configured (AISFLOW_ADMIN_TOKEN)');
    }
    check(request.headers.authorization);
  };
  const dlq = (): DlqAdmin => {
    if (ctx.deps.dlq === null) throw new ApiError('AISFLOW_ERR_API_UNAVAILABLE', 'the dead-letter queue is not reachable from this process');
    return ctx.deps.dlq;
  };
  const common = { tags: ['admin'], security: [{ bearer: [] }] };

  app.get(
    '/admin/dlq/stats',
    { onRequest: guard, schema: { ...common, summary: 'Size of the dead-letter stream, by stage', response: { 200: DlqStats, ...adminErrors } } },
    async () => dlq().stats(),
  );

  app.get<{ Querystring: { limit?: number; after_seq?: number } }>(
    '/admin/dlq/peek',
    {
      onRequest: guard,
      schema: {
        ...common,
        summary: 'Read dead-lettered entries without removing them, oldest first',
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
          after_seq: Type.Optional(Type.Integer({ minimum: 0, description: 'only entries after this DLQ sequence (paging)' })),
        }),
        response: { 200: Type.Object({ entries: Type.Array(DlqEntry) }), ...adminErrors },
      },
    },
    async (request) => {
      const entries = await dlq().peek({ limit: request.query.limit ?? 50, ...(request.query.after_seq !== undefined ? { afterSeq: request.query.after_seq } : {}) });
      return { entries };
    },
  );

  app.post<{ Body: { seqs?: number[]; limit?: number } | undefined }>(
    '/admin/dlq/retry',
    {
      onRequest: guard,
      schema: {
        ...common,
        summary: 'Re-submit dead-lettered entries (the given sequences, or the oldest `limit`), then remove them',
        body: Type.Optional(
          Type.Object(
            {
              seqs: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 1000 })),
              limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
            },
            { additionalProperties: false },
          ),
        ),
        response: { 200: Type.Object({ retried: Type.Integer(), failed: Type.Integer() }), ...adminErrors },
      },
    },
    async (request) => {
      const body = request.body ?? {};
      if (body.seqs !== undefined && body.limit !== undefined) {
        throw new ApiError('AISFLOW_ERR_API_BAD_REQUEST', 'give either seqs or limit, not both');
      }
      // Without either, retry a bounded batch: one request never replays an unbounded DLQ.
      return dlq().retry(body.seqs !== undefined ? { seqs: body.seqs } : { limit: body.limit ?? 100 });
    },
  );

  app.delete<{ Querystring: { confirm?: string } }>(
    '/admin/dlq',
    {
      onRequest: guard,
      schema: {
        ...common,
        summary: 'Purge the dead-letter stream; confirm= must be the DLQ stream name',
        querystring: Type.Object({ confirm: Type.Optional(Type.String({ maxLength: 200, description: 'the DLQ stream name, e.g. AIS_DLQ' })) }),
        response: { 200: Type.Object({ purged: Type.Integer() }), ...adminErrors },
      },
    },
    async (request) => {
      if (request.query.confirm !== ctx.deps.dlqStreamName) {
        throw new ApiError(
          'AISFLOW_ERR_API_CONFIRMATION_REQUIRED',
          `purging deletes every dead-lettered entry: repeat the request with confirm=${ctx.deps.dlqStreamName}`,
          { parameter: 'confirm' },
        );
      }
      return dlq().purge();
    },
  );
}
