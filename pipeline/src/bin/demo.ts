import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import { InvalidArgumentError, type Command } from 'commander';
import { Redis } from 'ioredis';
import pg from 'pg';

/**
 * `aisflow demo`: the whole pipeline on one machine, on the bundled capture (README command 1).
 *
 * Contract: find NATS (4222), Redis (6379) and PostgreSQL (5432) on their default local ports or
 * start the installed server binaries in a temporary directory (else say exactly what to
 * install); create the demo database and apply migrations; start PgBouncer; run `aisflow
 * ingest` (the capture, looped, paced), `aisflow fusion` and `aisflow api` as child processes;
 * print where everything is and a sample curl that returns real vessels; keep one progress line
 * up to date; on Ctrl-C, SIGTERM or --duration stop every child by PID and exit 0.
 *
 * Every child gets a clean environment: only the AISFLOW_* variables it is meant to see, since
 * each process rejects variables that are not its settings.
 */

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const aisflowEntry = join(repoRoot, 'bin/aisflow.mjs');
const defaultCapture = join(repoRoot, 'pipeline/data/ais/aishub-3min-sample.nmea');

export interface DemoOptions {
  port: number;
  duration?: number;
  rate: number;
  name: string;
  partitions: number;
  capture: string;
  clean: boolean;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

function demoName(value: string): string {
  if (!/^[a-z][a-z0-9_]{0,30}$/.test(value)) throw new InvalidArgumentError('lower-case letters, digits and _, starting with a letter (at most 31)');
  return value;
}

export function register(command: Command): void {
  command
    .option('--port <port>', 'port of the API', positiveInt, 8080)
    .option('--duration <seconds>', 'stop by itself this many seconds after the pipeline is up (default: run until Ctrl-C)', positiveInt)
    .option('--rate <linesPerSecond>', 'replay pace of the capture', positiveInt, 500)
    .option('--name <name>', 'names the demo’s stream, Redis key prefix and database (run several side by side)', demoName, 'demo')
    .option('--partitions <n>', 'partitions (fewer than production: one fusion process on a laptop)', positiveInt, 16)
    .option('--capture <file>', 'NMEA capture to replay, looped', defaultCapture)
    .option('--clean', 'on exit, delete the demo’s streams, Redis keys and database', false)
    .action(async (flags: DemoOptions) => {
      process.exitCode = await runDemo(flags);
      setTimeout(() => process.exit(), 500).unref();
    });
}

// ---------------------------------------------------------------------------------------------
// child processes

export interface ManagedChild {
  name: string;
  process: ChildProcess;
  logFile: string;
  /** resolves with the exit code (or the signal name) */
  exited: Promise<number | string>;
  /** SIGTERM by PID, then SIGKILL after `graceMs`; resolves when the process is gone */
  stop(graceMs?: number): Promise<number | string>;
}

/** The parent's environment without any AISFLOW_* variable. */
export function baseEnv(parent: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parent)) if (v !== undefined && !k.startsWith('AISFLOW_')) out[k] = v;
  return out;
}

/** Starts a child whose stdout/stderr go to `logFile`. */
export function spawnManaged(name: string, command: string, args: string[], env: Record<string, string>, logFile: string): ManagedChild {
  mkdirSync(dirname(logFile), { recursive: true });
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: repoRoot });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | string>((resolveExit) => {
    child.once('exit', (code, signal) => {
      resolveExit(code ?? signal ?? 'unknown');
    });
    child.once('error', (err) => {
      log.write(`spawn failed: ${err.message}\n`);
      resolveExit('spawn-error');
    });
  });
  void exited.then(() => setTimeout(() => log.end(), 50));
  return {
    name,
    process: child,
    logFile,
    exited,
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return exited;
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
      }, graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** `node bin/aisflow.mjs <args>` as a managed child. */
export function spawnAisflow(name: string, args: string[], env: Record<string, string>, logFile: string): ManagedChild {
  return spawnManaged(name, process.execPath, [aisflowEntry, ...args], env, logFile);
}

export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export function portAnswers(port: number, host = '127.0.0.1', timeoutMs = 1_000): Promise<boolean> {
  return new Promise((done) => {
    const socket = new Socket();
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
    socket.connect(port, host);
  });
}

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value, the deadline passes, or `abort` says stop. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | null>, abort?: () => string | null): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const why = abort?.();
    if (why) throw new Error(`${what}: ${why}`);
    try {
      const value = await check();
      if (value !== null) return value;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(250);
  }
  throw new Error(`${what}: not ready within ${timeoutMs / 1000} s${last ? ` (last error: ${last})` : ''}`);
}

// ---------------------------------------------------------------------------------------------
// local services

interface ServiceSpec {
  name: string;
  port: number;
  binaries: string[];
  install: string;
  start(dir: string, bin: string, logDir: string): ManagedChild | string;
}

function which(names: string[], extraDirs: string[] = []): string | null {
  for (const name of names) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
    if (found) return found;
    for (const dir of extraDirs) if (existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

function postgresBinDirs(): string[] {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return [];
  return spawnSync('ls', ['-1', root], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean)
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(root, v, 'bin'));
}

const services: ServiceSpec[] = [
  {
    name: 'NATS (JetStream)',
    port: 4222,
    binaries: ['nats-server'],
    install: 'install nats-server 2.9+ (Debian/Ubuntu: sudo apt-get install nats-server; or a release from https://github.com/nats-io/nats-server/releases) or run: docker run -p 4222:4222 nats:2 -js',
    start: (dir, bin, logDir) => spawnManaged('nats-server', bin, ['-js', '-a', '127.0.0.1', '-p', '4222', '-sd', join(dir, 'nats')], baseEnv(process.env), join(logDir, 'nats-server.log')),
  },
  {
    name: 'Redis',
    port: 6379,
    binaries: ['redis-server'],
    install: 'install Redis 7 (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) or run: docker run -p 6379:6379 redis:7',
    start: (dir, bin, logDir) =>
      spawnManaged('redis-server', bin, ['--port', '6379', '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], baseEnv(process.env), join(logDir, 'redis-server.log')),
  },
  {
    name: 'PostgreSQL',
    port: 5432,
    binaries: ['postgres'],
    install:
      'install PostgreSQL 13+ (Debian/Ubuntu: sudo apt-get install postgresql; macOS: brew install postgresql) and start it with trust auth for 127.0.0.1, or run: docker run -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16',
    start: (dir, bin, logDir) => {
      // PostgreSQL refuses to run as root; a root user gets the install/start instructions instead.
      if (process.getuid?.() === 0) return 'PostgreSQL cannot be started as root by the demo';
      const initdb = join(dirname(bin), 'initdb');
      const data = join(dir, 'pgdata');
      const init = spawnSync(existsSync(initdb) ? initdb : 'initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8'], { encoding: 'utf8' });
      if (init.status !== 0) return `initdb failed: ${init.stderr.trim().split('\n').pop() ?? ''}`;
      return spawnManaged('postgres', bin, ['-D', data, '-p', '5432', '-k', dir, '-c', 'listen_addresses=127.0.0.1'], baseEnv(process.env), join(logDir, 'postgres.log'));
    },
  },
];

// ---------------------------------------------------------------------------------------------
// the run

interface Out {
  line(text: string): void;
  progress(text: string): void;
}

function output(): Out {
  const tty = process.stdout.isTTY === true;
  let lastPrinted = 0;
  return {
    line: (text) => process.stdout.write(`${tty ? '\r\x1b[2K' : ''}${text}\n`),
    progress: (text) => {
      if (tty) process.stdout.write(`\r\x1b[2K${text}`);
      else if (Date.now() - lastPrinted >= 5_000) {
        // Not a terminal (a log, a test): a line every 5 s instead of a line rewritten in place.
        lastPrinted = Date.now();
        process.stdout.write(`${text}\n`);
      }
    },
  };
}

async function metricSum(url: string, name: string): Promise<number | null> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  if (!res.ok) return null;
  let sum = 0;
  let seen = false;
  for (const line of (await res.text()).split('\n')) {
    if (line.startsWith(name) && (line[name.length] === '{' || line[name.length] === ' ')) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      seen = true;
    }
  }
  return seen ? sum : null;
}

interface Summary {
  vessels: number | null;
  stream: { pending: number } | null;
  dlq: { messages: number } | null;
}

interface SampleVessel {
  mmsi: number;
  position: { lat: number; lon: number } | null;
  static: { shipName: string | null } | null;
}

/**
 * The vessel the sample curls show: a ship (MMSI 2xx-7xx: a ship station's MID, not a base
 * station, aid to navigation or a test id like 000000000) with a position, preferably a name.
 */
export function pickSample(items: readonly SampleVessel[]): SampleVessel | null {
  const ships = items.filter((v) => v.position !== null && v.mmsi >= 201_000_000 && v.mmsi <= 775_999_999);
  return ships.find((v) => (v.static?.shipName ?? '') !== '') ?? ships[0] ?? items.find((v) => v.position !== null) ?? null;
}

export function formatProgress(p: { msgsPerSecond: number | null; vessels: number | null; lag: number | null; dlq: number | null; uptimeS: number }): string {
  const n = (v: number | null) => (v === null ? '?' : Math.round(v).toLocaleString('en-US'));
  const mm = String(Math.floor(p.uptimeS / 60)).padStart(2, '0');
  const ss = String(Math.floor(p.uptimeS % 60)).padStart(2, '0');
  return `${n(p.msgsPerSecond)} msg/s · ${n(p.vessels)} vessels · lag ${n(p.lag)} batches · dlq ${n(p.dlq)} · up ${mm}:${ss}  (Ctrl-C stops)`;
}

export async function runDemo(o: DemoOptions): Promise<number> {
  const out = output();
  const started = Date.now();
  const runDir = join(repoRoot, '.run', 'demo', o.name);
  mkdirSync(runDir, { recursive: true });
  const children: ManagedChild[] = [];
  const ownServices: ManagedChild[] = [];
  let tempDir: string | null = null;
  let startedPgBouncer = false;
  let stopping: string | null = null;

  const names = { stream: `AIS_${o.name.toUpperCase()}`, dlqStream: `AIS_${o.name.toUpperCase()}_DLQ`, prefix: `aisflow_${o.name}` };
  const keyPrefix = `aisflow:${o.name}`;
  const database = `aisflow_${o.name}`;
  const adminToken = randomBytes(18).toString('base64url');

  const onSignal = (signal: string) => {
    if (stopping === null) out.line(`\n${signal}: stopping…`);
    stopping ??= signal;
  };
  const sigint = () => onSignal('SIGINT');
  const sigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', sigint);
  process.on('SIGTERM', sigterm);

  const cleanup = async (): Promise<void> => {
    // Ingest stops reading and drains first, then fusion finishes what it pulled, the API goes last.
    const order = ['ingest', 'fusion', 'api'];
    for (const child of [...children].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name))) {
      const code = await child.stop(35_000);
      if (code !== 0 && code !== 'SIGTERM') out.line(`  ${child.name} exited with ${code} (log: ${child.logFile})`);
    }
    if (o.clean) await cleanData(names, keyPrefix, database).catch((err: unknown) => out.line(`  cleaning up failed: ${(err as Error).message}`));
    if (startedPgBouncer) spawnSync('bash', [join(repoRoot, 'scripts/services/pgbouncer.sh'), 'stop'], { stdio: 'ignore' });
    for (const s of [...ownServices].reverse()) await s.stop(10_000);
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
  };

  const abortReason = (): string | null => {
    if (stopping) return `interrupted by ${stopping}`;
    for (const c of children) {
      if (c.process.exitCode !== null || c.process.signalCode !== null) return `${c.name} exited (${c.process.exitCode ?? c.process.signalCode}); its log ends:\n${tail(c.logFile)}`;
    }
    return null;
  };

  try {
    out.line(`aisflow demo "${o.name}": logs in ${runDir}`);

    // 1. NATS, Redis, PostgreSQL on their default ports.
    for (const s of services) {
      if (await portAnswers(s.port)) {
        out.line(`  ✓ ${s.name} on 127.0.0.1:${s.port}`);
        continue;
      }
      const bin = which(s.binaries, s.name === 'PostgreSQL' ? postgresBinDirs() : []);
      if (!bin) {
        out.line(`  ✗ ${s.name} is not running on 127.0.0.1:${s.port} and is not installed.\n    To fix: ${s.install}`);
        return 1;
      }
      tempDir ??= mkdtempSync(join(tmpdir(), 'aisflow-demo-'));
      const svc = s.start(tempDir, bin, runDir);
      if (typeof svc === 'string') {
        out.line(`  ✗ ${s.name} is not running on 127.0.0.1:${s.port}: ${svc}.\n    To fix: ${s.install}`);
        return 1;
      }
      ownServices.push(svc);
      await waitFor(`${s.name} (${bin})`, 30_000, async () => ((await portAnswers(s.port)) ? true : null), () =>
        svc.process.exitCode !== null ? `exited; its log ends:\n${tail(svc.logFile)}` : null,
      );
      out.line(`  ✓ ${s.name} started from ${bin} in ${tempDir} (stopped again on exit)`);
    }

    // 2. The demo database, and migrations straight to PostgreSQL (they take a session lock).
    const directUrl = `postgres://postgres@127.0.0.1:5432/${database}`;
    await ensureDatabase(database);
    const migrate = spawnAisflow('migrate', ['migrate'], { ...baseEnv(process.env), AISFLOW_POSTGRES_URL: directUrl }, join(runDir, 'migrate.log'));
    const migrated = await migrate.exited;
    if (migrated !== 0) {
      out.line(`  ✗ migrations failed (exit ${migrated}); log ends:\n${tail(migrate.logFile)}`);
      return 1;
    }
    out.line(`  ✓ database ${database} migrated`);

    // 3. PgBouncer: every pipeline connection goes through it, as in a deployment.
    const hadPgBouncer = await portAnswers(6433);
    const bouncer = spawnSync('bash', [join(repoRoot, 'scripts/services/pgbouncer.sh')], { encoding: 'utf8' });
    if (bouncer.status !== 0) {
      out.line(`  ✗ PgBouncer did not start: ${bouncer.stderr.trim() || bouncer.stdout.trim()}\n    To fix: install pgbouncer (Debian/Ubuntu: sudo apt-get install pgbouncer)`);
      return 1;
    }
    startedPgBouncer = !hadPgBouncer;
    out.line('  ✓ PgBouncer on 127.0.0.1:6433 (transaction pooling)');

    // 4. The pipeline.
    if (await portAnswers(o.port)) {
      out.line(`  ✗ port ${o.port} is already in use: pass --port <free port>`);
      return 1;
    }
    const [ingestPort, fusionPort] = [await freePort(), await freePort()];
    const { common, stores } = localPipelineEnv({ names, partitions: o.partitions, keyPrefix, database, logLevel: 'info' });
    children.push(
      spawnAisflow(
        'ingest',
        ['ingest', '--file', o.capture, '--loop', '--rate', String(o.rate), '--source-id', 'aishub'],
        // A paced replay is a trickle per partition: with the default 10 ms linger nearly every
        // record would be its own JetStream message, and one laptop fusion process would fall
        // behind on per-message work. A 250 ms linger makes batches of several records.
        { ...common, AISFLOW_HTTP_PORT: String(ingestPort), AISFLOW_BATCH_LINGER_MS: '250' },
        join(runDir, 'ingest.log'),
      ),
    );
    // The API needs no stream to start (its summary says what it cannot read yet): it starts
    // alongside ingest. Ingest creates the streams fusion consumes, so fusion starts after it.
    children.push(
      spawnAisflow(
        'api',
        ['api'],
        { ...common, ...stores, AISFLOW_HTTP_PORT: String(o.port), AISFLOW_HTTP_HOST: '127.0.0.1', AISFLOW_ADMIN_TOKEN: adminToken },
        join(runDir, 'api.log'),
      ),
    );
    await waitFor('ingest', 120_000, async () => ((await fetch(`http://127.0.0.1:${ingestPort}/readyz`)).ok ? true : null), abortReason);
    children.push(
      spawnAisflow('fusion', ['fusion'], { ...common, ...stores, AISFLOW_HTTP_PORT: String(fusionPort), AISFLOW_MEMBER_ID: `${o.name}-fusion-1` }, join(runDir, 'fusion.log')),
    );
    const api = `http://127.0.0.1:${o.port}`;
    await waitFor('fusion', 120_000, async () => ((await fetch(`http://127.0.0.1:${fusionPort}/readyz`)).ok ? true : null), abortReason);
    await waitFor('api', 120_000, async () => ((await fetch(`${api}/healthz`)).ok ? true : null), abortReason);

    // 5. A vessel that is really there, for the sample curl.
    const sample = await waitFor(
      'first vessels in the API',
      120_000,
      async () => {
        const res = await fetch(`${api}/v1/vessels?bbox=-180,-90,180,90&limit=200`);
        const body = (await res.json()) as { items?: SampleVessel[] };
        return pickSample(body.items ?? []);
      },
      abortReason,
    );
    const mmsi = String(sample.mmsi).padStart(9, '0');
    const { lon, lat } = sample.position!;
    const box = [lon - 0.5, lat - 0.5, lon + 0.5, lat + 0.5].map((v) => Math.round(v * 100) / 100).join(',');
    out.line('');
    out.line(`  API        ${api}`);
    out.line(`  OpenAPI    ${api}/docs`);
    out.line(`  metrics    ${api}/metrics   (ingest :${ingestPort}/metrics, fusion :${fusionPort}/metrics)`);
    out.line(`  summary    ${api}/metrics/summary`);
    out.line(`  try        curl '${api}/v1/vessels/${mmsi}'`);
    out.line(`             curl '${api}/v1/vessels?bbox=${box}&limit=10'`);
    out.line(`             curl -N '${api}/v1/stream?bbox=${box}'`);
    out.line(`  admin      curl -H 'Authorization: Bearer ${adminToken}' '${api}/admin/dlq/stats'`);
    out.line('');

    // 6. Progress until Ctrl-C, SIGTERM, --duration, or a child dies.
    let previous: { at: number; messages: number } | null = null;
    // --duration counts from here, once the pipeline is up: start-up time varies with the machine.
    const endAt = o.duration !== undefined ? Date.now() + o.duration * 1000 : Infinity;
    while (Date.now() < endAt) {
      const why = abortReason();
      if (why) {
        if (stopping) break;
        out.line(`  ✗ ${why}`);
        return 1;
      }
      const [messages, summary] = await Promise.all([
        metricSum(`http://127.0.0.1:${ingestPort}/metrics`, 'aisflow_ingest_messages_total').catch(() => null),
        fetch(`${api}/metrics/summary`, { signal: AbortSignal.timeout(2_000) })
          .then((r) => r.json() as Promise<Summary>)
          .catch(() => null),
      ]);
      const now = Date.now();
      let rate: number | null = null;
      if (messages !== null) {
        if (previous && now > previous.at) rate = ((messages - previous.messages) * 1000) / (now - previous.at);
        previous = { at: now, messages };
      }
      out.progress(formatProgress({ msgsPerSecond: rate, vessels: summary?.vessels ?? null, lag: summary?.stream?.pending ?? null, dlq: summary?.dlq?.messages ?? null, uptimeS: (now - started) / 1000 }));
      await sleep(Math.min(1_000, Math.max(0, endAt - Date.now())));
    }
    out.line(stopping ? '' : `\n--duration ${o.duration} s reached: stopping…`);
    return 0;
  } catch (err) {
    out.line(`  ✗ ${(err as Error).message}`);
    return stopping ? 0 : 1;
  } finally {
    await cleanup();
    out.line('demo stopped');
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function ensureDatabase(database: string): Promise<void> {
  const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${quoteIdent(database)}`);
  } finally {
    await client.end();
  }
}

/**
 * The environment every child of a local pipeline shares (`common`), and the store settings
 * fusion and api add (`stores`: Redis on 6379, Postgres through the local PgBouncer on 6433).
 * The test harnesses start their pipelines with the same settings.
 */
export function localPipelineEnv(o: {
  names: { stream: string; dlqStream: string; prefix: string };
  partitions: number;
  keyPrefix: string;
  database: string;
  logLevel: string;
}): { common: Record<string, string>; stores: Record<string, string> } {
  return {
    common: {
      ...baseEnv(process.env),
      AISFLOW_NATS_URL: 'nats://127.0.0.1:4222',
      AISFLOW_NATS_STREAM: o.names.stream,
      AISFLOW_NATS_DLQ_STREAM: o.names.dlqStream,
      AISFLOW_NATS_SUBJECT_PREFIX: o.names.prefix,
      AISFLOW_PARTITIONS: String(o.partitions),
      AISFLOW_KEY_PREFIX: o.keyPrefix,
      AISFLOW_LOG_LEVEL: o.logLevel,
    },
    stores: {
      AISFLOW_REDIS_MODE: 'standalone',
      AISFLOW_REDIS_URL: 'redis://127.0.0.1:6379',
      AISFLOW_POSTGRES_URL: `postgres://postgres@127.0.0.1:6433/${o.database}`,
    },
  };
}

/** --clean (and test teardown): what a run created outside its processes (streams, Redis keys, the database). */
export async function cleanData(names: { stream: string; dlqStream: string }, keyPrefix: string, database: string): Promise<void> {
  const nc = await natsConnect({ servers: '127.0.0.1:4222' });
  try {
    const jsm = await jetstreamManager(nc);
    for (const stream of [names.stream, names.dlqStream, `KV_${`${names.stream}_fusion_members`.replace(/[^A-Za-z0-9_-]/g, '_')}`]) {
      await jsm.streams.delete(stream).catch(() => false);
    }
  } finally {
    await nc.close();
  }
  const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  try {
    // Every key starts with `<prefix>:` (store/redis/keys.ts).
    for (const pattern of [`${keyPrefix}:*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.unlink(...keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
  const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await client.connect();
  try {
    // FORCE: PgBouncer still holds idle server connections to it.
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
