import { JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import { AisflowError } from './errors.js';
import { subjects, type NatsNames } from './subjects.js';

/**
 * The record stream is keyed by the partition count (`hash(MMSI) mod P` picks the subject), so
 * every process must use the count the stream was filled with. A process with another count
 * would strand what is already stored on the subjects it no longer reads, and file a vessel's
 * live state under a second partition. The stream's description carries the count (written by
 * ingest); a stream made before it did is judged by the subjects it holds messages on.
 */
export class PartitionsMismatchError extends AisflowError {
  constructor(
    message: string,
    readonly stream: string,
  ) {
    super('AISFLOW_ERR_NATS_PARTITIONS_MISMATCH', message);
  }
}

export function isPartitionsMismatch(err: unknown): err is PartitionsMismatchError {
  return err instanceof PartitionsMismatchError;
}

const DESCRIPTION = 'aisflow AIS record batches (one JSON AisBatchV1 per message)';

export function recordStreamDescription(partitions: number): string {
  return `${DESCRIPTION}; partitions=${partitions}`;
}

/** The partition count a record stream's description declares, or null if it declares none. */
export function declaredPartitions(description: string | undefined): number | null {
  const m = /; partitions=(\d+)$/.exec(description ?? '');
  return m ? Number(m[1]) : null;
}

/**
 * Throws PartitionsMismatchError when the record stream exists and is keyed by another count
 * than `partitions`: its description says so, or it holds messages on a partition subject at or
 * past `partitions`. Returns false when the stream does not exist yet, true when it matches.
 */
export async function checkStreamPartitions(jsm: JetStreamManager, names: NatsNames, partitions: number): Promise<boolean> {
  let info;
  try {
    info = await jsm.streams.info(names.stream, { subjects_filter: subjects.allPartitions(names) });
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === 10059) return false; // stream not found
    throw err;
  }
  const declared = declaredPartitions(info.config.description);
  const fix = `set AISFLOW_PARTITIONS=${declared ?? 'to the count it was filled with'} on every process, or start a new stream (records in it are keyed by the partition count)`;
  if (declared !== null && declared !== partitions) {
    throw new PartitionsMismatchError(`stream ${names.stream} is keyed by ${declared} partitions, this process by ${partitions}: ${fix}`, names.stream);
  }
  const prefix = subjects.allPartitions(names).slice(0, -1); // `<prefix>.msg.`
  const beyond: string[] = [];
  for (const [subject, count] of Object.entries(info.state.subjects ?? {})) {
    const p = subject.startsWith(prefix) ? Number(subject.slice(prefix.length)) : NaN;
    if (Number.isInteger(p) && p >= partitions && count > 0) beyond.push(subject);
  }
  if (beyond.length > 0) {
    beyond.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    const shown = beyond.length > 3 ? `${beyond.slice(0, 3).join(', ')} and ${beyond.length - 3} more` : beyond.join(', ');
    throw new PartitionsMismatchError(
      `stream ${names.stream} holds messages on ${shown}, past the ${partitions} partitions this process is configured with: ${fix}`,
      names.stream,
    );
  }
  return true;
}
