import { describe, expect, it } from 'vitest';
import { IngestEnv, parseSourcesDocument, secretEnvNames } from './ingest.js';
import { ConfigError, loadConfig } from './load-config.js';

function problems(text: string): string[] {
  try {
    parseSourcesDocument(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('parseSourcesDocument', () => {
  it('reads YAML, fills defaults per kind', () => {
    const doc = parseSourcesDocument(
      [
        'sources:',
        '  - { id: coast-1, kind: tcp, address: "ais.example.org:5631", priority: 10 }',
        '  - { id: push, kind: tcp-listen, address: "0.0.0.0:10110" }',
        '  - { id: radio, kind: udp, address: "[::]:10111" }',
        '  - { id: demo, kind: file, address: data/x.nmea, pace: tag-time, speedup: 10, loop: true }',
        '  - { id: cloud, kind: websocket, address: "wss://stream.example/v1", format: json, apiKeyEnv: AISFLOW_SECRET_CLOUD }',
      ].join('\n'),
    );
    expect(doc.sources.map((s) => s.kind)).toEqual(['tcp', 'tcp-listen', 'udp', 'file', 'websocket']);
    expect(doc.sources[0]).toMatchObject({ priority: 10, enabled: true, idleTimeoutMs: 60_000, reconnect: { initialDelayMs: 500, maxDelayMs: 30_000 }, breaker: { failureThreshold: 5 } });
    expect(doc.sources[3]).toMatchObject({ pace: 'tag-time', speedup: 10, loop: true });
    expect(doc.sources[4]).toMatchObject({ format: 'json', jsonField: 'nmea', apiKeyIn: 'header', apiKeyName: 'authorization' });
    expect(secretEnvNames(doc)).toEqual(['AISFLOW_SECRET_CLOUD']);
  });

  it('accepts JSON too', () => {
    expect(parseSourcesDocument('{"sources":[{"id":"a","kind":"udp","address":"127.0.0.1:1"}]}').sources).toHaveLength(1);
  });

  it.each([
    ['a bad address, by its path', 'sources:\n  - { id: a, kind: tcp, address: "127.0.0.1:1" }\n  - { id: b, kind: tcp, address: nope }', 'sources[1].address'],
    ['an unknown kind', 'sources:\n  - { id: a, kind: serial, address: /dev/ttyUSB0 }', 'sources[0].kind: must be one of'],
    ['an unknown field', 'sources:\n  - { id: a, kind: udp, address: "1.2.3.4:5", colour: red }', 'sources[0]'],
    ['a nested field', 'sources:\n  - { id: a, kind: tcp, address: "h:1", reconnect: { initialDelayMs: 1 } }', 'sources[0].reconnect.initialDelayMs'],
    ['a duplicate id', 'sources:\n  - { id: a, kind: udp, address: "h:1" }\n  - { id: a, kind: udp, address: "h:2" }', 'sources[1].id: duplicate id "a"'],
    ['rate pacing without a rate', 'sources:\n  - { id: a, kind: file, address: x, pace: rate }', 'sources[0].linesPerSecond'],
    ['a secret not named AISFLOW_SECRET_*', 'sources:\n  - { id: a, kind: websocket, address: "ws://h", apiKeyEnv: API_KEY }', 'sources[0].apiKeyEnv'],
    ['an empty list', 'sources: []', 'sources: at least one source'],
    ['no list at all', 'feeds: []', 'feeds: unknown field'],
    ['not YAML', 'sources: [unclosed', '(root)'],
  ])('names %s', (_name, text, expected) => {
    expect(problems(text).join('\n')).toContain(expected);
  });

  it('reports every problem at once', () => {
    expect(problems('sources:\n  - { id: "bad id", kind: udp, address: x }\n  - { id: b, kind: tcp }')).toHaveLength(3);
  });
});

describe('IngestEnv', () => {
  it('has the documented defaults', () => {
    const c = loadConfig(IngestEnv, {});
    expect(c).toMatchObject({ AISFLOW_NATS_STREAM: 'AIS', AISFLOW_NATS_DLQ_STREAM: 'AIS_DLQ', AISFLOW_NATS_SUBJECT_PREFIX: 'ais', AISFLOW_PARTITIONS: 16, AISFLOW_HTTP_PORT: 9464 });
  });

  it('names a bad variable', () => {
    expect(() => loadConfig(IngestEnv, { AISFLOW_PARTITIONS: '0', AISFLOW_BATCH_LINGER_MS: 'soon' })).toThrow(/AISFLOW_PARTITIONS[\s\S]*AISFLOW_BATCH_LINGER_MS|AISFLOW_BATCH_LINGER_MS[\s\S]*AISFLOW_PARTITIONS/);
  });
});
