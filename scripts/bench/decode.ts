/**
 * npm run bench:decode — decoder throughput on one core.
 *
 * Builds a file of at least 1,000,000 lines by repeating the AISHub capture (in a temp dir),
 * decodes it in this process streaming from disk, and prints sentences/s and messages/s, both
 * per wall-clock second and per CPU second of this process (on a shared machine wall time also
 * counts the other processes' turns; CPU time does not), and RSS before/after. When gpsdecode
 * (gpsd-clients) is installed it times `gpsdecode -c` (and once `gpsdecode -j`) on the same file
 * in the same run and prints the ratios, so the figures stay comparable on a busy machine.
 * Prints figures only; nothing here asserts a timing.
 *
 * One untimed pass warms up the JIT, then BENCH_DECODE_RUNS timed passes (default 5); the
 * summary gives their median (the figure to quote) and their best, for wall and CPU alike.
 * gpsdecode -c runs BENCH_DECODE_GPSD_RUNS times (default 3) and its median is the baseline.
 * BENCH_DECODE_LINES sets the file size (default 1000000).
 *
 * Like ingest (and as the decoder's contract expects), the clock is read once per chunk read
 * from disk and handed to every line of it as `receivedAt`, not read per line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, createWriteStream, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createDecoder, LineSplitter } from '../../pipeline/src/ais/decoder.js';
import { systemClock } from '../../pipeline/src/shared/clock.js';

const CAPTURE = 'pipeline/data/ais/aishub-3min-sample.nmea';
const wantLines = Number(process.env.BENCH_DECODE_LINES ?? 1_000_000);
const runs = Math.max(1, Number(process.env.BENCH_DECODE_RUNS ?? 5));
const gpsdRuns = Math.max(1, Number(process.env.BENCH_DECODE_GPSD_RUNS ?? 3));

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
const perSecond = (n: number, ms: number) => Math.round((n / ms) * 1000);
const fmt = (n: number) => `${n.toLocaleString('en-US')}/s`;
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function buildFile(dir: string): Promise<{ path: string; lines: number; bytes: number }> {
  const capture = readFileSync(CAPTURE);
  const perCopy = capture.toString('latin1').split('\n').length - (capture[capture.length - 1] === 10 ? 1 : 0);
  const copies = Math.ceil(wantLines / perCopy);
  const path = join(dir, 'aishub-repeated.nmea');
  const out = createWriteStream(path);
  for (let i = 0; i < copies; i++) if (!out.write(capture)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
  return { path, lines: copies * perCopy, bytes: statSync(path).size };
}

interface Run {
  ms: number;
  /** CPU time of this process (user + system): on a shared machine, wall time counts other processes' turns too */
  cpuMs: number;
  lines: number;
  messages: number;
  rejects: number;
}

async function decodeFile(path: string): Promise<Run> {
  const decoder = createDecoder({ clock: systemClock });
  const splitter = new LineSplitter();
  let lines = 0;
  let messages = 0;
  let rejects = 0;
  // one clock reading per chunk, as ingest does: the lines of a chunk arrived together
  const context = { receivedAt: 0 };
  const onLine = (line: string) => {
    lines++;
    const o = decoder.decode(line, context);
    if (o.kind === 'message') messages++;
    else if (o.kind === 'reject') rejects++;
  };
  const start = performance.now();
  const cpu = process.cpuUsage();
  // Streams from disk in 1 MB reads into one reused buffer (the splitter copies what it keeps).
  // Synchronous reads: an async stream adds a thread-pool round trip per chunk, which on a busy
  // machine measures the scheduler more than the decoder.
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  try {
    for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null)) {
      context.receivedAt = systemClock.now();
      splitter.push(buf.subarray(0, n), onLine);
      rejects += decoder.expire().length;
    }
  } finally {
    closeSync(fd);
  }
  splitter.end(onLine);
  rejects += decoder.flush().length;
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - start, cpuMs: (used.user + used.system) / 1000, lines, messages, rejects };
}

interface ChildTiming {
  ms: number;
  cpuMs: number | null;
}

/** Wall time and CPU time (user + system, from bash's `times`) of gpsdecode over the file. */
async function timeGpsdecode(flag: string, path: string): Promise<ChildTiming | null> {
  if (spawnSync('gpsdecode', ['-V']).error) return null;
  const start = performance.now();
  const child = spawn('bash', ['-c', 'gpsdecode "$1" < "$2" > /dev/null 2>&1 || exit 1; times', 'bench', flag, path], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  const ms = performance.now() - start;
  if (code !== 0) return null;
  // `times` prints the shell's user/system times, then its children's: "0m1.234s 0m0.056s"
  const children = out.trim().split('\n')[1] ?? '';
  const secs = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return { ms, cpuMs: secs.length === 2 ? (secs[0]! + secs[1]!) * 1000 : null };
}

const dir = mkdtempSync(join(tmpdir(), 'aisflow-bench-decode-'));
try {
  const file = await buildFile(dir);
  console.log(`input: ${CAPTURE} repeated to ${file.lines.toLocaleString('en-US')} lines, ${mb(file.bytes)} (${file.path})`);
  const rssBefore = process.memoryUsage().rss;
  console.log(`RSS before: ${mb(rssBefore)}`);
  await decodeFile(file.path); // warm-up: lets the JIT compile the hot paths before anything is timed
  const timed: Run[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await decodeFile(file.path);
    timed.push(r);
    console.log(
      `aisflow run ${i + 1}/${runs}: ${(r.ms / 1000).toFixed(3)} s wall, ${(r.cpuMs / 1000).toFixed(3)} s CPU; ${fmt(perSecond(r.lines, r.ms))} sentences wall, ${fmt(perSecond(r.lines, r.cpuMs))} sentences per CPU second (${r.messages.toLocaleString('en-US')} messages, ${r.rejects} rejects), RSS ${mb(process.memoryUsage().rss)}`,
    );
  }
  const rssAfter = process.memoryUsage().rss;
  console.log(`RSS after: ${mb(rssAfter)} (${rssAfter - rssBefore >= 0 ? '+' : ''}${mb(rssAfter - rssBefore)})`);
  const wallRates = timed.map((r) => perSecond(r.lines, r.ms));
  const cpuRates = timed.map((r) => perSecond(r.lines, r.cpuMs));
  const msgRates = timed.map((r) => perSecond(r.messages, r.ms));
  const medWallMs = median(timed.map((r) => r.ms));
  const medCpuMs = median(timed.map((r) => r.cpuMs));
  console.log(`aisflow sentences per wall second:  median ${fmt(median(wallRates))}, best ${fmt(Math.max(...wallRates))} (${runs} runs, one thread)`);
  console.log(`aisflow sentences per CPU second:   median ${fmt(median(cpuRates))}, best ${fmt(Math.max(...cpuRates))}`);
  console.log(`aisflow messages per wall second:   median ${fmt(median(msgRates))}`);

  const gpsd: ChildTiming[] = [];
  for (let i = 0; i < gpsdRuns; i++) {
    const t = await timeGpsdecode('-c', file.path);
    if (t === null) break;
    gpsd.push(t);
  }
  if (gpsd.length === 0) {
    console.log('gpsdecode: not installed (Debian package gpsd-clients); no baseline');
  } else {
    const wallMs = median(gpsd.map((t) => t.ms));
    const cpus = gpsd.flatMap((t) => (t.cpuMs === null ? [] : [t.cpuMs]));
    console.log(`gpsdecode -c sentences per wall second: median ${fmt(perSecond(file.lines, wallMs))} (${gpsd.length} runs); aisflow/gpsdecode -c = ${(wallMs / medWallMs).toFixed(2)}x (medians)`);
    if (cpus.length > 0) {
      const cpuMs = median(cpus);
      console.log(`gpsdecode -c sentences per CPU second:  median ${fmt(perSecond(file.lines, cpuMs))}; aisflow/gpsdecode -c = ${(cpuMs / medCpuMs).toFixed(2)}x (medians)`);
    }
    const j = await timeGpsdecode('-j', file.path);
    if (j !== null) {
      const cpu = j.cpuMs === null ? '' : `, ${fmt(perSecond(file.lines, j.cpuMs))} per CPU second (aisflow ${(j.cpuMs / medCpuMs).toFixed(2)}x)`;
      console.log(`gpsdecode -j (JSON out, 1 run): ${fmt(perSecond(file.lines, j.ms))} per wall second (aisflow ${(j.ms / medWallMs).toFixed(2)}x)${cpu}`);
    }
  }
  console.log('note: figures depend on the machine and its load; both decoders ran in the same run on the same file');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
