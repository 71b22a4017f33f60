import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Every metric the API process owns (docs/metrics.md, "api"). Label sets are closed: `route` is
 * the matched route pattern (never the raw URL) or `unmatched`, `method` an HTTP verb,
 * `status_code` a number the server itself produced.
 */
export interface ApiMetrics {
  requests: Counter<'route' | 'method' | 'status_code'>;
  requestDuration: Histogram<'route' | 'method'>;
  sseClients: Gauge;
  sseDropped: Counter;
  sseDisconnected: Counter<'reason'>;
  dlqMessages: Gauge;
  vesselsLive: Gauge;
  gaugeRefreshErrors: Counter<'gauge'>;
  breakerState: Gauge<'store'>;
}

export function createApiMetrics(registry: Registry): ApiMetrics {
  const registers = [registry];
  return {
    requests: new Counter({
      name: 'aisflow_api_requests_total',
      help: 'HTTP requests answered, by matched route, method and status code',
      labelNames: ['route', 'method', 'status_code'] as const,
      registers,
    }),
    requestDuration: new Histogram({
      name: 'aisflow_api_request_duration_seconds',
      help: 'Time to answer an HTTP request (SSE streams excluded), by matched route and method',
      labelNames: ['route', 'method'] as const,
      // API answers are Redis/Postgres round trips: sub-millisecond to a few seconds.
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    sseClients: new Gauge({ name: 'aisflow_api_sse_clients', help: 'Connected /v1/stream clients', registers }),
    sseDropped: new Counter({
      name: 'aisflow_api_sse_dropped_total',
      help: 'Live updates not sent to an SSE client because its connection was backed up',
      registers,
    }),
    sseDisconnected: new Counter({
      name: 'aisflow_api_sse_disconnects_total',
      help: 'SSE clients the server disconnected, by reason (slow: too many drops in a row; shutdown)',
      labelNames: ['reason'] as const,
      registers,
    }),
    dlqMessages: new Gauge({
      name: 'aisflow_api_dlq_messages',
      help: 'Messages in the dead-letter stream, read when /metrics is scraped',
      registers,
    }),
    vesselsLive: new Gauge({
      name: 'aisflow_api_vessels_live',
      help: 'Vessels with a live state in Redis, read when /metrics is scraped',
      registers,
    }),
    gaugeRefreshErrors: new Counter({
      name: 'aisflow_api_gauge_refresh_errors_total',
      help: 'Failures reading a store-backed gauge at scrape time (the gauge keeps its last value)',
      labelNames: ['gauge'] as const,
      registers,
    }),
    breakerState: new Gauge({
      name: 'aisflow_api_breaker_state',
      help: "State of the API's circuit breaker around store reads: 0 closed, 1 half-open, 2 open",
      labelNames: ['store'] as const,
      registers,
    }),
  };
}
