import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { LogLevelEnv, NatsEnvProperties } from './common.js';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './load-config.js';

/**
 * Environment of `aisflow ingest` (docs/configuration.md, "ingest"). Read once in bin/ingest.ts
 * with loadConfig(); every default lives here, once, with its unit.
 */
export const IngestEnv = Type.Object({
  ...NatsEnvProperties,
  AISFLOW_HTTP_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9464 }),
  AISFLOW_LOG_LEVEL: LogLevelEnv,
  /** Accepted so one rendered environment fits every process; ingest writes no Redis keys. */
  AISFLOW_KEY_PREFIX: Type.String({ default: 'aisflow:dev' }),
  /** JSON or YAML sources document; optional when `--file` is given. */
  AISFLOW_INGEST_SOURCES_FILE: Type.Optional(Type.String({ minLength: 1 })),
  /** Stream `AIS`: records older than this are removed (seconds). @default 86400 */
  AISFLOW_STREAM_MAX_AGE_S: Type.Integer({ minimum: 1, default: 86_400 }),
  /** Stream `AIS`: size limit; the oldest batches are removed beyond it. @default 1 GiB */
  AISFLOW_STREAM_MAX_BYTES: Type.Integer({ minimum: 1_048_576, default: 1_073_741_824 }),
  /** Window in which a re-sent batch (same Nats-Msg-Id) is dropped by JetStream (seconds). */
  AISFLOW_STREAM_DUPLICATE_WINDOW_S: Type.Integer({ minimum: 1, default: 120 }),
  AISFLOW_STREAM_REPLICAS: Type.Integer({ minimum: 1, maximum: 5, default: 1 }),
  /** Stream `AIS_DLQ`: dead letters are kept this long for inspection and retry (seconds). @default 7 days */
  AISFLOW_DLQ_MAX_AGE_S: Type.Integer({ minimum: 1, default: 604_800 }),
  AISFLOW_DLQ_MAX_BYTES: Type.Integer({ minimum: 1_048_576, default: 268_435_456 }),
  /** A batch is sent when it holds this many records... */
  AISFLOW_BATCH_MAX_RECORDS: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000 }),
  /** ...or this many bytes of JSON (kept under the server's max_payload)... */
  AISFLOW_BATCH_MAX_BYTES: Type.Integer({ minimum: 1024, maximum: 8_388_608, default: 262_144 }),
  /** ...or its first record has waited this long (ms): fewer, larger messages against added latency (docs/configuration.md). */
  AISFLOW_BATCH_LINGER_MS: Type.Integer({ minimum: 0, maximum: 10_000, default: 10 }),
  /** JetStream publishes awaiting an ack at once. */
  AISFLOW_PUBLISH_MAX_INFLIGHT: Type.Integer({ minimum: 1, maximum: 4096, default: 64 }),
  /** Wait for one publish ack before retrying it with the same Nats-Msg-Id (ms). */
  AISFLOW_PUBLISH_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 5_000 }),
  /** Sources pause when this many records are read but not yet acknowledged; resume at half. */
  AISFLOW_INGEST_MAX_PENDING_RECORDS: Type.Integer({ minimum: 100, default: 100_000 }),
  /** Lines longer than this are cut, rejected as line_too_long and skipped up to the next newline (bytes). */
  AISFLOW_INGEST_MAX_LINE_BYTES: Type.Integer({ minimum: 82, maximum: 1_048_576, default: 4096 }),
  /** Multi-sentence messages wait this long for their missing parts (ms). */
  AISFLOW_FRAGMENT_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 5_000 }),
  /** On SIGTERM, give up waiting for JetStream after this long and exit 1 (seconds). */
  AISFLOW_DRAIN_TIMEOUT_S: Type.Integer({ minimum: 1, default: 25 }),
});
export type IngestEnv = Static<typeof IngestEnv>;

// ---------------------------------------------------------------------------------------------
// The sources document (rendered by the operator into a ConfigMap; docs/ingest.md).

const SourceId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'letters, digits, _ and -, at most 64' });
const HostPort = Type.String({ pattern: '^(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9_.-]+):[0-9]{1,5}$', description: 'host:port' });

const Common = {
  id: SourceId,
  /** Higher wins when fusion must choose between sources; carried for operators and docs. @default 0 */
  priority: Type.Integer({ minimum: -1000, maximum: 1000, default: 0 }),
  /** Disabled sources are validated but not started. @default true */
  enabled: Type.Boolean({ default: true }),
};

const Reconnect = Type.Object(
  {
    initialDelayMs: Type.Integer({ minimum: 10, default: 500 }),
    maxDelayMs: Type.Integer({ minimum: 10, default: 30_000 }),
  },
  { additionalProperties: false, default: {} },
);
const Breaker = Type.Object(
  {
    /** consecutive failed connects that open the breaker */
    failureThreshold: Type.Integer({ minimum: 1, default: 5 }),
    /** how long it stays open before one trial connect (ms) */
    halfOpenAfterMs: Type.Integer({ minimum: 100, default: 30_000 }),
  },
  { additionalProperties: false, default: {} },
);

export const TcpSourceSchema = Type.Object(
  {
    ...Common,
    kind: Type.Literal('tcp'),
    address: HostPort,
    /** no byte for this long → the connection is considered dead and re-opened (ms); 0 = off */
    idleTimeoutMs: Type.Integer({ minimum: 0, default: 60_000 }),
    connectTimeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
    reconnect: Reconnect,
    breaker: Breaker,
  },
  { additionalProperties: false },
);
export const TcpListenSourceSchema = Type.Object(
  {
    ...Common,
    kind: Type.Literal('tcp-listen'),
    address: HostPort,
    maxConnections: Type.Integer({ minimum: 1, default: 64 }),
    idleTimeoutMs: Type.Integer({ minimum: 0, default: 300_000 }),
  },
  { additionalProperties: false },
);
export const UdpSourceSchema = Type.Object(
  { ...Common, kind: Type.Literal('udp'), address: HostPort },
  { additionalProperties: false },
);
export const FileSourceSchema = Type.Object(
  {
    ...Common,
    kind: Type.Literal('file'),
    /** path of the capture */
    address: Type.String({ minLength: 1 }),
    /** fast: as fast as publishing allows; tag-time: by tag-block c: times; rate: linesPerSecond */
    pace: Type.Union([Type.Literal('fast'), Type.Literal('tag-time'), Type.Literal('rate')], { default: 'fast' }),
    linesPerSecond: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /** tag-time pacing runs this many times faster than real time @default 1 */
    speedup: Type.Number({ exclusiveMinimum: 0, default: 1 }),
    loop: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);
export const WebSocketSourceSchema = Type.Object(
  {
    ...Common,
    kind: Type.Literal('websocket'),
    /** ws:// or wss:// URL */
    address: Type.String({ pattern: '^wss?://' }),
    /** nmea: text frames of NMEA lines; json: JSON frames whose `jsonField` holds a line or an array of lines */
    format: Type.Union([Type.Literal('nmea'), Type.Literal('json')], { default: 'nmea' }),
    jsonField: Type.String({ minLength: 1, default: 'nmea' }),
    /** name of the env variable holding the API key (filled by the operator from a Secret) */
    apiKeyEnv: Type.Optional(Type.String({ pattern: '^AISFLOW_SECRET_[A-Z0-9_]+$' })),
    /** how the key is sent: an HTTP header on the upgrade request, a query parameter, or a first message */
    apiKeyIn: Type.Union([Type.Literal('header'), Type.Literal('query'), Type.Literal('message')], { default: 'header' }),
    /** header or query parameter name @default 'authorization' (sent as `Bearer <key>`) */
    apiKeyName: Type.String({ minLength: 1, default: 'authorization' }),
    /** first message sent after connecting; `${apiKey}` is replaced by the key */
    subscribeMessage: Type.Optional(Type.String()),
    idleTimeoutMs: Type.Integer({ minimum: 0, default: 120_000 }),
    reconnect: Reconnect,
    breaker: Breaker,
  },
  { additionalProperties: false },
);

export type TcpSourceConfig = Static<typeof TcpSourceSchema>;
export type TcpListenSourceConfig = Static<typeof TcpListenSourceSchema>;
export type UdpSourceConfig = Static<typeof UdpSourceSchema>;
export type FileSourceConfig = Static<typeof FileSourceSchema>;
export type WebSocketSourceConfig = Static<typeof WebSocketSourceSchema>;
export type SourceConfig = TcpSourceConfig | TcpListenSourceConfig | UdpSourceConfig | FileSourceConfig | WebSocketSourceConfig;
export type SourceKind = SourceConfig['kind'];

/** One schema per kind: validating against the right one names the bad field, where a union would only say "no match". */
const schemaByKind: Record<SourceKind, TSchema> = {
  tcp: TcpSourceSchema,
  'tcp-listen': TcpListenSourceSchema,
  udp: UdpSourceSchema,
  file: FileSourceSchema,
  websocket: WebSocketSourceSchema,
};

export interface SourcesDocument {
  sources: SourceConfig[];
}

/** `/sources/2/address` → `sources[2].address` */
function toFieldPath(prefix: string, pointer: string): string {
  let out = prefix;
  for (const part of pointer.split('/').filter((p) => p.length > 0)) {
    out += /^\d+$/.test(part) ? `[${part}]` : `${out ? '.' : ''}${part.replace(/~1/g, '/').replace(/~0/g, '~')}`;
  }
  return out || '(root)';
}

/**
 * Parses and validates a sources document (JSON or YAML; JSON is YAML). Every problem is
 * reported at once with its field path (`sources[2].address: ...`); defaults are filled in.
 */
export function parseSourcesDocument(text: string, origin = 'sources document'): SourcesDocument {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${origin}: not valid JSON or YAML: ${(err as Error).message}`, [`(root): ${(err as Error).message}`]);
  }
  const problems: string[] = [];
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    problems.push('(root): expected an object with a `sources` list');
  } else {
    const keys = Object.keys(doc);
    for (const k of keys) if (k !== 'sources') problems.push(`${k}: unknown field (expected only \`sources\`)`);
    const list = (doc as { sources?: unknown }).sources;
    if (!Array.isArray(list)) problems.push('sources: expected a list of sources');
  }
  if (problems.length > 0) throw new ConfigError(`${origin} is invalid:\n  ${problems.join('\n  ')}`, problems);

  const raw = (doc as { sources: unknown[] }).sources;
  const sources: SourceConfig[] = [];
  const seen = new Map<string, number>();
  raw.forEach((item, i) => {
    const at = `sources[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.push(`${at}: expected an object`);
      return;
    }
    const kind = (item as { kind?: unknown }).kind;
    const schema = typeof kind === 'string' ? schemaByKind[kind as SourceKind] : undefined;
    if (!schema) {
      problems.push(`${at}.kind: must be one of ${Object.keys(schemaByKind).join(', ')} (got ${JSON.stringify(kind)})`);
      return;
    }
    const value = Value.Default(schema, structuredClone(item));
    const errors = [...Value.Errors(schema, value)];
    // One problem per field: TypeBox reports a missing property as "required" and again as "Expected string".
    const seenPaths = new Set<string>();
    for (const e of errors) {
      const path = toFieldPath(at, e.path);
      if (seenPaths.has(path)) continue;
      seenPaths.add(path);
      problems.push(`${path}: ${e.message}`);
    }
    if (errors.length > 0) return;
    const source = value as SourceConfig;
    if (source.kind === 'file' && source.pace === 'rate' && source.linesPerSecond === undefined) {
      problems.push(`${at}.linesPerSecond: required when pace is "rate"`);
    }
    if ((source.kind === 'tcp' || source.kind === 'websocket') && source.reconnect.maxDelayMs < source.reconnect.initialDelayMs) {
      problems.push(`${at}.reconnect.maxDelayMs: must be >= initialDelayMs (${source.reconnect.initialDelayMs})`);
    }
    if (source.kind === 'websocket' && source.apiKeyIn === 'message' && source.subscribeMessage === undefined) {
      problems.push(`${at}.subscribeMessage: required when apiKeyIn is "message"`);
    }
    const first = seen.get(source.id);
    if (first !== undefined) problems.push(`${at}.id: duplicate id "${source.id}" (also sources[${first}].id)`);
    else seen.set(source.id, i);
    sources.push(source);
  });
  if (sources.length === 0 && problems.length === 0) problems.push('sources: at least one source is required');
  if (problems.length > 0) throw new ConfigError(`${origin} is invalid:\n  ${problems.join('\n  ')}`, problems);
  return { sources };
}

/** The names of the secret env variables a document refers to (bin/ingest.ts resolves them). */
export function secretEnvNames(doc: SourcesDocument): string[] {
  return doc.sources.flatMap((s) => (s.kind === 'websocket' && s.apiKeyEnv ? [s.apiKeyEnv] : []));
}
