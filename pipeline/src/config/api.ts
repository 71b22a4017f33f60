import { Type, type Static } from '@sinclair/typebox';
import { LogLevelEnv, NatsEnvProperties } from './common.js';
import { StoreEnvProperties } from './store.js';

/**
 * Settings of `aisflow api` (docs/configuration.md, "api"). Read once in `bin/api.ts` with
 * `loadConfig(ApiEnv, process.env)`; every default lives here, with its unit.
 */
export const ApiEnv = Type.Object({
  ...NatsEnvProperties,
  AISFLOW_HTTP_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  /** address the API binds; 0.0.0.0 in a pod, 127.0.0.1 for the local demo */
  AISFLOW_HTTP_HOST: Type.String({ default: '0.0.0.0', minLength: 1 }),
  AISFLOW_LOG_LEVEL: LogLevelEnv,
  AISFLOW_KEY_PREFIX: Type.String({ default: 'aisflow:dev', minLength: 1 }),
  // Redis (live state, geo) and Postgres through PgBouncer (tracks): the store module's settings.
  ...StoreEnvProperties,
  /** bearer token of the /admin routes; empty disables them */
  AISFLOW_ADMIN_TOKEN: Type.String({ default: '' }),
  /** largest page of /v1/vessels */
  AISFLOW_API_MAX_PAGE_SIZE: Type.Integer({ minimum: 1, maximum: 10_000, default: 500 }),
  /** most points one /track answer returns */
  AISFLOW_API_MAX_TRACK_POINTS: Type.Integer({ minimum: 1, maximum: 100_000, default: 10_000 }),
  /** widest from..to range of /track, in hours (7 days) */
  AISFLOW_API_MAX_TRACK_RANGE_H: Type.Integer({ minimum: 1, maximum: 24 * 366, default: 168 }),
  /** largest near= radius, in metres */
  AISFLOW_API_MAX_RADIUS_M: Type.Integer({ minimum: 1, maximum: 20_000_000, default: 500_000 }),
  /** SSE comment line sent this often so proxies and clients see a live connection */
  AISFLOW_API_SSE_HEARTBEAT_MS: Type.Integer({ minimum: 100, maximum: 300_000, default: 15_000 }),
  /** bytes an SSE client may have unsent before new updates to it are dropped */
  AISFLOW_API_SSE_MAX_BUFFERED_BYTES: Type.Integer({ minimum: 1024, default: 1_048_576 }),
  /** updates dropped in a row before a slow SSE client is disconnected */
  AISFLOW_API_SSE_MAX_CONSECUTIVE_DROPS: Type.Integer({ minimum: 1, default: 1000 }),
  /** concurrent SSE clients; more get 503 */
  AISFLOW_API_SSE_MAX_CLIENTS: Type.Integer({ minimum: 1, default: 1000 }),
});

export type ApiConfig = Static<typeof ApiEnv>;
