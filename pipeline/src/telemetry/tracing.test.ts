import { describe, expect, it } from 'vitest';
import { tracingOptionsFromEnv } from './tracing.js';

describe('tracingOptionsFromEnv', () => {
  it.each([
    [{}, null],
    [{ OTEL_SERVICE_NAME: 'x' }, null],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, { url: 'http://collector:4318/v1/traces', headers: {} }],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }, { url: 'http://collector:4318/v1/traces', headers: {} }],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:4318/custom' },
      { url: 'http://t:4318/custom', headers: {} },
    ],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'a=1, b=x%20y', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'a=2' },
      { url: 'http://c:4318/v1/traces', headers: { a: '2', b: 'x y' } },
    ],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }, null],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }, null],
  ])('%j → %j', (env, otlp) => {
    expect(tracingOptionsFromEnv(env).otlp).toEqual(otlp);
  });
});
