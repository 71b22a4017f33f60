import { buildDashboard } from '../dashboard.js';
import { BREAKER_STATES, SEL, stateTimeline, statPanel, steps, stepsLowBad, timeSeries } from '../panels.js';

const R = '$__rate_interval';

/** The first screen on call: is data flowing, how late is it, what is broken. */
export function overviewDashboard() {
  return buildDashboard({
    uid: 'aisflow-overview',
    title: 'aisflow / Overview',
    description: 'Throughput, end-to-end lag, vessels tracked, dead letters and breaker states of one AisPipeline',
    variables: 'pipeline',
    rows: [
      {
        title: 'Now',
        panels: [
          statPanel({
            title: 'Messages in',
            description: 'AIS messages decoded by ingest per second, all sources. Zero while sources are connected means the feeds went silent.',
            unit: 'suffix: msg/s',
            queries: [{ expr: `sum(rate(aisflow_ingest_messages_total{${SEL}}[${R}]))` }],
            thresholds: stepsLowBad(0.01, 1),
          }),
          statPanel({
            title: 'Records fused',
            description: 'Records fusion accepted into live state per second. Far below "Messages in" means duplicates, rejects or a stalled fusion.',
            unit: 'suffix: rec/s',
            queries: [{ expr: `sum(rate(aisflow_fusion_records_total{${SEL}, outcome="accepted"}[${R}]))` }],
            thresholds: stepsLowBad(0.01, 1),
          }),
          statPanel({
            title: 'End-to-end lag p99',
            description: '99th percentile from a record\'s publish to JetStream to its visibility in Redis. Above 5 s the live picture is late (alert AisflowEndToEndLatencyHigh).',
            unit: 's',
            decimals: 2,
            queries: [{ expr: `histogram_quantile(0.99, sum by (le) (rate(aisflow_fusion_end_to_end_latency_seconds_bucket{${SEL}}[${R}])))` }],
            thresholds: steps(2, 5),
          }),
          statPanel({
            title: 'Vessels tracked',
            description: 'Vessels with live state in Redis, as counted by the API.',
            unit: 'short',
            queries: [{ expr: `max(aisflow_api_vessels_live{${SEL}})`, instant: true }],
          }),
          statPanel({
            title: 'Dead letters',
            description: 'Messages waiting in the DLQ stream (decode rejects and fusion failures). Growth needs a look: see the DLQ admin API.',
            unit: 'short',
            queries: [{ expr: `max(aisflow_api_dlq_messages{${SEL}})`, instant: true }],
            thresholds: steps(1000, 100000),
          }),
          statPanel({
            title: 'Fusion members',
            description: 'Fusion pods in the membership bucket. Zero means no partition is being processed.',
            unit: 'short',
            queries: [{ expr: `max(aisflow_fusion_members{${SEL}})`, instant: true }],
            thresholds: stepsLowBad(1, 1),
          }),
        ],
      },
      {
        title: 'Flow',
        panels: [
          timeSeries({
            title: 'Throughput by stage',
            description: 'Lines read, messages decoded, records published to JetStream and records accepted by fusion, per second. The stages should move together.',
            unit: 'ops',
            queries: [
              { expr: `sum(rate(aisflow_ingest_lines_total{${SEL}}[${R}]))`, legend: 'lines read' },
              { expr: `sum(rate(aisflow_ingest_messages_total{${SEL}}[${R}]))`, legend: 'messages decoded' },
              { expr: `sum(rate(aisflow_ingest_records_published_total{${SEL}}[${R}]))`, legend: 'published to JetStream' },
              { expr: `sum(rate(aisflow_fusion_records_total{${SEL}, outcome="accepted"}[${R}]))`, legend: 'accepted by fusion' },
            ],
          }),
          timeSeries({
            title: 'End-to-end lag',
            description: 'Publish-to-visible latency quantiles. A rising p50 means fusion is behind, not just a slow batch.',
            unit: 's',
            queries: [0.5, 0.9, 0.99].map((q) => ({
              expr: `histogram_quantile(${q}, sum by (le) (rate(aisflow_fusion_end_to_end_latency_seconds_bucket{${SEL}}[${R}])))`,
              legend: `p${q * 100}`,
            })),
            thresholds: steps(2, 5),
          }),
          timeSeries({
            title: 'Backlog in JetStream',
            description: 'Messages waiting for fusion, summed over partitions. Steady growth means fusion cannot keep up (alert AisflowConsumerLagGrowing).',
            unit: 'short',
            queries: [{ expr: `sum(aisflow_fusion_consumer_pending_messages{${SEL}})`, legend: 'pending' }],
            thresholds: steps(1000, 10000),
          }),
          timeSeries({
            title: 'Errors',
            description: 'Everything that went wrong per second: rejected lines, publish failures, store write errors, fusion dead letters and API 5xx. Rejects are normal in small numbers (radio noise); the others should be zero.',
            unit: 'ops',
            queries: [
              { expr: `sum(rate(aisflow_ingest_rejects_total{${SEL}}[${R}]))`, legend: 'decode rejects' },
              // `or vector(0)`: a counter that has never been incremented has no series yet;
              // "no errors" should draw as zero, not as "No data".
              { expr: `sum(rate(aisflow_ingest_publish_errors_total{${SEL}}[${R}])) or vector(0)`, legend: 'publish errors' },
              { expr: `sum by (store) (rate(aisflow_fusion_store_errors_total{${SEL}}[${R}])) or vector(0)`, legend: 'store errors {{store}}' },
              { expr: `sum(rate(aisflow_fusion_dlq_writes_total{${SEL}}[${R}])) or vector(0)`, legend: 'fusion dead letters' },
              { expr: `sum(rate(aisflow_api_requests_total{${SEL}, status_code=~"5.."}[${R}])) or vector(0)`, legend: 'API 5xx' },
            ],
            thresholds: steps(1, 10),
          }),
        ],
      },
      {
        title: 'Breakers',
        panels: [
          stateTimeline({
            title: 'Source breakers',
            description: 'Circuit breaker per ingest source: closed (green), half-open (probing, orange), open (red: the source is failing and is not being read).',
            unit: 'none',
            queries: [{ expr: `max by (source) (aisflow_ingest_breaker_state{${SEL}})`, legend: '{{source}}' }],
            mappings: BREAKER_STATES,
          }),
          stateTimeline({
            title: 'Store breakers',
            description: 'Fusion\'s circuit breaker per store. Open means fusion stopped pulling: messages wait in JetStream until the store recovers.',
            unit: 'none',
            queries: [{ expr: `max by (store) (aisflow_fusion_breaker_state{${SEL}})`, legend: '{{store}}' }],
            mappings: BREAKER_STATES,
          }),
        ],
      },
    ],
  });
}
