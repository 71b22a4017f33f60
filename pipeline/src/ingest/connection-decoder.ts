import { createDecoder, type AisStreamDecoder } from '../ais/decoder.js';
import type { DecodeOutcome } from '../ais/types.js';
import type { AisRecordV1 } from '../shared/ais-record.js';
import type { Clock } from '../shared/clock.js';
import { partitionOf } from '../shared/partition.js';
import type { DecodedBatch, DecodedReject, DecoderSettings, ToDecoder } from './decode-protocol.js';
import { LineFramer } from './line-framer.js';
import { toRecord } from './record.js';

/**
 * Where one record ends and the next begins in `JSON.stringify(records)`: `{"v":1,"key":"` opens
 * every record, and cannot occur inside a JSON string (its quotes would be escaped). A nested
 * object of a message could in theory start so; then the count of boundaries is off and that
 * partition is encoded record by record instead.
 */
const BOUNDARY = '},{"v":1,"key":"';

/**
 * One connection's bytes → lines → decoded messages → record JSON, grouped by partition; what
 * cannot be decoded comes back as rejects. Runs in the source's decode worker (decode-worker.ts),
 * and in-thread in tests. Time comes only from the messages (`now`, the main thread's clock when
 * the bytes were read), so a replay under an injected clock decodes to the same records.
 */
export class ConnectionDecoder {
  private readonly decoder: AisStreamDecoder;
  private readonly framer: LineFramer;
  private now = 0;
  private readonly ctx: { source: string; receivedAt: number };
  /** records of the current message by partition, and the partitions that got any, in first-seen order */
  private readonly staged: AisRecordV1[][];
  private touched: number[] = [];
  private lines = 0;
  private readonly typeCounts: number[] = [];
  private skips: Map<string, number> | null = null;
  private rejects: DecodedReject[] = [];

  constructor(private readonly s: DecoderSettings) {
    const clock: Clock = { now: () => this.now };
    this.decoder = createDecoder({ clock, defaultSource: s.sourceId, fragmentTimeoutMs: s.fragmentTimeoutMs, maxLineLength: s.maxLineBytes });
    this.framer = new LineFramer({ line: (t) => this.line(t), tooLong: (sample, bytes) => this.tooLong(sample, bytes) }, s.maxLineBytes);
    this.ctx = { source: s.sourceId, receivedAt: 0 };
    this.staged = Array.from({ length: s.partitions }, () => []);
  }

  handle(m: Exclude<ToDecoder, { op: 'open' }>): DecodedBatch {
    this.now = m.now;
    // one clock reading serves every line of a chunk: they arrived together
    this.ctx.receivedAt = m.now;
    switch (m.op) {
      case 'chunk':
        this.framer.push(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
        if (m.datagram) this.framer.flush();
        break;
      case 'text':
        if (m.line.length > this.s.maxLineBytes) this.tooLong(m.line.slice(0, this.s.maxLineBytes), m.line.length);
        else this.line(m.line.endsWith('\r') ? m.line.slice(0, -1) : m.line);
        break;
      case 'expire':
        for (const o of this.decoder.expire()) this.outcome(o);
        break;
      case 'end':
        this.framer.flush();
        for (const o of this.decoder.flush()) this.outcome(o);
        break;
    }
    return this.collect(m.h, m.now, m.op === 'end');
  }

  private line(text: string): void {
    this.lines += 1;
    let o: DecodeOutcome;
    try {
      o = this.decoder.decode(text, this.ctx);
    } catch (err) {
      // The decoder promises never to throw; if a bug breaks that promise, one line is
      // dead-lettered with the error instead of the worker (and every good line after it) dying.
      this.rejects.push({ reason: 'internal_error', detail: `decoding threw: ${(err as Error).message}`, raw: text.slice(0, this.s.maxLineBytes), source: null });
      return;
    }
    this.outcome(o);
  }

  private tooLong(sample: string, bytes: number): void {
    this.lines += 1;
    this.rejects.push({ reason: 'line_too_long', detail: `line of ${bytes} bytes exceeds the limit of ${this.s.maxLineBytes}; first ${sample.length} bytes kept`, raw: sample, source: null });
  }

  private outcome(o: DecodeOutcome): void {
    switch (o.kind) {
      case 'message': {
        const record = toRecord(o.message, o.meta);
        const p = partitionOf(record.mmsi, this.s.partitions);
        const list = this.staged[p]!;
        if (list.length === 0) this.touched.push(p);
        list.push(record);
        const t = record.type;
        this.typeCounts[t] = (this.typeCounts[t] ?? 0) + 1;
        return;
      }
      case 'fragment':
        return;
      case 'skip':
        this.skips ??= new Map();
        this.skips.set(o.reason, (this.skips.get(o.reason) ?? 0) + 1);
        return;
      case 'reject':
        this.rejects.push({ reason: o.reason, detail: o.detail, raw: o.raw, source: o.source });
        return;
    }
  }

  private collect(h: number, now: number, ended: boolean): DecodedBatch {
    const types: number[] = [];
    for (let t = 0; t < this.typeCounts.length; t++) {
      const n = this.typeCounts[t];
      if (!n) continue;
      types.push(t, n);
      this.typeCounts[t] = 0;
    }
    const out: DecodedBatch = {
      h,
      now,
      ended,
      bytes: null,
      segments: EMPTY,
      ends: EMPTY,
      records: 0,
      lines: this.lines,
      types,
      skips: this.skips ? [...this.skips] : [],
      rejects: this.rejects,
    };
    if (this.touched.length > 0) this.encode(out);
    this.lines = 0;
    this.skips = null;
    this.rejects = [];
    return out;
  }

  /**
   * Every partition's records with one JSON.stringify (a call has a fixed cost of about half of
   * encoding one record), written as UTF-8 into one buffer that is handed to the main thread
   * without a copy.
   */
  private encode(out: DecodedBatch): void {
    const touched = this.touched;
    this.touched = [];
    const texts: string[] = new Array<string>(touched.length);
    let total = 0;
    let records = 0;
    for (let i = 0; i < touched.length; i++) {
      const list = this.staged[touched[i]!]!;
      records += list.length;
      const json = JSON.stringify(list);
      texts[i] = json;
      total += Buffer.byteLength(json, 'utf8');
    }
    // Not from Node's shared pool: the buffer's memory is transferred to the main thread.
    const bytes = Buffer.allocUnsafeSlow(total);
    const segments = new Int32Array(touched.length * 2);
    const ends = new Int32Array(records);
    let pos = 0;
    let r = 0;
    for (let i = 0; i < touched.length; i++) {
      const p = touched[i]!;
      const list = this.staged[p]!;
      const json = texts[i]!;
      segments[i * 2] = p;
      segments[i * 2 + 1] = list.length;
      // `[a,b]` is written whole; its `[` and `]` are skipped by the offsets (and the next segment's `[` overwrites this one's `]`).
      const written = bytes.write(json, pos, 'utf8');
      const start = pos + 1;
      if (written === json.length && this.boundaries(json, start, ends, r, list.length)) {
        r += list.length;
        pos = start + json.length - 2;
      } else {
        // Non-ASCII text (a latin1 tag-block source) or an ambiguous boundary: record by record.
        pos = this.recordByRecord(list, bytes, start, ends, r);
        r += list.length;
      }
      list.length = 0;
    }
    out.bytes = bytes.subarray(0, pos);
    out.segments = segments;
    out.ends = ends;
    out.records = records;
  }

  /** Fills `ends[r…r+count)` from the boundaries in an ASCII `json` written at `start - 1`; false when their number is off. */
  private boundaries(json: string, start: number, ends: Int32Array, r: number, count: number): boolean {
    let at = 0;
    for (let k = 0; k < count - 1; k++) {
      at = json.indexOf(BOUNDARY, at + 1);
      if (at < 0) return false;
      // the record ends after its `}`; `start - 1` is where the `[` was written
      ends[r + k] = start - 1 + at + 1;
    }
    if (json.indexOf(BOUNDARY, at + 1) >= 0) return false;
    ends[r + count - 1] = start - 1 + json.length - 1;
    return true;
  }

  private recordByRecord(list: readonly AisRecordV1[], bytes: Buffer, start: number, ends: Int32Array, r: number): number {
    let pos = start;
    for (let k = 0; k < list.length; k++) {
      if (k > 0) bytes[pos++] = 44; // ','
      pos += bytes.write(JSON.stringify(list[k]), pos, 'utf8');
      ends[r + k] = pos;
    }
    return pos;
  }
}

const EMPTY = new Int32Array(0);
