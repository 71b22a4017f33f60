import { buildDashboard } from '../dashboard.js';
import { BREAKER_STATES, SEL, stateTimeline, statPanel, steps, stepsLowBad, timeSeries } from '../panels.js';

const R = '$__rate_interval';

/** Inside the fusion pods: decisions, ownership, backlog, cache and store writes. */
export function fusionDashboard() {
  return buildDashboard({
    uid: 'aisflow-fusion',
    title: 'aisflow / Fusion',
    description: 'Fusion decisions by outcome, partition ownership and backlog per partition, LRU hit rate, batch sizes, store write latency',
    variables: 'pipeline',
    rows: [
      {
        title: 'Decisions',
        panels: [
          timeSeries({
            title: 'Records by outcome',
            description: 'What fusion decided for each record per second: accepted, duplicate (another source was first), out_of_order, implausible (impossible speed), future/stale timestamps, demoted_source, static_merged, invalid.',
            unit: 'ops',
            stack: true,
            width: 16,
            queries: [{ expr: `sum by (outcome) (rate(aisflow_fusion_records_total{${SEL}}[${R}]))`, legend: '{{outcome}}' }],
          }),
          statPanel({
            title: 'Accepted share',
            description: 'Share of records accepted. Low values are normal with many overlapping receivers (duplicates); a sudden drop is not.',
            unit: 'percentunit',
            width: 8,
            height: 8,
            queries: [
              {
                expr: `sum(rate(aisflow_fusion_records_total{${SEL}, outcome="accepted"}[${R}])) / sum(rate(aisflow_fusion_records_total{${SEL}}[${R}]))`,
              },
            ],
            thresholds: stepsLowBad(0.05, 0.2),
          }),
          timeSeries({
            title: 'Batches',
            description: 'Batches processed per second by each fusion pod.',
            unit: 'ops',
            queries: [{ expr: `sum by (pod) (rate(aisflow_fusion_batches_total{${SEL}}[${R}]))`, legend: '{{pod}}' }],
          }),
          timeSeries({
            title: 'Batch size',
            description: 'Records per batch (median and p95). Small batches at high rate waste store round-trips.',
            unit: 'short',
            queries: [0.5, 0.95].map((q) => ({
              expr: `histogram_quantile(${q}, sum by (le) (rate(aisflow_fusion_batch_records_bucket{${SEL}}[${R}])))`,
              legend: `p${q * 100}`,
            })),
          }),
        ],
      },
      {
        title: 'Ownership and backlog',
        panels: [
          timeSeries({
            title: 'Partitions owned per pod',
            description: 'Partitions each fusion pod consumes. The sum should equal the configured partition count; it briefly exceeds it during a hand-over.',
            unit: 'short',
            stack: true,
            queries: [{ expr: `sum by (pod) (aisflow_fusion_partitions_owned{${SEL}})`, legend: '{{pod}}' }],
          }),
          timeSeries({
            title: 'Pending per partition (top 10)',
            description: 'Messages waiting in JetStream for the ten most backed-up partitions. One hot partition points at one busy MMSI range or a stuck consumer.',
            unit: 'short',
            queries: [{ expr: `topk(10, max by (partition) (aisflow_fusion_consumer_pending_messages{${SEL}}))`, legend: 'partition {{partition}}' }],
            thresholds: steps(1000, 10000),
          }),
          statPanel({
            title: 'Members',
            description: 'Fusion pods alive in the membership bucket.',
            unit: 'short',
            queries: [{ expr: `max(aisflow_fusion_members{${SEL}})`, instant: true }],
            thresholds: stepsLowBad(1, 1),
          }),
          statPanel({
            title: 'Partitions unowned',
            description: 'The stream\'s partitions (AISFLOW_PARTITIONS) minus those the pods own. Above 0 for minutes, messages of those partitions wait unprocessed (alert AisflowFusionPartitionsUnowned); a hand-over briefly over-counts, shown as 0.',
            unit: 'short',
            queries: [{ expr: `clamp_min(max(aisflow_fusion_partitions{${SEL}}) - sum(aisflow_fusion_partitions_owned{${SEL}}), 0)`, instant: true }],
            thresholds: steps(1, 1),
          }),
          statPanel({
            title: 'Redis mode',
            description: 'How live state is stored: RedisJSON documents when the server has the module, hashes otherwise.',
            unit: 'none',
            queries: [{ expr: `max by (mode) (aisflow_fusion_redis_mode{${SEL}}) == 1`, legend: '{{mode}}', instant: true }],
          }),
        ],
      },
      {
        title: 'Cache and stores',
        panels: [
          timeSeries({
            title: 'LRU hit rate',
            description: 'Share of vessel-state lookups served by the in-process LRU. Misses read Redis; a falling rate means the cache is too small for the fleet.',
            unit: 'percentunit',
            min: 0,
            max: 1,
            queries: [
              {
                expr: `sum(rate(aisflow_fusion_lru_hits_total{${SEL}}[${R}])) / (sum(rate(aisflow_fusion_lru_hits_total{${SEL}}[${R}])) + sum(rate(aisflow_fusion_lru_misses_total{${SEL}}[${R}])))`,
                legend: 'hit rate',
              },
            ],
            thresholds: stepsLowBad(0.5, 0.8),
          }),
          timeSeries({
            title: 'In-flight bytes',
            description: 'Message bytes each pod holds between taking a batch and its ack. Bounded by AISFLOW_FUSION_MAX_IN_FLIGHT_BYTES (4 MiB by default), which bounds fusion\'s working memory under a backlog.',
            unit: 'bytes',
            queries: [{ expr: `sum by (pod) (aisflow_fusion_in_flight_bytes{${SEL}})`, legend: '{{pod}}' }],
          }),
          timeSeries({
            title: 'Batches waiting for the in-flight budget',
            description: 'Batches per second that waited for the in-flight byte budget before being decided. Waiting while the consumer lag grows means the pod works at its memory bound: add pods, or raise the budget together with the memory limit.',
            unit: 'ops',
            min: 0,
            queries: [{ expr: `sum by (pod) (rate(aisflow_fusion_admission_waits_total{${SEL}}[${R}]))`, legend: '{{pod}}' }],
          }),
          timeSeries({
            title: 'LRU entries',
            description: 'Vessel states held in each pod\'s LRU.',
            unit: 'short',
            queries: [{ expr: `sum by (pod) (aisflow_fusion_lru_entries{${SEL}})`, legend: '{{pod}}' }],
          }),
          timeSeries({
            title: 'Store write latency p99',
            description: 'Batch write time per store. Redis should stay in milliseconds; Postgres grows with batch size.',
            unit: 's',
            queries: [
              {
                expr: `histogram_quantile(0.99, sum by (store, le) (rate(aisflow_fusion_store_write_duration_seconds_bucket{${SEL}}[${R}])))`,
                legend: '{{store}} p99',
              },
              {
                expr: `histogram_quantile(0.5, sum by (store, le) (rate(aisflow_fusion_store_write_duration_seconds_bucket{${SEL}}[${R}])))`,
                legend: '{{store}} p50',
              },
            ],
            thresholds: steps(0.5, 2),
          }),
          timeSeries({
            title: 'Store errors',
            description: 'Failed store writes per second. Any sustained value opens the store breaker.',
            unit: 'ops',
            queries: [{ expr: `sum by (store) (rate(aisflow_fusion_store_errors_total{${SEL}}[${R}])) or vector(0)`, legend: '{{store}}' }],
            thresholds: steps(0.1, 1),
          }),
          stateTimeline({
            title: 'Store breakers',
            description: 'Closed (green), half-open (orange), open (red: fusion stopped pulling).',
            unit: 'none',
            queries: [{ expr: `max by (store) (aisflow_fusion_breaker_state{${SEL}})`, legend: '{{store}}' }],
            mappings: BREAKER_STATES,
          }),
          timeSeries({
            title: 'Fusion dead letters',
            description: 'Records sent to the DLQ per second by reason (unrecoverable, or too many deliveries).',
            unit: 'ops',
            queries: [{ expr: `sum by (reason) (rate(aisflow_fusion_dlq_writes_total{${SEL}}[${R}])) or vector(0)`, legend: '{{reason}}' }],
            thresholds: steps(0.01, 1),
          }),
        ],
      },
    ],
  });
}
