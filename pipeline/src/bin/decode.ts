import { createReadStream } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { createDecoder, DEFAULT_FRAGMENT_TIMEOUT_MS, DEFAULT_MAX_LINE_LENGTH, DEFAULT_MAX_OPEN_FRAGMENTS, LineSplitter } from '../ais/decoder.js';
import type { DecodeOutcome } from '../ais/types.js';
import { systemClock } from '../shared/clock.js';

/**
 * `aisflow decode [FILE]`: NMEA in (FILE or stdin), one JSON object per decoded message on
 * stdout (like `gpsdecode -j`), and a summary of counts by message type, reject reason and skip
 * reason on stderr. Options come from the command line only: this is a tool, not a service.
 */
export function register(command: Command): void {
  command
    .argument('[file]', 'NMEA file to decode (default: stdin)')
    .option('--source <id>', 'source id for lines without a tag-block s:', '')
    .option('--meta', 'print {"message":…,"meta":…} objects instead of bare messages', false)
    .option('--rejects', 'also print rejects as {"reject":reason,"detail":…,"raw":…} lines on stdout', false)
    .option('--no-summary', 'do not print the summary on stderr')
    .option('--fragment-timeout-ms <ms>', 'how long a partial multi-sentence message waits', positiveInt, DEFAULT_FRAGMENT_TIMEOUT_MS)
    .option('--max-open-fragments <n>', 'bound on partial messages held at once', positiveInt, DEFAULT_MAX_OPEN_FRAGMENTS)
    .option('--max-line-length <bytes>', 'longer lines are rejected as line_too_long', positiveInt, DEFAULT_MAX_LINE_LENGTH)
    .action(async (file: string | undefined, opts: DecodeCliOptions) => {
      // `aisflow decode big.nmea | head`: a closed stdout ends the run quietly, like other filters
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') process.exit(0);
        throw err;
      });
      const summary = await runDecode(file === undefined || file === '-' ? process.stdin : createReadStream(file), process.stdout, opts);
      if (opts.summary) process.stderr.write(formatSummary(summary));
    });
}

export interface DecodeCliOptions {
  source: string;
  meta: boolean;
  rejects: boolean;
  summary: boolean;
  fragmentTimeoutMs: number;
  maxOpenFragments: number;
  maxLineLength: number;
}

export interface DecodeSummary {
  lines: number;
  messages: number;
  byType: Record<string, number>;
  rejects: Record<string, number>;
  skips: Record<string, number>;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`"${value}" is not a positive integer`);
  return n;
}

/** Decode a byte stream to JSON lines on `out`; resolves with the counts. */
export async function runDecode(input: NodeJS.ReadableStream, out: NodeJS.WritableStream, opts: DecodeCliOptions): Promise<DecodeSummary> {
  const decoder = createDecoder({
    clock: systemClock,
    defaultSource: opts.source,
    fragmentTimeoutMs: opts.fragmentTimeoutMs,
    maxOpenFragments: opts.maxOpenFragments,
    maxLineLength: opts.maxLineLength,
  });
  const splitter = new LineSplitter(opts.maxLineLength);
  const summary: DecodeSummary = { lines: 0, messages: 0, byType: {}, rejects: {}, skips: {} };
  let buffered: string[] = [];

  const record = (o: DecodeOutcome): void => {
    switch (o.kind) {
      case 'message':
        summary.messages++;
        summary.byType[o.message.type] = (summary.byType[o.message.type] ?? 0) + 1;
        buffered.push(JSON.stringify(opts.meta ? { message: o.message, meta: o.meta } : o.message));
        break;
      case 'reject':
        summary.rejects[o.reason] = (summary.rejects[o.reason] ?? 0) + 1;
        if (opts.rejects) buffered.push(JSON.stringify({ reject: o.reason, detail: o.detail, raw: o.raw, source: o.source }));
        break;
      case 'skip':
        summary.skips[o.reason] = (summary.skips[o.reason] ?? 0) + 1;
        break;
      case 'fragment':
        break;
    }
  };
  // The clock is read, and timed-out fragments expired, once per input chunk rather than per
  // line: at millions of lines/s the per-line clock read is a measurable share of the work.
  const context = { receivedAt: 0 };
  const onLine = (line: string): void => {
    summary.lines++;
    record(decoder.decode(line, context));
  };

  for await (const chunk of input) {
    context.receivedAt = systemClock.now();
    for (const e of decoder.expire()) record(e);
    splitter.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : (chunk as Buffer), onLine);
    if (buffered.length > 0) {
      // one write per input chunk, honouring backpressure (`aisflow decode big.nmea | head`)
      const ok = out.write(buffered.join('\n') + '\n');
      buffered = [];
      if (!ok) await new Promise((resolve) => out.once('drain', resolve));
    }
  }
  splitter.end(onLine);
  for (const e of decoder.flush()) record(e);
  if (buffered.length > 0) out.write(buffered.join('\n') + '\n');
  return summary;
}

export function formatSummary(s: DecodeSummary): string {
  const list = (counts: Record<string, number>, label: (k: string) => string) =>
    Object.entries(counts)
      .sort((a, b) => (label === typeLabel ? Number(a[0]) - Number(b[0]) : b[1] - a[1]))
      .map(([k, n]) => `  ${label(k).padEnd(28)} ${n}`)
      .join('\n');
  const rejected = Object.values(s.rejects).reduce((a, b) => a + b, 0);
  const skipped = Object.values(s.skips).reduce((a, b) => a + b, 0);
  return [
    `lines ${s.lines}, messages ${s.messages}, rejected ${rejected}, skipped ${skipped}`,
    'messages by type:',
    list(s.byType, typeLabel),
    ...(rejected ? ['rejects by reason:', list(s.rejects, (k) => k)] : []),
    ...(skipped ? ['skips by reason:', list(s.skips, (k) => k)] : []),
    '',
  ].join('\n');
}

const typeLabel = (k: string): string => `type ${k}`;
