import type { AisStreamDecoder } from '../ais/decoder.js';
import type { DecodeOutcome } from '../ais/types.js';
import type { Clock } from '../shared/clock.js';
import { partitionOf } from '../shared/partition.js';
import { subjects, type NatsNames } from '../shared/subjects.js';
import type { IngestMetrics } from '../telemetry/metrics/ingest.js';
import { decodeDlqEntry } from '../dlq/entries.js';
import { LineFramer } from './line-framer.js';
import type { BatchPublisher } from './publisher.js';
import { toRecord } from './record.js';
import type { RateLimitedLog } from './rate-limited-log.js';

export interface LineHandlerDeps {
  sourceId: string;
  decoder: AisStreamDecoder;
  publisher: BatchPublisher;
  names: NatsNames;
  partitions: number;
  maxLineBytes: number;
  metrics: IngestMetrics;
  clock: Clock;
  log: RateLimitedLog;
}

/**
 * Bytes → lines → decoded messages → records in the publisher; rejects → the DLQ. One per
 * connection (multi-sentence assembly is per stream of lines). Synchronous: sources call
 * `chunk()` and then check `publisher.isPaused` to stop reading.
 */
export class LineHandler {
  readonly framer: LineFramer;
  private readonly lines;
  private readonly bytes;
  private readonly byType: Array<{ inc(n: number): void } | undefined> = [];
  private sawMessage = false;
  // Per-line work is kept minimal: counters are added up per chunk (a prom-client inc hashes its
  // labels each time), and one clock reading serves every line of a chunk (they arrived together).
  private lineCount = 0;
  private readonly typeCounts: number[] = [];
  private chunkTime = 0;
  private readonly ctx: { source: string; receivedAt: number };
  private readonly dlqSubject: string;

  constructor(private readonly d: LineHandlerDeps) {
    this.lines = d.metrics.lines.labels(d.sourceId);
    this.bytes = d.metrics.bytes.labels(d.sourceId);
    this.dlqSubject = subjects.dlqDecode(d.names, d.sourceId);
    this.ctx = { source: d.sourceId, receivedAt: 0 };
    this.chunkTime = d.clock.now();
    this.framer = new LineFramer({ line: (t) => this.line(t), tooLong: (s, b) => this.tooLong(s, b) }, d.maxLineBytes);
  }

  chunk(data: Buffer): void {
    this.chunkTime = this.d.clock.now();
    this.bytes.inc(data.length);
    this.framer.push(data);
    this.afterChunk();
  }

  /** A whole line from a message-based source (UDP datagram line, WebSocket frame). */
  text(line: string): void {
    this.chunkTime = this.d.clock.now();
    this.bytes.inc(line.length);
    if (line.length > this.d.maxLineBytes) this.tooLong(line.slice(0, this.d.maxLineBytes), line.length);
    else this.line(line.endsWith('\r') ? line.slice(0, -1) : line);
    this.afterChunk();
  }

  /** A datagram ended: its last line may lack a newline; multi-sentence state is kept. */
  endOfDatagram(): void {
    this.framer.flush();
    this.afterChunk();
  }

  /** End of the byte stream: the unterminated last line still counts, and open multi-sentence messages are dead-lettered. */
  end(): void {
    this.framer.flush();
    for (const outcome of this.d.decoder.flush()) this.outcome(outcome);
    this.afterChunk();
  }

  /** Periodic: multi-sentence messages whose parts never came go to the DLQ. */
  expire(): void {
    for (const outcome of this.d.decoder.expire()) this.outcome(outcome);
    this.afterChunk();
  }

  line(text: string): void {
    this.lineCount += 1;
    this.ctx.receivedAt = this.chunkTime;
    try {
      this.outcome(this.d.decoder.decode(text, this.ctx));
    } catch (err) {
      // The decoder promises never to throw; if a bug breaks that promise, one line is
      // dead-lettered with the error instead of the process (and every good line after it) dying.
      this.reject('internal_error', `decoding threw: ${(err as Error).message}`, text.slice(0, this.d.maxLineBytes), null);
    }
  }

  /** A frame a message-based source could not even split into lines (bad JSON, wrong shape). */
  invalidFrame(detail: string, raw: string): void {
    this.lineCount += 1;
    this.reject('frame_malformed', detail, raw.slice(0, this.d.maxLineBytes), null);
  }

  private tooLong(sample: string, bytes: number): void {
    this.lineCount += 1;
    this.reject('line_too_long', `line of ${bytes} bytes exceeds the limit of ${this.d.maxLineBytes}; first ${sample.length} bytes kept`, sample, null);
  }

  private outcome(o: DecodeOutcome): void {
    switch (o.kind) {
      case 'message': {
        const record = toRecord(o.message, o.meta);
        this.d.publisher.add(record, partitionOf(record.mmsi, this.d.partitions));
        const t = o.message.type;
        this.typeCounts[t] = (this.typeCounts[t] ?? 0) + 1;
        this.sawMessage = true;
        return;
      }
      case 'fragment':
        return;
      case 'skip':
        this.d.metrics.skipped.inc({ source: this.d.sourceId, reason: o.reason });
        return;
      case 'reject':
        this.reject(o.reason, o.detail, o.raw, o.source);
        return;
    }
  }

  private reject(reason: string, detail: string, raw: string, source: string | null): void {
    const id = this.d.sourceId;
    this.d.metrics.rejects.inc({ source: id, reason });
    this.d.log.warn(`reject:${id}:${reason}`, { source: id, reason, detail, raw: raw.slice(0, 200) }, 'line rejected; written to the DLQ');
    this.d.publisher.addDeadLetter(
      this.dlqSubject,
      decodeDlqEntry({ reason, detail, raw, source: source ?? id, at: this.d.clock.now() }),
      { source: id, reason },
    );
  }

  private afterChunk(): void {
    if (this.lineCount > 0) {
      this.lines.inc(this.lineCount);
      this.lineCount = 0;
    }
    for (let t = 0; t < this.typeCounts.length; t++) {
      const n = this.typeCounts[t];
      if (!n) continue;
      let counter = this.byType[t];
      if (!counter) {
        counter = this.d.metrics.messages.labels(this.d.sourceId, String(t));
        this.byType[t] = counter;
      }
      counter.inc(n);
      this.typeCounts[t] = 0;
    }
    if (this.sawMessage) {
      this.sawMessage = false;
      this.d.metrics.lastMessageTimestamp.set({ source: this.d.sourceId }, this.d.clock.now() / 1000);
    }
  }
}
