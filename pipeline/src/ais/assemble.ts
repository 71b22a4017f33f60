import type { Clock } from '../shared/clock.js';
import type { Sentence } from './nmea.js';
import type { DecodeOutcome, RejectReason } from './types.js';

/** A multi-sentence message waiting for its next part. */
export interface Partial {
  key: string;
  total: number;
  /** the part number expected next */
  next: number;
  payloads: string[];
  /** fill bits declared by each part (only the last should be non-zero) */
  fills: number[];
  raws: string[];
  /** clock time the first part arrived; the timeout counts from here */
  openedAt: number;
  // where and when, from part 1 (parts 2..n of a tag-block group carry only `g:`)
  source: string;
  receivedAt: number;
  timeFromTagBlock: boolean;
  talker: string;
  formatter: 'VDM' | 'VDO';
  channel: string;
  fill: number;
}

export type AddResult = { kind: 'fragment' } | { kind: 'complete'; partial: Partial } | { kind: 'reject'; reason: RejectReason; detail: string };

export interface AssemblerOptions {
  clock: Clock;
  timeoutMs: number;
  maxOpen: number;
}

const NONE: readonly DecodeOutcome[] = Object.freeze([]);

/**
 * Multi-sentence assembly. A message is keyed by (source, formatter, channel, sequence id), or
 * by (reader source, group id) when its lines carry a tag-block `g:` group, so interleaved
 * multipart messages from different receivers or channels each assemble on their own.
 *
 * Bounded: at most `maxOpen` partial messages; a new one evicts the oldest. Partials that time
 * out, are evicted or are abandoned (a new part 1 for the same key, a gap) become rejects that
 * `drain()` hands out, so nothing is dropped silently.
 */
export class Assembler {
  private readonly open = new Map<string, Partial>();
  /** per (source, formatter, channel): the key of the partial opened last (sequence-id repair) */
  private readonly lastOpened = new Map<string, string>();
  private pending: DecodeOutcome[] = [];

  constructor(private readonly options: AssemblerOptions) {}

  get size(): number {
    return this.open.size;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** Key for a fragment; `readerSource` is the connection's source (group parts 2..n have no `s:`). */
  static keyOf(sentence: Sentence, source: string, readerSource: string): string {
    const g = sentence.tag?.group;
    if (g) return `g\u0000${readerSource}\u0000${g.id}\u0000${g.total}`;
    return `${Assembler.channelOf(sentence, source)}\u0000${sentence.seqId}\u0000${sentence.count}`;
  }

  /** The (source, formatter, channel) a non-group fragment belongs to, for sequence-id repair. */
  static channelOf(sentence: Sentence, source: string): string {
    return `${source}\u0000${sentence.formatter}\u0000${sentence.channel}`;
  }

  /** `channel` is `channelOf()` for fragments without a tag-block group, else null. */
  add(key: string, channel: string | null, sentence: Sentence, raw: string, meta: { source: string; receivedAt: number; timeFromTagBlock: boolean }): AddResult {
    const now = this.options.clock.now();
    let partial = this.open.get(key);
    if (partial === undefined && sentence.num > 1 && channel !== null) {
      // Sequence-id repair: some aggregators renumber sequence ids line by line (AISHub sends
      // "2,1,4,A" then "2,2,1,A"). A part 2..n with no partial under its own id continues the
      // partial opened last on the same source and channel, if that one expects exactly this
      // part. gpsd keys by channel alone and assembles these too; keying by id first keeps
      // interleaved messages apart.
      const last = this.lastOpened.get(channel);
      const candidate = last === undefined ? undefined : this.open.get(last);
      if (candidate !== undefined && candidate.next === sentence.num && candidate.total === sentence.count) {
        partial = candidate;
        key = candidate.key;
      }
    }
    if (partial !== undefined && now - partial.openedAt > this.options.timeoutMs) {
      this.drop(partial, 'fragment_timeout', `timed out after ${now - partial.openedAt} ms waiting for part ${partial.next} of ${partial.total}`);
      partial = undefined;
    }
    if (sentence.num === 1) {
      if (partial !== undefined) {
        this.drop(partial, 'fragment_out_of_order', `a new part 1 arrived before part ${partial.next} of ${partial.total}`);
      }
      if (this.open.size >= this.options.maxOpen) {
        const oldest = this.open.values().next().value as Partial;
        this.drop(oldest, 'fragment_evicted', `evicted: more than ${this.options.maxOpen} partial messages open`);
      }
      if (channel !== null) {
        if (this.lastOpened.size >= this.options.maxOpen) this.lastOpened.clear(); // bounded: a hint, not state
        this.lastOpened.set(channel, key);
      }
      this.open.set(key, {
        key,
        total: sentence.count,
        next: 2,
        payloads: [sentence.payload],
        fills: [sentence.fill],
        raws: [raw],
        openedAt: now,
        source: meta.source,
        receivedAt: meta.receivedAt,
        timeFromTagBlock: meta.timeFromTagBlock,
        talker: sentence.talker,
        formatter: sentence.formatter,
        channel: sentence.channel,
        fill: sentence.fill,
      });
      return { kind: 'fragment' };
    }
    if (partial === undefined) {
      return { kind: 'reject', reason: 'fragment_out_of_order', detail: `part ${sentence.num} of ${sentence.count} without part 1` };
    }
    if (sentence.count !== partial.total || sentence.num !== partial.next) {
      if (sentence.count === partial.total && sentence.num < partial.next) {
        // a repeated part: the message may still complete
        return { kind: 'reject', reason: 'fragment_out_of_order', detail: `part ${sentence.num} of ${sentence.count} repeated` };
      }
      this.drop(partial, 'fragment_out_of_order', `part ${sentence.num} of ${sentence.count} arrived while part ${partial.next} of ${partial.total} was expected`);
      return { kind: 'reject', reason: 'fragment_out_of_order', detail: `part ${sentence.num} of ${sentence.count} arrived while part ${partial.next} of ${partial.total} was expected` };
    }
    partial.payloads.push(sentence.payload);
    partial.fills.push(sentence.fill);
    partial.raws.push(raw);
    partial.fill = sentence.fill;
    partial.next++;
    if (partial.next <= partial.total) return { kind: 'fragment' };
    this.open.delete(key);
    return { kind: 'complete', partial };
  }

  /** Time out partials older than the timeout (oldest first: Map order is insertion order). */
  expire(): void {
    const now = this.options.clock.now();
    for (const partial of this.open.values()) {
      if (now - partial.openedAt <= this.options.timeoutMs) break;
      this.drop(partial, 'fragment_timeout', `timed out after ${now - partial.openedAt} ms waiting for part ${partial.next} of ${partial.total}`);
    }
  }

  /** Reject every open partial (end of input). */
  flush(detail: string): void {
    for (const partial of this.open.values()) this.drop(partial, 'fragment_timeout', `${detail} before part ${partial.next} of ${partial.total}`);
  }

  /** Hand out the rejects collected since the last call. */
  drain(): readonly DecodeOutcome[] {
    if (this.pending.length === 0) return NONE;
    const out = this.pending;
    this.pending = [];
    return out;
  }

  private drop(partial: Partial, reason: RejectReason, detail: string): void {
    this.open.delete(partial.key);
    // The pending list is bounded too, for callers that never drain: keep the newest.
    if (this.pending.length >= this.options.maxOpen * 4) this.pending.shift();
    this.pending.push({ kind: 'reject', reason, detail, raw: partial.raws.join('\n'), source: partial.source, receivedAt: partial.receivedAt });
  }
}
