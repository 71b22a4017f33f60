import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../harness/fusion-services.js';
import { exampleCr, managedPodSpec } from '../../harness/managed-pods.js';

/**
 * How the operator's managed Postgres stops, with the real Postgres binaries: a private server
 * in a temporary directory, a client that stays connected as PgBouncer's server connections do,
 * then SIGTERM (what Kubernetes sends) and the StatefulSet's own preStop hook.
 */
const bin = (() => {
  const root = '/usr/lib/postgresql';
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0]!;
  return join(root, version, 'bin');
})();

// initdb and postgres refuse to run as root: run them as the postgres account when we are root
const asPostgres = (() => {
  if (userInfo().uid !== 0) return {};
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
})();

const dir = mkdtempSync(join(tmpdir(), 'aisflow-pg-stop-'));
if (asPostgres.uid !== undefined) chownSync(dir, asPostgres.uid, asPostgres.gid!);
const data = join(dir, 'data');
const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, PGDATA: data };

let server: ChildProcess | undefined;
afterAll(async () => {
  if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const alive = (p: ChildProcess) => p.exitCode === null && p.signalCode === null;

describe('managed Postgres stop (real Postgres binaries)', () => {
  it('SIGTERM alone keeps waiting for an idle client; the preStop hook stops the server fast and cleanly', { timeout: 90_000 }, async () => {
    const container = managedPodSpec(exampleCr('minimal'), 'postgres').containers[0]!;
    const [hook, ...hookArgs] = container.lifecycle.preStop.exec.command;

    const init = spawnSync('initdb', ['-D', data, '-U', 'aisflow', '--auth=trust', '--no-sync'], { env, encoding: 'utf8', ...asPostgres });
    expect(init.status, init.stderr).toBe(0);
    const port = await freePort();
    server = spawn('postgres', ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1'], { env, stdio: 'ignore', ...asPostgres });
    const exited = new Promise<number>((resolve) => server!.once('exit', () => resolve(Date.now())));

    // an idle client, as PgBouncer's pooled server connections are
    let client: pg.Client | undefined;
    for (let attempt = 0; !client; attempt++) {
      const c = new pg.Client({ host: '127.0.0.1', port, user: 'aisflow', database: 'postgres' });
      c.on('error', () => undefined); // the server ends the session on the fast shutdown
      try {
        await c.connect();
        client = c;
      } catch (err) {
        if (attempt > 100) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);

    // Kubernetes' SIGTERM: a smart shutdown, which waits for the client
    server.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 3_000));
    expect(alive(server)).toBe(true);

    // the hook: a fast shutdown, waited for
    const started = Date.now();
    const stop = spawnSync(hook!, hookArgs, { env, encoding: 'utf8', ...asPostgres });
    expect(stop.status, stop.stderr + stop.stdout).toBe(0);
    const exitAt = await Promise.race([exited, new Promise<number>((r) => setTimeout(() => r(Number.NaN), 15_000))]);
    expect(exitAt - started).toBeLessThan(10_000);
    expect(existsSync(join(data, 'postmaster.pid'))).toBe(false);
    // a clean stop: the next start needs no WAL replay
    const control = spawnSync('pg_controldata', [data], { env, encoding: 'utf8', ...asPostgres });
    expect(control.stdout).toMatch(/Database cluster state:\s+shut down$/m);
    await client.end().catch(() => undefined);
  });
});
