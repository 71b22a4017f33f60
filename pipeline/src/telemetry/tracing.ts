import { context, propagation, trace, type Context, type TextMapGetter, type TextMapSetter, type Tracer } from '@opentelemetry/api';
import { createRequire } from 'node:module';
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';
import type * as Resources from '@opentelemetry/resources';
import type * as SdkNode from '@opentelemetry/sdk-node';
import type * as SdkTraceBase from '@opentelemetry/sdk-trace-base';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type * as SemConv from '@opentelemetry/semantic-conventions';
import type { MsgHdrs } from '@nats-io/transport-node';

const lazyRequire = createRequire(import.meta.url);

/**
 * W3C trace context carried in NATS message headers (`traceparent`, `tracestate`), so one trace
 * spans ingest → JetStream → fusion → store writes.
 */
const natsHeaderSetter: TextMapSetter<MsgHdrs> = {
  set(carrier, key, value) {
    carrier.set(key, value);
  },
};

const natsHeaderGetter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (carrier) => (carrier ? carrier.keys() : []),
  get: (carrier, key) => {
    if (!carrier || !carrier.has(key)) return undefined;
    return carrier.get(key);
  },
};

/** Writes the active (or given) context's trace headers into `headers`. */
export function injectTraceHeaders(headers: MsgHdrs, ctx: Context = context.active()): void {
  propagation.inject(ctx, headers, natsHeaderSetter);
}

/** The context a consumer should run its span under, from a message's headers. */
export function extractTraceContext(headers: MsgHdrs | undefined, base: Context = context.active()): Context {
  return propagation.extract(base, headers, natsHeaderGetter);
}

/** The tracer every aisflow module uses; a no-op until `startTracing` registers a provider. */
export function aisflowTracer(): Tracer {
  return trace.getTracer('aisflow');
}

/** Where spans go. Built from the standard OTEL_* variables by `tracingOptionsFromEnv` in bin/. */
export interface TracingOptions {
  /** OTLP/HTTP traces endpoint and headers; null: export off */
  otlp: { url: string; headers: Record<string, string> } | null;
  /** extra processors (tests: a SimpleSpanProcessor over an InMemorySpanExporter) */
  spanProcessors?: SpanProcessor[];
  serviceVersion?: string;
}

export interface TracingHandle {
  /** false when nothing was registered (no exporter configured): spans are no-ops */
  enabled: boolean;
  /** flushes pending spans; call before the process exits */
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK for one process. Off (no provider, no propagator, zero cost) unless
 * an OTLP endpoint is configured or processors are passed in: a local run or a test that does not
 * ask for traces pays nothing. Only traces: metrics are prom-client's, logs are pino's.
 */
export function startTracing(serviceName: string, options: TracingOptions): TracingHandle {
  if (!options.otlp && (options.spanProcessors ?? []).length === 0) return { enabled: false, shutdown: async () => {} };
  // Loaded only when tracing is on: the SDK and its exporters take about two seconds of CPU to
  // import, which every process start and every test that spawns a process would otherwise pay.
  const { OTLPTraceExporter } = lazyRequire('@opentelemetry/exporter-trace-otlp-http') as typeof OtlpHttp;
  const { resourceFromAttributes } = lazyRequire('@opentelemetry/resources') as typeof Resources;
  const { core, NodeSDK } = lazyRequire('@opentelemetry/sdk-node') as typeof SdkNode;
  const { BatchSpanProcessor } = lazyRequire('@opentelemetry/sdk-trace-base') as typeof SdkTraceBase;
  const { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } = lazyRequire('@opentelemetry/semantic-conventions') as typeof SemConv;

  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (options.otlp) processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: options.otlp.url, headers: options.otlp.headers })));

  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: serviceName,
      ...(options.serviceVersion ? { [ATTR_SERVICE_VERSION]: options.serviceVersion } : {}),
    }),
    // Everything explicit: the SDK must not pick further exporters from the environment by itself.
    autoDetectResources: false,
    spanProcessors: processors,
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
    textMapPropagator: new core.CompositePropagator({
      propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()],
    }),
  });
  sdk.start();
  return { enabled: true, shutdown: () => sdk.shutdown() };
}

/**
 * Reads the standard OpenTelemetry variables (OTLP/HTTP exporter spec) from an environment map.
 * Called in bin/ with `process.env`; pure, so it is tested with plain objects.
 * - OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none: off.
 * - OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as is; OTEL_EXPORTER_OTLP_ENDPOINT gets `/v1/traces`.
 * - OTEL_EXPORTER_OTLP_(TRACES_)HEADERS: `key=value,key2=value2`, values URL-decoded.
 */
export function tracingOptionsFromEnv(env: Record<string, string | undefined>): TracingOptions {
  const off = env.OTEL_SDK_DISABLED?.toLowerCase() === 'true' || env.OTEL_TRACES_EXPORTER?.toLowerCase() === 'none';
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const url = tracesEndpoint ? tracesEndpoint : endpoint ? `${endpoint.replace(/\/+$/, '')}/v1/traces` : null;
  if (off || url === null) return { otlp: null };
  return { otlp: { url, headers: { ...parseHeaders(env.OTEL_EXPORTER_OTLP_HEADERS), ...parseHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS) } } };
}

function parseHeaders(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const pair of raw.split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    out[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return out;
}
