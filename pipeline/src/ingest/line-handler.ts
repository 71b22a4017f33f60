import type { Clock } from '../shared/clock.js';
import { subjects, type NatsNames } from '../shared/subjects.js';
import type { IngestMetrics } from '../telemetry/metrics/ingest.js';
import { decodeDlqEntry } from '../dlq/entries.js';
import type { DecodedBatch, DecoderSettings } from './decode-protocol.js';
import type { BatchPublisher } from './publisher.js';
import type { RateLimitedLog } from './rate-limited-log.js';
import type { SourceDecoder } from './source-decoder.js';

/**
 * Bytes of input counted as one record until the worker has decoded them (an AIVDM line is 50 to
 * 90 bytes, with a tag block more): an estimate that errs towards pausing early.
 */
const BYTES_PER_LINE = 64;

export interface LineHandlerDeps {
  sourceId: string;
  /** the source's decode worker */
  decoder: SourceDecoder;
  /** this connection's decoder settings (partitions, line limit, fragment timeout) */
  settings: DecoderSettings;
  publisher: BatchPublisher;
  names: NatsNames;
  metrics: IngestMetrics;
  clock: Clock;
  log: RateLimitedLog;
}

/**
 * One connection's bytes → the source's decode worker (lines → decoded messages → record JSON)
 * → records in the publisher; rejects → the DLQ. One per connection (multi-sentence assembly is
 * per stream of lines). Sources call it synchronously and never wait: bytes are sent on to the
 * worker, whose answers come back in order (source-decoder.ts); the service pauses a source when
 * its worker or the publisher is behind.
 */
export class LineHandler {
  private readonly h: number;
  private readonly lines;
  private readonly bytes;
  private readonly byType: Array<{ inc(n: number): void } | undefined> = [];
  private readonly dlqSubject: string;
  /**
   * Records each message sent to the worker is expected to yield, oldest first (answers come in
   * order): counted as pending in the publisher until the answer brings the real records.
   */
  private readonly expected: number[] = [];

  constructor(private readonly d: LineHandlerDeps) {
    this.lines = d.metrics.lines.labels(d.sourceId);
    this.bytes = d.metrics.bytes.labels(d.sourceId);
    this.dlqSubject = subjects.dlqDecode(d.names, d.sourceId);
    this.h = d.decoder.open(d.settings, (batch) => this.decoded(batch));
  }

  /** Bytes of a stream (any chunking). One clock reading serves every line in them: they arrived together. */
  chunk(data: Buffer): void {
    this.bytes.inc(data.length);
    this.expect(Math.ceil(data.length / BYTES_PER_LINE));
    this.d.decoder.chunk(this.h, this.d.clock.now(), data);
  }

  /** A whole line from a message-based source (UDP datagram line, WebSocket frame). */
  text(line: string): void {
    this.bytes.inc(line.length);
    this.expect(1);
    this.d.decoder.send({ op: 'text', h: this.h, now: this.d.clock.now(), line });
  }

  /** A datagram: its last line may lack a newline; multi-sentence state is kept. */
  datagram(data: Buffer): void {
    this.bytes.inc(data.length);
    this.expect(Math.ceil(data.length / BYTES_PER_LINE));
    this.d.decoder.chunk(this.h, this.d.clock.now(), data, true);
  }

  /** End of the byte stream: the unterminated last line still counts, and open multi-sentence messages are dead-lettered. */
  end(): void {
    this.expect(0);
    this.d.decoder.send({ op: 'end', h: this.h, now: this.d.clock.now() });
  }

  /** Periodic: multi-sentence messages whose parts never came go to the DLQ. */
  expire(): void {
    this.expect(0);
    this.d.decoder.send({ op: 'expire', h: this.h, now: this.d.clock.now() });
  }

  /** A frame a message-based source could not even split into lines (bad JSON, wrong shape). */
  invalidFrame(detail: string, raw: string): void {
    this.lines.inc(1);
    this.reject('frame_malformed', detail, raw.slice(0, this.d.settings.maxLineBytes), null, this.d.clock.now());
  }

  /** What the worker made of one message: counters are added up per message, records go to the publisher in order. */
  private decoded(b: DecodedBatch): void {
    const m = this.d.metrics;
    if (b.lines > 0) this.lines.inc(b.lines);
    for (let i = 0; i < b.types.length; i += 2) {
      const t = b.types[i]!;
      let counter = this.byType[t];
      if (!counter) {
        counter = m.messages.labels(this.d.sourceId, String(t));
        this.byType[t] = counter;
      }
      counter.inc(b.types[i + 1]!);
    }
    for (const [reason, n] of b.skips) m.skipped.inc({ source: this.d.sourceId, reason }, n);
    for (const r of b.rejects) this.reject(r.reason, r.detail, r.raw, r.source, b.now);
    if (b.bytes !== null) {
      let r = 0;
      for (let i = 0; i < b.segments.length; i += 2) {
        const count = b.segments[i + 1]!;
        this.d.publisher.addEncoded(b.segments[i]!, b.bytes, b.ends, r, count);
        r += count;
      }
      m.lastMessageTimestamp.set({ source: this.d.sourceId }, this.d.clock.now() / 1000);
    }
    // after the real records were added, so the pending count does not dip to zero in between
    const expected = this.expected.shift() ?? 0;
    if (expected > 0) this.d.publisher.reservePending(-expected);
  }

  /** Sources pause on the pending count before they read further: bytes sent to the worker count at once. */
  private expect(records: number): void {
    this.expected.push(records);
    if (records > 0) this.d.publisher.reservePending(records);
  }

  private reject(reason: string, detail: string, raw: string, source: string | null, at: number): void {
    const id = this.d.sourceId;
    this.d.metrics.rejects.inc({ source: id, reason });
    this.d.log.warn(`reject:${id}:${reason}`, { source: id, reason, detail, raw: raw.slice(0, 200) }, 'line rejected; written to the DLQ');
    this.d.publisher.addDeadLetter(this.dlqSubject, decodeDlqEntry({ reason, detail, raw, source: source ?? id, at }), { source: id, reason });
  }
}
