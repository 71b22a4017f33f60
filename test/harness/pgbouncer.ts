import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** PgBouncer the project's script starts: transaction pooling in front of 127.0.0.1:5432. */
export const PGBOUNCER_PORT = 6433;
export const pgBouncerUrl = (database = 'postgres') => `postgres://postgres@127.0.0.1:${PGBOUNCER_PORT}/${database}`;

let registrations = 0;

/**
 * A service started by one of `scripts/services/*.sh`, shared by every test run on the machine.
 * Each user registers itself (a file named by its PID under `.run/<name>/users/`); the last one
 * to leave stops the service, but only if a test run started it: a service that was already
 * running before any test run (a developer's) is left alone. Files of dead PIDs (a run that was
 * killed) do not count.
 */
export async function useScriptService(name: string, script: string): Promise<() => Promise<void>> {
  const dir = join(repoRoot, '.run', name);
  const users = join(dir, 'users');
  const marker = join(dir, 'started-by-tests');
  mkdirSync(users, { recursive: true });
  // One file per registration (pid.n): several global setups of one run may use the same service.
  const me = join(users, `${process.pid}.${++registrations}`);
  writeFileSync(me, '');
  const { stdout } = await run('bash', [join(repoRoot, script)], { timeout: 60_000 });
  if (!/already/.test(stdout)) writeFileSync(marker, String(process.pid));

  return async () => {
    rmSync(me, { force: true });
    const others = readdirSync(users).filter((f) => isAlive(Number(f.split('.')[0])));
    if (others.length > 0 || !existsSync(marker)) return;
    rmSync(marker, { force: true });
    await run('bash', [join(repoRoot, script), 'stop'], { timeout: 60_000 });
  };
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts PgBouncer on 6433 unless it answers; returns the teardown. */
export function usePgBouncer(): Promise<() => Promise<void>> {
  return useScriptService('pgbouncer', 'scripts/services/pgbouncer.sh');
}
