import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * No Docker engine runs here, so the image is checked by doing what scripts/image/Dockerfile
 * does, in an empty directory: copy exactly its COPY sources, `npm ci --omit=dev`, then run the
 * CLI with jemalloc preloaded as the image does. A source file the image lacks, or a runtime
 * dependency left in devDependencies, fails here rather than in a user's cluster.
 */
const dockerfile = readFileSync('scripts/image/Dockerfile', 'utf8');
const copied = [...dockerfile.matchAll(/^COPY\s+(.+)\s+\S+$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/));
const jemalloc = `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/libjemalloc.so.2`;
let app: string;

describe('the aisflow image contents (scripts/image/Dockerfile)', () => {
  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), 'aisflow-image-'));
    for (const source of copied) cpSync(source, join(app, source), { recursive: true });
    const install = spawnSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: app, encoding: 'utf8', timeout: 300_000 });
    if (install.status !== 0) throw new Error(`npm ci --omit=dev failed: ${install.stderr}`);
  }, 320_000);
  afterAll(() => rmSync(app, { recursive: true, force: true }));

  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, args, { cwd: app, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODE_ENV: 'production', LD_PRELOAD: jemalloc, ...env } });

  it('copies the sources every process needs, and no test harness', () => {
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'bin', 'pipeline', 'operator', 'alerts', 'grafana']));
    expect(copied).not.toContain('test');
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "\/app\/bin\/aisflow\.mjs"\]$/m);
    expect(existsSync(jemalloc), `${jemalloc} (Debian libjemalloc2, installed by scripts/setup.sh)`).toBe(true);
  });

  it('every module of every process loads with the production dependencies only', () => {
    // All non-test modules of the processes, the operator and the generators it imports; the
    // entry points that run when loaded (the CLI, the decode worker) are covered by the next test.
    const runsWhenLoaded = new Set(['pipeline/src/bin/cli.ts', 'pipeline/src/ingest/decode-worker.ts']);
    const modules = spawnSync('git', ['ls-files', 'pipeline/src/**/*.ts', 'operator/src/**/*.ts', 'alerts/**/*.ts', 'grafana/**/*.ts'], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((f) => f && !f.endsWith('.test.ts') && !f.includes('test-') && !f.endsWith('/generate.ts') && !runsWhenLoaded.has(f));
    expect(modules.length).toBeGreaterThan(50);
    const load = run(['--import', 'tsx', '-e', `for (const m of ${JSON.stringify(modules)}) await import('./' + m);`], {});
    expect(load.status, load.stderr).toBe(0);
  });

  it('runs the CLI with jemalloc preloaded: help, and a decode of a bundled capture', () => {
    const help = run(['bin/aisflow.mjs', '--help']);
    expect(help.status, help.stderr).toBe(0);
    for (const name of ['decode', 'ingest', 'fusion', 'api', 'migrate', 'operator', 'redis-cluster']) expect(help.stdout).toContain(name);
    const decode = run(['bin/aisflow.mjs', 'decode', 'pipeline/data/ais/gpsd-sample.aivdm']);
    expect(decode.status, decode.stderr).toBe(0);
    const first = JSON.parse(decode.stdout.split('\n')[0]!) as { type: number; mmsi: number };
    expect(first.type).toBeGreaterThan(0);
    expect(first.mmsi).toBeGreaterThan(0);
    // the preload is really in effect in that process
    const maps = run(['-e', 'process.stdout.write(require("fs").readFileSync("/proc/self/maps", "utf8"))']);
    expect(maps.stdout).toContain('libjemalloc.so.2');
  });
});
