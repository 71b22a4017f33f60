import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { buildDashboard } from '../dashboard.js';
import { BREAKER_STATES, ON_OFF, PROMETHEUS, SEL, stateTimeline, steps, stepsLowBad, tablePanel, timeSeries, VAR } from '../panels.js';

const R = '$__rate_interval';
const SRC = `${SEL}, source=~"$${VAR.source}"`;

function sourceVariable(): dashboard.VariableModel {
  const query = `label_values(aisflow_ingest_lines_total{${SEL}}, source)`;
  return new dashboard.QueryVariableBuilder(VAR.source)
    .label('Source')
    .description('Configured ingest source id')
    .datasource(PROMETHEUS)
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .build();
}

/** Per receiver/feed: is it connected, how much does it send, how good is it. */
export function sourcesDashboard() {
  return buildDashboard({
    uid: 'aisflow-sources',
    title: 'aisflow / Sources',
    description: 'Per ingest source: rate, rejects by reason, reconnects, breaker, and fusion\'s trust score and demotions',
    variables: 'pipeline',
    extraVariables: [sourceVariable()],
    rows: [
      {
        title: 'Traffic',
        panels: [
          timeSeries({
            title: 'Messages per source',
            description: 'Decoded AIS messages per second per source. A flat zero for a connected source is a silent feed (alert AisflowIngestSourceStalled).',
            unit: 'ops',
            queries: [{ expr: `sum by (source) (rate(aisflow_ingest_messages_total{${SRC}}[${R}]))`, legend: '{{source}}' }],
          }),
          timeSeries({
            title: 'Bytes per source',
            description: 'Raw bytes read per second per source, before framing.',
            unit: 'Bps',
            queries: [{ expr: `sum by (source) (rate(aisflow_ingest_bytes_total{${SRC}}[${R}]))`, legend: '{{source}}' }],
          }),
          timeSeries({
            title: 'Messages by AIS type',
            description: 'Decoded messages per second by AIS message type (1-3 class A position, 5 static, 18/19 class B, 24 static B ...).',
            unit: 'ops',
            stack: true,
            queries: [{ expr: `sum by (type) (rate(aisflow_ingest_messages_total{${SRC}}[${R}]))`, legend: 'type {{type}}' }],
          }),
          timeSeries({
            title: 'Time since last message',
            description: 'Seconds since each source delivered a decodable message. Above 5 minutes the source counts as stalled.',
            unit: 's',
            queries: [{ expr: `time() - max by (source) (aisflow_ingest_last_message_timestamp_seconds{${SRC}})`, legend: '{{source}}' }],
            thresholds: steps(60, 300),
          }),
        ],
      },
      {
        title: 'Quality',
        panels: [
          timeSeries({
            title: 'Rejects by reason',
            description: 'Lines rejected per second by decoder reason (checksum_mismatch, fragment_timeout ...). A jump for one source points at its receiver or link.',
            unit: 'ops',
            stack: true,
            queries: [{ expr: `sum by (source, reason) (rate(aisflow_ingest_rejects_total{${SRC}}[${R}]))`, legend: '{{source}} {{reason}}' }],
          }),
          timeSeries({
            title: 'Skipped by reason',
            description: 'Lines deliberately skipped per second (not AIS, own-ship when configured, ...). Not errors.',
            unit: 'ops',
            stack: true,
            queries: [{ expr: `sum by (source, reason) (rate(aisflow_ingest_skipped_total{${SRC}}[${R}])) or vector(0)`, legend: '{{source}} {{reason}}' }],
          }),
          timeSeries({
            title: 'Reject ratio',
            description: 'Share of lines rejected per source. A healthy receiver stays under a few percent.',
            unit: 'percentunit',
            queries: [
              {
                expr: `sum by (source) (rate(aisflow_ingest_rejects_total{${SRC}}[${R}])) / sum by (source) (rate(aisflow_ingest_lines_total{${SRC}}[${R}]))`,
                legend: '{{source}}',
              },
            ],
            thresholds: steps(0.05, 0.2),
            min: 0,
          }),
          timeSeries({
            title: 'Dead-lettered lines',
            description: 'Lines sent to the DLQ stream per second, by source and reason.',
            unit: 'ops',
            queries: [{ expr: `sum by (source, reason) (rate(aisflow_ingest_dlq_writes_total{${SRC}}[${R}])) or vector(0)`, legend: '{{source}} {{reason}}' }],
          }),
        ],
      },
      {
        title: 'Connection',
        panels: [
          stateTimeline({
            title: 'Connected',
            description: 'Whether each source is connected (network sources) or open (files).',
            unit: 'none',
            queries: [{ expr: `max by (source) (aisflow_ingest_source_connected{${SRC}})`, legend: '{{source}}' }],
            mappings: ON_OFF(['down', 'red'], ['up', 'green']),
          }),
          stateTimeline({
            title: 'Breaker',
            description: 'The source\'s circuit breaker: open means repeated failures and the source is not being read.',
            unit: 'none',
            queries: [{ expr: `max by (source) (aisflow_ingest_breaker_state{${SRC}})`, legend: '{{source}}' }],
            mappings: BREAKER_STATES,
          }),
          stateTimeline({
            title: 'Paused (backpressure)',
            description: 'A source is paused while JetStream publishes are backed up; reading resumes when in-flight publishes drain.',
            unit: 'none',
            queries: [{ expr: `max by (source) (aisflow_ingest_source_paused{${SRC}})`, legend: '{{source}}' }],
            mappings: ON_OFF(['reading', 'green'], ['paused', 'orange']),
          }),
          timeSeries({
            title: 'Reconnects',
            description: 'Reconnects per source over the interval. Frequent reconnects mean a flapping link or a server dropping us.',
            unit: 'short',
            queries: [{ expr: `sum by (source) (increase(aisflow_ingest_reconnects_total{${SRC}}[${R}])) or vector(0)`, legend: '{{source}}' }],
            thresholds: steps(3, 10),
          }),
        ],
      },
      {
        title: 'Trust',
        panels: [
          timeSeries({
            title: 'Trust score',
            description: 'Fusion\'s trust in each source, 0 (distrusted) to 1. It falls when reports fail plausibility or arrive late.',
            unit: 'percentunit',
            min: 0,
            max: 1,
            queries: [{ expr: `max by (source) (aisflow_fusion_source_trust_score{${SRC}})`, legend: '{{source}}' }],
            thresholds: stepsLowBad(0.3, 0.7),
          }),
          tablePanel({
            title: 'Demoted sources',
            description: 'Sources fusion currently demotes (1) and how often each was demoted in the time range.',
            unit: 'short',
            queries: [
              { expr: `max by (source) (aisflow_fusion_source_demoted{${SRC}})`, legend: 'demoted', instant: true },
              { expr: `sum by (source) (increase(aisflow_fusion_source_demotions_total{${SRC}}[$__range])) or vector(0)`, legend: 'demotions', instant: true },
            ],
            thresholds: steps(1, 5),
          }),
        ],
      },
    ],
  });
}
