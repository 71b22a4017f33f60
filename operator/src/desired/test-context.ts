import type { BuildContext } from './context.js';

/** A fixed context for snapshot tests and examples (no randomness). */
export const TEST_CONTEXT: BuildContext = {
  images: { nats: 'nats:2.10.22-alpine', redis: 'redis:7.2.5-alpine', postgres: 'postgres:16.4-alpine', pgbouncer: 'bitnami/pgbouncer:1.23.1' },
  credentials: { postgresPassword: 'pg-secret', redisPassword: 'redis-secret', adminToken: 'admin-secret' },
  dashboards: { 'aisflow-overview.json': { title: 'aisflow overview', panels: [] } },
  ruleGroups: [{ name: 'aisflow.ingest', rules: [{ alert: 'AisflowIngestDown', expr: 'up{job="ingest"} == 0', for: '5m', labels: { severity: 'critical' } }] }],
};
