/**
 * npm run bench:decode — decoder throughput on one core.
 *
 * Builds a file of at least 1,000,000 lines by repeating the AISHub capture (in a temp dir),
 * decodes it in this process streaming from disk, and prints sentences/s, messages/s and RSS
 * before/after, both per wall-clock second and per CPU second (the machine may be shared). When gpsdecode (gpsd-clients) is installed it times `gpsdecode -c` and
 * `gpsdecode -j` on the same file in the same run and prints the ratios, so the figures stay
 * comparable on a busy machine. Prints figures only; nothing here asserts a timing.
 *
 * Options (env): BENCH_DECODE_LINES (default 1000000), BENCH_DECODE_RUNS (default 3; the run
 * with the least CPU time is reported as best, the first warms up the JIT). Best by CPU, not
 * wall: on a shared machine wall time mostly measures the other processes' turns.
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
const runs = Math.max(1, Number(process.env.BENCH_DECODE_RUNS ?? 3));

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;

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
  const onLine = (line: string) => {
    lines++;
    const o = decoder.decode(line);
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
  let best: Run | null = null;
  for (let i = 0; i < runs; i++) {
    const r = await decodeFile(file.path);
    const mem = process.memoryUsage().rss;
    console.log(
      `aisflow run ${i + 1}: ${(r.ms / 1000).toFixed(2)} s wall, ${(r.cpuMs / 1000).toFixed(2)} s CPU; ${rate(r.lines, r.ms)} sentences, ${rate(r.messages, r.ms)} messages wall; ${rate(r.lines, r.cpuMs)} sentences per CPU second (${r.messages.toLocaleString('en-US')} messages, ${r.rejects} rejects), RSS ${mb(mem)}`,
    );
    if (best === null || r.cpuMs < best.cpuMs) best = r;
  }
  const rssAfter = process.memoryUsage().rss;
  console.log(`RSS after: ${mb(rssAfter)} (${rssAfter - rssBefore >= 0 ? '+' : ''}${mb(rssAfter - rssBefore)})`);
  const b = best!;
  console.log(`aisflow best: ${rate(b.lines, b.ms)} sentences (lines) per second wall, ${rate(b.messages, b.ms)} messages per second, ${rate(b.lines, b.cpuMs)} sentences per CPU second, one thread`);
  for (const flag of ['-c', '-j']) {
    const t = await timeGpsdecode(flag, file.path);
    if (t === null) {
      console.log(`gpsdecode ${flag}: not installed (Debian package gpsd-clients); no baseline`);
      continue;
    }
    const cpu = t.cpuMs === null ? '' : `, ${(t.cpuMs / 1000).toFixed(2)} s CPU, ${rate(file.lines, t.cpuMs)} lines per CPU second; aisflow/gpsdecode ${flag} per CPU second = ${(t.cpuMs / b.cpuMs).toFixed(2)}x`;
    console.log(`gpsdecode ${flag}: ${(t.ms / 1000).toFixed(2)} s wall, ${rate(file.lines, t.ms)} lines; aisflow/gpsdecode ${flag} wall = ${(t.ms / b.ms).toFixed(2)}x${cpu}`);
  }
  console.log('note: figures depend on the machine and its load; both decoders ran in the same run on the same file');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
