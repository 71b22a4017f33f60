import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

/**
 * Private service instances a fusion test may stop and start (the shared Redis on 6379 and the
 * shared PgBouncer on 6433 belong to everyone). Each runs as a child process on a free loopback
 * port, is stopped by its PID, and leaves nothing behind after `destroy()`.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitPort(port: number, up: boolean, timeoutMs = 10_000): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), resolve(true)));
      c.once('error', () => resolve(false));
    });
    if (open === up) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not become ${up ? 'open' : 'closed'} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface PrivateService {
  port: number;
  url: string;
  /** stop the process (graceful: Redis writes its append-only file) */
  stop(): Promise<void>;
  /** start it again on the same port with the same data */
  start(): Promise<void>;
  destroy(): Promise<void>;
}

function supervise(spawnIt: () => ChildProcess, port: number, url: string, dir: string): PrivateService {
  let child: ChildProcess | undefined;
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
    await waitPort(port, false);
  };
  const start = async () => {
    if (child) return;
    child = spawnIt();
    await waitPort(port, true);
  };
  return { port, url, stop, start, destroy: async () => (await stop(), rmSync(dir, { recursive: true, force: true })) };
}

/** redis-server with an append-only file, so a stop and start keeps the live state. */
export async function privateRedis(): Promise<PrivateService> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'aisflow-fusion-redis-'));
  const svc = supervise(
    () => spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], { stdio: 'ignore' }),
    port,
    `redis://127.0.0.1:${port}`,
    dir,
  );
  await svc.start();
  return svc;
}

/** A PgBouncer in transaction mode in front of the shared Postgres; stopping it is "Postgres is down" for its clients. */
export async function privatePgBouncer(database = 'postgres'): Promise<PrivateService> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'aisflow-fusion-pgbouncer-'));
  writeFileSync(join(dir, 'userlist.txt'), '"postgres" ""\n');
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      '* = host=127.0.0.1 port=5432',
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      'max_client_conn = 200',
      'default_pool_size = 10',
      'server_reset_query =',
      'ignore_startup_parameters = extra_float_digits,options,application_name',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      '',
    ].join('\n'),
  );
  // PgBouncer refuses to run as root
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chmodSync(dir, 0o755);
    for (const f of ['', 'userlist.txt', 'pgbouncer.ini']) chownSync(join(dir, f), uid, gid);
  }
  const svc = supervise(
    () => spawn('pgbouncer', [...(asRoot ? ['-u', 'postgres'] : []), join(dir, 'pgbouncer.ini')], { stdio: 'ignore' }),
    port,
    `postgres://postgres@127.0.0.1:${port}/${database}`,
    dir,
  );
  await svc.start();
  return svc;
}
