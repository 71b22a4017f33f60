import { buildDashboard } from '../dashboard.js';
import { SEL, stateTimeline, statPanel, steps, timeSeries, valueMappings } from '../panels.js';

const R = '$__rate_interval';
const UP = valueMappings({ 0: ['down', 'red'], 1: ['up', 'green'] });

/**
 * Redis, Postgres and PgBouncer as their exporters see them (redis_exporter, postgres_exporter
 * and the pgbouncer exporter, scraped with the pipeline's namespace/pipeline target labels),
 * beside what fusion itself measured writing to them.
 */
export function storageDashboard() {
  return buildDashboard({
    uid: 'aisflow-storage',
    title: 'aisflow / Storage',
    description: 'Redis memory and operations, Postgres rows written, PgBouncer pools, and fusion\'s store write latency',
    variables: 'pipeline',
    rows: [
      {
        title: 'Redis',
        panels: [
          timeSeries({
            title: 'Redis memory',
            description: 'Memory used by Redis (live vessel state and geo indexes) against its maxmemory (0 = unlimited). Live state is bounded by the fleet size; steady growth means keys are not expiring.',
            unit: 'bytes',
            queries: [
              { expr: `sum by (instance) (redis_memory_used_bytes{${SEL}})`, legend: 'used {{instance}}' },
              { expr: `sum by (instance) (redis_memory_max_bytes{${SEL}})`, legend: 'max {{instance}}' },
            ],
          }),
          timeSeries({
            title: 'Redis operations',
            description: 'Commands per second by command (top 8). The pipeline mostly runs EVALSHA (compare-and-set), GEOADD and reads for the API.',
            unit: 'ops',
            queries: [{ expr: `topk(8, sum by (cmd) (rate(redis_commands_total{${SEL}}[${R}])))`, legend: '{{cmd}}' }],
          }),
          timeSeries({
            title: 'Redis keys and clients',
            description: 'Keys per database and connected clients.',
            unit: 'short',
            queries: [
              { expr: `sum by (db) (redis_db_keys{${SEL}})`, legend: 'keys {{db}}' },
              { expr: `sum(redis_connected_clients{${SEL}})`, legend: 'clients' },
            ],
          }),
          stateTimeline({
            title: 'Store exporters up',
            description: 'Whether each exporter reaches its server (redis_up, pg_up, pgbouncer_up). Down means the store, or the exporter\'s access to it, is broken.',
            unit: 'none',
            queries: [
              { expr: `max(redis_up{${SEL}})`, legend: 'redis' },
              { expr: `max(pg_up{${SEL}})`, legend: 'postgres' },
              { expr: `max(pgbouncer_up{${SEL}})`, legend: 'pgbouncer' },
            ],
            mappings: UP,
          }),
        ],
      },
      {
        title: 'Postgres',
        panels: [
          timeSeries({
            title: 'Rows written',
            description: 'History rows fusion inserted per second (replays insert nothing: inserts are idempotent), vessel upserts left out for an invalid MMSI (0, ten digits: their history is kept), beside the tuples Postgres reports inserted and updated in the pipeline database.',
            unit: 'ops',
            queries: [
              { expr: `sum(rate(aisflow_fusion_history_rows_total{${SEL}}[${R}]))`, legend: 'history rows (fusion)' },
              { expr: `sum(rate(aisflow_fusion_vessels_rejected_total{${SEL}}[${R}]))`, legend: 'vessel upserts rejected (invalid MMSI)' },
              { expr: `sum by (datname) (rate(pg_stat_database_tup_inserted{${SEL}}[${R}]))`, legend: 'inserted {{datname}}' },
              { expr: `sum by (datname) (rate(pg_stat_database_tup_updated{${SEL}}[${R}]))`, legend: 'updated {{datname}}' },
            ],
          }),
          timeSeries({
            title: 'Transactions and deadlocks',
            description: 'Commits and rollbacks per second, and deadlocks (fusion sorts upserts by MMSI so there should be none).',
            unit: 'ops',
            queries: [
              { expr: `sum by (datname) (rate(pg_stat_database_xact_commit{${SEL}}[${R}]))`, legend: 'commit {{datname}}' },
              { expr: `sum by (datname) (rate(pg_stat_database_xact_rollback{${SEL}}[${R}]))`, legend: 'rollback {{datname}}' },
              { expr: `sum(rate(pg_stat_database_deadlocks{${SEL}}[${R}]))`, legend: 'deadlocks' },
            ],
          }),
          timeSeries({
            title: 'Database size',
            description: 'On-disk size per database. History is time-partitioned; old partitions are dropped by retention.',
            unit: 'bytes',
            queries: [{ expr: `sum by (datname) (pg_database_size_bytes{${SEL}})`, legend: '{{datname}}' }],
          }),
          statPanel({
            title: 'Vessels soft-deleted',
            description: 'Vessels fusion marked deleted (silent longer than the configured time) during the time range.',
            unit: 'short',
            width: 12,
            height: 8,
            queries: [{ expr: `sum(increase(aisflow_fusion_vessels_soft_deleted_total{${SEL}}[$__range])) or vector(0)`, instant: true }],
          }),
        ],
      },
      {
        title: 'PgBouncer',
        panels: [
          timeSeries({
            title: 'Client connections',
            description: 'Clients per pool: active (paired with a server connection) and waiting. Waiting clients mean the pool is too small for the writers.',
            unit: 'short',
            queries: [
              { expr: `sum by (database) (pgbouncer_pools_client_active_connections{${SEL}})`, legend: 'active {{database}}' },
              { expr: `sum by (database) (pgbouncer_pools_client_waiting_connections{${SEL}})`, legend: 'waiting {{database}}' },
            ],
            thresholds: steps(1, 10),
          }),
          timeSeries({
            title: 'Server connections',
            description: 'Server connections per pool, active and idle, against the pool size.',
            unit: 'short',
            queries: [
              { expr: `sum by (database) (pgbouncer_pools_server_active_connections{${SEL}})`, legend: 'active {{database}}' },
              { expr: `sum by (database) (pgbouncer_pools_server_idle_connections{${SEL}})`, legend: 'idle {{database}}' },
            ],
          }),
          timeSeries({
            title: 'Longest client wait',
            description: 'How long the oldest waiting client has waited for a server connection. Above a second, writes are queueing in PgBouncer.',
            unit: 's',
            queries: [{ expr: `max by (database) (pgbouncer_pools_client_maxwait_seconds{${SEL}})`, legend: '{{database}}' }],
            thresholds: steps(0.5, 2),
          }),
          timeSeries({
            title: 'Queries through PgBouncer',
            description: 'Queries per second PgBouncer forwarded, per database.',
            unit: 'ops',
            queries: [{ expr: `sum by (database) (rate(pgbouncer_stats_queries_pooled_total{${SEL}}[${R}]))`, legend: '{{database}}' }],
          }),
        ],
      },
      {
        title: 'Fusion writes',
        panels: [
          timeSeries({
            title: 'Write latency p99',
            description: 'Batch write time per store, measured by fusion.',
            unit: 's',
            queries: [
              {
                expr: `histogram_quantile(0.99, sum by (store, le) (rate(aisflow_fusion_store_write_duration_seconds_bucket{${SEL}}[${R}])))`,
                legend: '{{store}}',
              },
            ],
            thresholds: steps(0.5, 2),
          }),
          statPanel({
            title: 'Store error ratio',
            description: 'Failed store writes as a share of store writes, over the time range.',
            unit: 'percentunit',
            width: 12,
            height: 8,
            queries: [
              {
                expr: `(sum(increase(aisflow_fusion_store_errors_total{${SEL}}[$__range])) or vector(0)) / sum(increase(aisflow_fusion_store_write_duration_seconds_count{${SEL}}[$__range]))`,
                instant: true,
              },
            ],
            thresholds: steps(0.001, 0.01),
          }),
        ],
      },
    ],
  });
}
