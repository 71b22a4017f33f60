import { Transform, type TransformCallback } from 'node:stream';
import { BitBuffer, loadFragments } from './armor.js';
import { Assembler } from './assemble.js';
import { decodeBits } from './decode.js';
import { parseLine, type Sentence } from './nmea.js';
import type { AisDecoder, DecodeOutcome, DecoderOptions, RejectReason, SentenceMeta } from './types.js';

export const DEFAULT_FRAGMENT_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_OPEN_FRAGMENTS = 1024;
export const DEFAULT_MAX_LINE_LENGTH = 4096;

const FRAGMENT: DecodeOutcome = Object.freeze({ kind: 'fragment' }) as DecodeOutcome;
const SKIPS = {
  blank: Object.freeze({ kind: 'skip', reason: 'blank' }),
  comment: Object.freeze({ kind: 'skip', reason: 'comment' }),
  non_ais: Object.freeze({ kind: 'skip', reason: 'non_ais' }),
} as Record<string, DecodeOutcome>;

/** An AisDecoder that can also give up on its open fragments at the end of input. */
export interface AisStreamDecoder extends AisDecoder {
  /** Reject every partial message still open (input ended); returns them with any pending rejects. */
  flush(): DecodeOutcome[];
}

/**
 * Create a decoder. Stateful (multi-sentence assembly) but pure otherwise: no I/O, time only
 * from `options.clock`, and no input can make it throw.
 *
 * Where a message was heard (`meta.source`): tag block `s:`, else the receiver id of a USCG
 * trailer, else `context.source`, else `options.defaultSource`. When (`meta.receivedAt`): tag
 * block `c:`, else a plausible USCG trailer time, else `context.receivedAt`, else the clock;
 * `timeFromTagBlock` is true for the first two (the time came with the line itself).
 */
export function createDecoder(options: DecoderOptions): AisStreamDecoder {
  const clock = options.clock;
  const maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  const defaultSource = options.defaultSource ?? '';
  const assembler = new Assembler({
    clock,
    timeoutMs: options.fragmentTimeoutMs ?? DEFAULT_FRAGMENT_TIMEOUT_MS,
    maxOpen: options.maxOpenFragments ?? DEFAULT_MAX_OPEN_FRAGMENTS,
  });
  const bits = new BitBuffer();

  const reject = (reason: RejectReason, detail: string, raw: string, source: string | null, receivedAt: number): DecodeOutcome => ({
    kind: 'reject',
    reason,
    detail,
    raw,
    source,
    receivedAt,
  });

  /**
   * Decode the message whose bits are in `bits`; `bad` is the index of the first character of
   * `payload` that is not armour (-1: none, the bits are valid). The meta fields come as
   * arguments, not as an object: the outcome's meta is the only object built for them.
   */
  const finish = (
    bad: number,
    payload: string,
    fill: number,
    source: string,
    receivedAt: number,
    timeFromTagBlock: boolean,
    talker: string,
    formatter: 'VDM' | 'VDO',
    channel: string,
    raws: string[],
  ): DecodeOutcome => {
    if (bad >= 0) {
      return reject('bad_armor_char', `payload character ${JSON.stringify(payload[bad])} at ${bad} is not 6-bit armour`, joinRaw(raws), source, receivedAt);
    }
    const result = decodeBits(bits);
    if (!result.ok) return reject(result.reason, result.detail, joinRaw(raws), source, receivedAt);
    const meta: SentenceMeta = { source, receivedAt, timeFromTagBlock, talker, formatter, channel, raw: raws, payload, fillBits: fill };
    return { kind: 'message', message: result.message, meta };
  };

  const decodeString = (line: string, context?: { source?: string; receivedAt?: number }): DecodeOutcome => {
    const readerSource = context?.source ?? defaultSource;
    if (line.length > maxLineLength) {
      // The raw text is cut to the limit: a DLQ entry never carries an unbounded line.
      return reject('line_too_long', `line exceeds ${maxLineLength} bytes; raw text cut to ${maxLineLength}`, line.slice(0, maxLineLength), readerSource || null, context?.receivedAt ?? clock.now());
    }
    // a sentence's payload comes back de-armoured in `bits`
    const parsed = parseLine(line, bits);
    if (parsed.kind === 'skip') return SKIPS[parsed.reason]!;
    // the raw line as received, less its line ending
    let rawEnd = line.length;
    while (rawEnd > 0 && (line.charCodeAt(rawEnd - 1) === 10 || line.charCodeAt(rawEnd - 1) === 13)) rawEnd--;
    const raw = rawEnd === line.length ? line : line.slice(0, rawEnd);
    if (parsed.kind === 'reject') {
      const tag = parsed.tag;
      return reject(parsed.reason, parsed.detail, raw, tag?.source ?? (readerSource || null), tag?.time ?? context?.receivedAt ?? clock.now());
    }
    const sentence: Sentence = parsed;
    const tag = sentence.tag;
    const source = tag?.source ?? sentence.receiver ?? readerSource;
    const lineTime = tag?.time ?? sentence.trailerTime;
    const receivedAt = lineTime ?? context?.receivedAt ?? clock.now();
    const timeFromTagBlock = lineTime !== null;

    if (sentence.count === 1) {
      return finish(sentence.armorError, sentence.payload, sentence.fill, source, receivedAt, timeFromTagBlock, sentence.talker, sentence.formatter, sentence.channel, [raw]);
    }
    // The key uses the tag-block source, not a USCG trailer's receiver id: USCG feeds put the
    // trailer on some parts only (gpsd-sample.aivdm has a type 8 whose part 2 alone carries it).
    const keySource = tag?.source ?? readerSource;
    const key = Assembler.keyOf(sentence, keySource, readerSource);
    const channel = tag?.group ? null : Assembler.channelOf(sentence, keySource);
    const added = assembler.add(key, channel, sentence, raw, { source, receivedAt, timeFromTagBlock });
    if (added.kind === 'fragment') return FRAGMENT;
    if (added.kind === 'reject') return reject(added.reason, added.detail, raw, source, receivedAt);
    const p = added.partial;
    const payload = p.payloads.join('');
    let padded = false;
    for (let i = 0; i < p.fills.length - 1; i++) if (p.fills[i] !== 0) padded = true;
    const bad = padded ? loadFragments(bits, p.payloads, p.fills) : bits.load(payload, p.fill);
    return finish(bad, payload, p.fill, p.source, p.receivedAt, p.timeFromTagBlock, p.talker, p.formatter, p.channel, p.raws);
  };

  return {
    decode(line, context) {
      if (typeof line === 'string') return decodeString(line, context);
      if (line.length > maxLineLength) {
        // checked on bytes, before any text is made from them
        return decodeString(latin1(line.subarray(0, maxLineLength + 1)), context);
      }
      return decodeString(latin1(line), context);
    },
    expire() {
      assembler.expire();
      const out = assembler.drain();
      // a fresh array: callers own what they get back
      return out.length === 0 ? [] : (out as DecodeOutcome[]);
    },
    flush() {
      assembler.flush('input ended');
      return [...assembler.drain()];
    },
    get openFragments() {
      return assembler.size;
    },
  };
}

const joinRaw = (raws: readonly string[]): string => (raws.length === 1 ? raws[0]! : raws.join('\n'));

/**
 * Bytes to a string with one char per byte. Latin-1, not UTF-8: AIS is 7-bit ASCII, and a
 * byte-exact view keeps invalid UTF-8 visible in rejects instead of turning it into U+FFFD.
 */
function latin1(bytes: Uint8Array): string {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return FAST_LATIN1 ? (b as Latin1Buffer).latin1Slice(0, b.length) : b.toString('latin1');
}

/**
 * Node's own `Buffer#latin1Slice`, which `toString('latin1', from, to)` ends in. Calling it
 * directly skips the encoding lookup and argument checks `toString` repeats for every line
 * (about half the cost of turning a short line into a string). Not in the typings, so it is
 * looked up once, with `toString` as the fallback if a runtime ever drops it.
 */
type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };
const FAST_LATIN1 = typeof (Buffer.prototype as Partial<Latin1Buffer>).latin1Slice === 'function';
/** `buf` bytes [from, to) as latin1 text; callers keep 0 <= from <= to <= buf.length. */
const latin1Of = (buf: Buffer, from: number, to: number): string =>
  FAST_LATIN1 ? (buf as Latin1Buffer).latin1Slice(from, to) : buf.toString('latin1', from, to);

/**
 * Splits a byte stream into lines (LF, CRLF or lone CR) without decoding whole chunks to
 * strings, and without holding an over-long line: only its first `maxLineLength + 1` bytes are
 * kept, enough for the decoder to reject it as line_too_long with the head as raw text.
 */
export class LineSplitter {
  private carry: Buffer | null = null;
  /** the previous chunk ended in CR: a LF starting this chunk belongs to it */
  private skipLf = false;

  constructor(private readonly maxLineLength = DEFAULT_MAX_LINE_LENGTH) {}

  /** Calls `onLine` for each complete line in `chunk` (without its line ending). */
  push(chunk: Buffer, onLine: (line: string) => void): void {
    const n = chunk.length;
    let pos = 0;
    if (this.skipLf && n > 0) {
      if (chunk[0] === 10) pos = 1;
      this.skipLf = false;
    }
    // Next LF / CR positions, searched natively and only again once passed (a file without
    // any CR costs one search per chunk, not one per line).
    let lf = chunk.indexOf(10, pos);
    let cr = chunk.indexOf(13, pos);
    const cap = this.maxLineLength + 1;
    while (pos < n) {
      if (lf >= 0 && lf < pos) lf = chunk.indexOf(10, pos);
      if (cr >= 0 && cr < pos) cr = chunk.indexOf(13, pos);
      const end = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
      if (end < 0) {
        this.keep(chunk, pos, n);
        return;
      }
      if (this.carry !== null) {
        this.keep(chunk, pos, end);
        const line = this.carry;
        this.carry = null;
        onLine(latin1Of(line, 0, line.length));
      } else {
        onLine(latin1Of(chunk, pos, Math.min(end, pos + cap)));
      }
      pos = end + 1;
      if (chunk[end] === 13) {
        if (pos < n) {
          if (chunk[pos] === 10) pos++;
        } else {
          this.skipLf = true;
        }
      }
    }
  }

  /** The last line when the input does not end with a line ending. */
  end(onLine: (line: string) => void): void {
    if (this.carry !== null) {
      const line = this.carry;
      this.carry = null;
      onLine(latin1Of(line, 0, line.length));
    }
  }

  private keep(chunk: Buffer, from: number, to: number): void {
    const have = this.carry === null ? 0 : this.carry.length;
    const room = this.maxLineLength + 1 - have;
    if (room <= 0 || to <= from) return;
    const part = chunk.subarray(from, Math.min(to, from + room));
    this.carry = this.carry === null ? Buffer.from(part) : Buffer.concat([this.carry, part]);
  }
}

type LineSource = AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;

/**
 * Decode an iterable of lines (strings or bytes, one line each) to outcomes, in order: after
 * each line come any rejects for fragments that timed out or were evicted, and at the end
 * every partial message still open is rejected.
 */
export async function* decodeLines(lines: LineSource, options: DecoderOptions): AsyncGenerator<DecodeOutcome> {
  const decoder = createDecoder(options);
  for await (const line of lines) {
    yield decoder.decode(line);
    const expired = decoder.expire();
    for (const outcome of expired) yield outcome;
  }
  for (const outcome of decoder.flush()) yield outcome;
}

/**
 * A Node Transform: bytes in (any chunking, LF/CRLF/CR endings), DecodeOutcome objects out.
 * `fragment` outcomes are left out unless `emitFragments` is set; they carry no information.
 */
export function createDecodeStream(options: DecoderOptions & { emitFragments?: boolean }): Transform {
  const decoder = createDecoder(options);
  const splitter = new LineSplitter(options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH);
  const emitFragments = options.emitFragments ?? false;
  const push = (stream: Transform) => (line: string) => {
    const outcome = decoder.decode(line);
    if (outcome.kind !== 'fragment' || emitFragments) stream.push(outcome);
    const expired = decoder.expire();
    for (const e of expired) stream.push(e);
  };
  return new Transform({
    readableObjectMode: true,
    transform(chunk: Buffer | string, _enc: BufferEncoding, callback: TransformCallback) {
      splitter.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk, push(this));
      callback();
    },
    flush(callback: TransformCallback) {
      splitter.end(push(this));
      for (const e of decoder.flush()) this.push(e);
      callback();
    },
  });
}
