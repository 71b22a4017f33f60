/**
 * Splits a byte stream into lines (LF or CRLF), across packet boundaries, with a bound on line
 * length. A line longer than `maxLineBytes` is never buffered whole: its first bytes are kept as
 * a sample, the rest is discarded up to the next newline, and it is reported once as too long.
 * The lines before and after it come out untouched.
 */
export interface LineSink {
  line(text: string): void;
  /** `sample` is the first `maxLineBytes` bytes; `bytes` the full length of the over-long line */
  tooLong(sample: string, bytes: number): void;
}

/**
 * Node's own `Buffer#latin1Slice`, which `toString('latin1', from, to)` ends in: calling it
 * directly skips the encoding lookup and argument checks `toString` repeats for every line. Not
 * in the typings, so it is looked up once, with `toString` as the fallback.
 */
type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };
const FAST_LATIN1 = typeof (Buffer.prototype as Partial<Latin1Buffer>).latin1Slice === 'function';
const latin1Of = (buf: Buffer, from: number, to: number): string =>
  FAST_LATIN1 ? (buf as Latin1Buffer).latin1Slice(from, to) : buf.toString('latin1', from, to);

export class LineFramer {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** bytes of the current over-long line seen so far; 0 while not discarding */
  private discarding = 0;
  private sample = '';
  private discardEndsInCr = false;

  constructor(
    private readonly sink: LineSink,
    private readonly maxLineBytes: number,
  ) {}

  /** bytes held for an unfinished line (bounded by maxLineBytes) */
  get buffered(): number {
    return this.partialBytes;
  }

  push(chunk: Buffer): void {
    let start = 0;
    const n = chunk.length;
    while (start < n) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? n : nl;
      if (nl !== -1 && this.partialBytes === 0 && this.discarding === 0 && end - start <= this.maxLineBytes) {
        // Fast path: the whole line is inside this chunk; no copy.
        const cr = end > start && chunk[end - 1] === 13 ? 1 : 0;
        this.sink.line(latin1Of(chunk, start, end - cr));
        start = nl + 1;
        continue;
      }
      this.take(chunk, start, end);
      if (nl === -1) return;
      this.endLine();
      start = nl + 1;
    }
  }

  /** End of stream: an unterminated last line is still a line (the exactEarth capture ends so). */
  flush(): void {
    if (this.partialBytes > 0 || this.discarding > 0) this.endLine();
  }

  /** Drop an unfinished line without emitting it (a connection was reset mid-line and the caller reports it). */
  reset(): void {
    this.partial = [];
    this.partialBytes = 0;
    this.discarding = 0;
    this.sample = '';
  }

  private take(chunk: Buffer, start: number, end: number): void {
    const len = end - start;
    if (len === 0) return;
    if (this.discarding > 0) {
      this.discarding += len;
      this.discardEndsInCr = chunk[end - 1] === 13;
      return;
    }
    if (this.partialBytes + len > this.maxLineBytes) {
      // Keep a sample for the dead-letter entry, then discard until the next newline.
      const keep = this.maxLineBytes - this.partialBytes;
      const head = Buffer.concat([...this.partial, chunk.subarray(start, start + keep)]);
      this.sample = head.toString('latin1');
      this.discarding = this.partialBytes + len;
      this.discardEndsInCr = chunk[end - 1] === 13;
      this.partial = [];
      this.partialBytes = 0;
      return;
    }
    // Copy: the caller may reuse its buffer (UDP, some stream implementations).
    this.partial.push(Buffer.from(chunk.subarray(start, end)));
    this.partialBytes += len;
  }

  private endLine(): void {
    if (this.discarding > 0) {
      const bytes = this.discarding - (this.discardEndsInCr ? 1 : 0);
      const sample = this.sample;
      this.discarding = 0;
      this.sample = '';
      this.sink.tooLong(sample, bytes);
      return;
    }
    let text: string;
    if (this.partial.length === 1) text = this.partial[0]!.toString('latin1');
    else if (this.partial.length === 0) text = '';
    else text = Buffer.concat(this.partial, this.partialBytes).toString('latin1');
    this.partial = [];
    this.partialBytes = 0;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    this.sink.line(text);
  }
}
