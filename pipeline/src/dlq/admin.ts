import type { JetStreamClient, JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import type { MsgRequest } from '@nats-io/jetstream';
import { createDecoder } from '../ais/decoder.js';
import type { AisDecoder } from '../ais/types.js';
import { systemClock } from '../shared/clock.js';
import type { AisBatchV1, AisRecordV1 } from '../shared/ais-record.js';
import { partitionOf } from '../shared/partition.js';
import { subjects, type NatsNames } from '../shared/subjects.js';
import { toRecord } from '../ingest/record.js';
import type { DlqAdmin, DlqEntry, DlqStats } from './types.js';
import type { StoredDlqEntry } from './entries.js';

export interface DlqAdminDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: NatsNames;
  partitions: number;
  /** a fresh decoder for re-decoding one dead-lettered decode entry @default createDecoder with the system clock */
  newDecoder?: () => AisDecoder;
  /** @default Date.now */
  now?: () => number;
}

/** Most entries one peek or retry call touches: the API pages with `afterSeq`. */
export const DLQ_MAX_PAGE = 1000;

function toEntry(m: StoredMsg): DlqEntry {
  let stored: Partial<StoredDlqEntry>;
  try {
    stored = JSON.parse(new TextDecoder().decode(m.data)) as Partial<StoredDlqEntry>;
  } catch (err) {
    // Someone published a non-JSON message onto a DLQ subject: show it rather than hide it.
    stored = { stage: 'decode', reason: 'unreadable_entry', detail: (err as Error).message, raw: Buffer.from(m.data).toString('latin1') };
  }
  return {
    seq: m.seq,
    subject: m.subject,
    time: stored.time ?? m.time.toISOString(),
    stage: stored.stage === 'fusion' ? 'fusion' : 'decode',
    reason: stored.reason ?? 'unknown',
    detail: stored.detail ?? '',
    source: stored.source ?? null,
    ...(stored.raw !== undefined ? { raw: stored.raw } : {}),
    ...(stored.record !== undefined ? { record: stored.record } : {}),
    ...(stored.deliveries !== undefined ? { deliveries: stored.deliveries } : {}),
  };
}

/**
 * The admin operations on the dead-letter stream that the API exposes (list, peek, retry,
 * purge). Retry re-submits an entry and deletes it from the DLQ only once the re-submission is
 * acknowledged; a retried entry gets a Nats-Msg-Id derived from its DLQ sequence, so retrying
 * twice (a crash between publish and delete) cannot feed the same record twice.
 */
export function createDlqAdmin(deps: DlqAdminDeps): DlqAdmin {
  const { js, jsm, names } = deps;
  const stream = names.dlqStream;
  const decodePrefix = `${names.prefix}.dlq.decode.`;
  const fusionPrefix = `${names.prefix}.dlq.fusion.`;

  async function stats(): Promise<DlqStats> {
    const info = await jsm.streams.info(stream, { subjects_filter: subjects.allDlq(names) });
    const bySubject = info.state.subjects ?? {};
    const byStage = { decode: 0, fusion: 0 };
    for (const [subject, count] of Object.entries(bySubject)) {
      if (subject.startsWith(decodePrefix)) byStage.decode += count;
      else if (subject.startsWith(fusionPrefix)) byStage.fusion += count;
    }
    return { messages: info.state.messages, bytes: info.state.bytes, firstSeq: info.state.first_seq, lastSeq: info.state.last_seq, byStage };
  }

  async function peek(options: { limit: number; afterSeq?: number }): Promise<DlqEntry[]> {
    const limit = Math.max(0, Math.min(DLQ_MAX_PAGE, Math.floor(options.limit)));
    const out: DlqEntry[] = [];
    let seq = (options.afterSeq ?? 0) + 1;
    while (out.length < limit) {
      // "first message at or after seq on any DLQ subject": skips deleted sequences in one round trip.
      const m = await jsm.streams.getMessage(stream, { seq, next_by_subj: subjects.allDlq(names) } as unknown as MsgRequest);
      if (!m) break;
      out.push(toEntry(m));
      seq = m.seq + 1;
    }
    return out;
  }

  async function retryOne(entry: DlqEntry): Promise<boolean> {
    const batches = new Map<number, AisRecordV1[]>();
    if (entry.stage === 'fusion') {
      const record = entry.record as AisRecordV1 | undefined;
      if (!record || typeof record !== 'object' || typeof record.mmsi !== 'number') return false;
      batches.set(partitionOf(record.mmsi, deps.partitions), [record]);
    } else {
      if (typeof entry.raw !== 'string' || entry.raw.length === 0) return false;
      const decoder = deps.newDecoder ? deps.newDecoder() : createDecoder({ clock: systemClock });
      const receivedAt = Date.parse(entry.time) || (deps.now ?? Date.now)();
      for (const line of entry.raw.split('\n')) {
        const outcome = decoder.decode(line, { source: entry.source ?? undefined, receivedAt });
        if (outcome.kind !== 'message') continue;
        const record = toRecord(outcome.message, outcome.meta);
        const p = partitionOf(record.mmsi, deps.partitions);
        const list = batches.get(p) ?? [];
        list.push(record);
        batches.set(p, list);
      }
      if (batches.size === 0) return false; // still undecodable: it stays in the DLQ
    }
    for (const [partition, records] of batches) {
      const batch: AisBatchV1 = { v: 1, partition, records };
      await js.publish(subjects.partition(names, partition), JSON.stringify(batch), { msgID: `dlq-retry.${stream}.${entry.seq}.${partition}` });
    }
    await jsm.streams.deleteMessage(stream, entry.seq, false);
    return true;
  }

  async function retry(options: { seqs?: number[]; limit?: number }): Promise<{ retried: number; failed: number }> {
    let entries: DlqEntry[];
    if (options.seqs && options.seqs.length > 0) {
      entries = [];
      for (const seq of options.seqs.slice(0, DLQ_MAX_PAGE)) {
        const m = await jsm.streams.getMessage(stream, { seq });
        if (m) entries.push(toEntry(m));
      }
    } else {
      entries = await peek({ limit: options.limit ?? 100 });
    }
    let retried = 0;
    let failed = 0;
    for (const entry of entries) {
      if (await retryOne(entry)) retried += 1;
      else failed += 1;
    }
    return { retried, failed };
  }

  async function purge(): Promise<{ purged: number }> {
    const r = await jsm.streams.purge(stream);
    return { purged: r.purged };
  }

  return { stats, peek, retry, purge };
}
