import {
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { AisflowError } from '../shared/errors.js';
import { recordStreamDescription } from '../shared/stream-partitions.js';
import { subjects, type NatsNames } from '../shared/subjects.js';

/** The configured stream cannot be created, or the existing one cannot be changed to it. Not retryable. */
export class StreamConflictError extends AisflowError {
  constructor(
    message: string,
    readonly stream: string,
    options?: ErrorOptions,
  ) {
    super('AISFLOW_ERR_NATS_STREAM_CONFLICT', message, options);
  }
}

export function isStreamConflict(err: unknown): err is StreamConflictError {
  return err instanceof StreamConflictError;
}

export interface StreamLimits {
  maxAgeS: number;
  maxBytes: number;
  duplicateWindowS: number;
  replicas: number;
}

export type DesiredStream = Pick<
  StreamConfig,
  'name' | 'subjects' | 'storage' | 'retention' | 'discard' | 'max_age' | 'max_bytes' | 'duplicate_window' | 'num_replicas' | 'description'
>;

/**
 * Stream `AIS`: record batches on `<prefix>.msg.>`, file storage, limits retention. Discard old
 * at max_bytes: fusion consumes within seconds, so the oldest data is long processed when the
 * limit bites; discarding new would stall ingest for hours until max_age frees space. The
 * description carries the partition count the subjects are keyed by (stream-partitions.ts).
 */
export function recordStreamConfig(names: NatsNames, limits: StreamLimits, partitions: number): DesiredStream {
  return {
    name: names.stream,
    description: recordStreamDescription(partitions),
    subjects: [subjects.allPartitions(names)],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(limits.maxAgeS * 1000),
    max_bytes: limits.maxBytes,
    duplicate_window: nanos(limits.duplicateWindowS * 1000),
    num_replicas: limits.replicas,
  };
}

/** Fields the server will not change on an existing stream: a difference is a conflict, not an update. */
const immutable = ['storage', 'retention'] as const;
const compared = ['subjects', 'storage', 'retention', 'discard', 'max_age', 'max_bytes', 'duplicate_window', 'num_replicas', 'description'] as const;

function normalize(cfg: Partial<DesiredStream>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of compared) {
    const v = cfg[k];
    out[k] = k === 'subjects' ? [...((v as string[] | undefined) ?? [])].sort() : (v ?? null);
  }
  return out;
}

/** The fields whose values differ (empty when the stream already has the desired settings). */
export function streamDiff(current: Partial<DesiredStream>, desired: DesiredStream): string[] {
  const a = normalize(current);
  const b = normalize(desired);
  return compared.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

export type EnsureResult = 'created' | 'updated' | 'unchanged';

/**
 * Creates the stream, or updates it when its settings differ, or leaves it alone when they are
 * equal (start-up of N replicas must not rewrite the stream N times). A change the server
 * cannot apply becomes a StreamConflictError naming the fields and the server's reason.
 */
export async function ensureStream(jsm: JetStreamManager, desired: DesiredStream): Promise<EnsureResult> {
  let info: StreamInfo | null = null;
  try {
    info = await jsm.streams.info(desired.name);
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== 10059) throw err; // 10059: stream not found
  }
  if (!info) {
    try {
      await jsm.streams.add(desired);
      return 'created';
    } catch (err) {
      if (err instanceof JetStreamApiError) {
        throw new StreamConflictError(`stream ${desired.name} cannot be created as configured: ${err.message} (JetStream error ${err.code})`, desired.name, { cause: err });
      }
      throw err;
    }
  }
  const diff = streamDiff(info.config, desired);
  if (diff.length === 0) return 'unchanged';
  const fixed = diff.filter((k) => (immutable as readonly string[]).includes(k));
  const describe = (keys: string[]) =>
    keys.map((k) => `${k}: ${JSON.stringify(normalize(info.config)[k])} -> ${JSON.stringify(normalize(desired)[k])}`).join(', ');
  if (fixed.length > 0) {
    throw new StreamConflictError(
      `stream ${desired.name} exists with settings that cannot be changed in place (${describe(fixed)}); ` +
        'migrate or delete the stream, or configure the existing settings',
      desired.name,
    );
  }
  try {
    const { name: _name, ...update } = desired;
    await jsm.streams.update(desired.name, update);
    return 'updated';
  } catch (err) {
    if (err instanceof JetStreamApiError) {
      throw new StreamConflictError(`stream ${desired.name} cannot be updated (${describe(diff)}): ${err.message} (JetStream error ${err.code})`, desired.name, { cause: err });
    }
    throw err;
  }
}
