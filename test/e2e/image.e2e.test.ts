import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * No Docker engine runs here, so the image is checked by doing what scripts/image/Dockerfile
 * does: bundle (its build stage), then in an empty directory `npm ci --omit=dev` beside the
 * bundle (its runtime stage), and run the CLI from there with jemalloc preloaded. The bundle's
 * inputs must all be in the build stage's COPY lines; a runtime dependency left in
 * devDependencies fails when a subcommand loads.
 */
const repo = resolve('.');
const dockerfile = readFileSync('scripts/image/Dockerfile', 'utf8');
const [buildStage = '', runtimeStage = ''] = dockerfile.split(/^FROM /m).slice(1);
const copiedForBuild = [...buildStage.matchAll(/^COPY\s+(.+)\s+\S+$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/));
const jemalloc = `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/libjemalloc.so.2`;
const natsUrl = process.env.AISFLOW_NATS_URL ?? 'nats://127.0.0.1:4222';
// inside the repository's .run/ so nothing outside the checkout is written
let app: string;
let inputs: string[];

describe('the aisflow image (scripts/image/Dockerfile)', () => {
  beforeAll(() => {
    app = mkdtempSync(join(repo, '.run', 'image-'));
    const metafile = join(app, 'meta.json');
    const bundle = spawnSync(process.execPath, ['scripts/build/bundle.mjs', '--outdir', join(app, 'dist'), '--metafile', metafile], { encoding: 'utf8', timeout: 120_000 });
    if (bundle.status !== 0) throw new Error(`bundle failed: ${bundle.stderr}`);
    inputs = Object.keys((JSON.parse(readFileSync(metafile, 'utf8')) as { inputs: Record<string, unknown> }).inputs);
    for (const f of ['package.json', 'package-lock.json']) copyFileSync(f, join(app, f));
    const install = spawnSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: app, encoding: 'utf8', timeout: 300_000 });
    if (install.status !== 0) throw new Error(`npm ci --omit=dev failed: ${install.stderr}`);
  }, 420_000);
  afterAll(() => rmSync(app, { recursive: true, force: true }));

  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, args, { cwd: app, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODE_ENV: 'production', LD_PRELOAD: jemalloc, ...env } });

  it('is built from files the build stage copies, and runs the bundle with the production dependencies and jemalloc', () => {
    const sources = inputs.filter((f) => !f.startsWith('node_modules/'));
    expect(sources.length).toBeGreaterThan(50);
    const uncopied = sources.filter((f) => !copiedForBuild.some((c) => f === c || f.startsWith(`${c}/`)));
    expect(uncopied, `bundle inputs the Dockerfile's build stage does not COPY`).toEqual([]);
    expect(inputs.filter((f) => f.startsWith('node_modules/')), 'dependencies stay external').toEqual([]);
    expect(runtimeStage).toMatch(/^COPY --from=build \/src\/dist \.\/dist$/m);
    expect(runtimeStage).toMatch(/^RUN npm ci --omit=dev/m);
    expect(runtimeStage).toMatch(/^ENTRYPOINT \["node", "--enable-source-maps", "\/app\/dist\/aisflow\.mjs"\]$/m);
    expect(existsSync(jemalloc), `${jemalloc} (Debian libjemalloc2, installed by scripts/setup.sh)`).toBe(true);
    // the preload is really in effect in such a process
    const maps = run(['-e', 'process.stdout.write(require("fs").readFileSync("/proc/self/maps", "utf8"))']);
    expect(maps.stdout).toContain('libjemalloc.so.2');
    expect(relative(repo, app).startsWith('.run')).toBe(true);
  });

  it('every subcommand loads from the bundle (its chunk and its dependencies)', () => {
    for (const sub of ['decode', 'ingest', 'fusion', 'api', 'migrate', 'operator', 'redis-cluster']) {
      const help = run(['dist/aisflow.mjs', sub, '--help']);
      expect(help.status, `${sub}: ${help.stderr}`).toBe(0);
      expect(help.stdout).toContain(`Usage: aisflow ${sub}`);
    }
    const decode = run(['dist/aisflow.mjs', 'decode', join(repo, 'pipeline/data/ais/gpsd-sample.aivdm')]);
    expect(decode.status, decode.stderr).toBe(0);
    const first = JSON.parse(decode.stdout.split('\n')[0]!) as { type: number; mmsi: number };
    expect(first.mmsi).toBeGreaterThan(0);
  });

  it('ingests the bundled capture into JetStream through the bundled decode worker', async () => {
    const id = `IMG${process.pid}`;
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AISFLOW_')));
    const nc = await connect({ servers: natsUrl });
    const jsm = await jetstreamManager(nc);
    try {
      const ingest = spawnSync(process.execPath, ['dist/aisflow.mjs', 'ingest', '--file', join(repo, 'pipeline/data/ais/aishub-3min-sample.nmea'), '--source-id', 'image'], {
        cwd: app,
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...env, NODE_ENV: 'production', LD_PRELOAD: jemalloc, AISFLOW_NATS_URL: natsUrl, AISFLOW_NATS_STREAM: id, AISFLOW_NATS_DLQ_STREAM: `${id}_DLQ`, AISFLOW_NATS_SUBJECT_PREFIX: id.toLowerCase(), AISFLOW_PARTITIONS: '4', AISFLOW_HTTP_PORT: '0', AISFLOW_LOG_LEVEL: 'warn' },
      });
      expect(ingest.status, ingest.stderr.slice(-2000)).toBe(0);
      const info = await jsm.streams.info(id);
      expect(info.state.messages).toBeGreaterThan(0);
      expect(info.state.bytes).toBeGreaterThan(1_000_000);
    } finally {
      for (const s of [id, `${id}_DLQ`]) await jsm.streams.delete(s).catch(() => undefined);
      await nc.drain();
    }
  });
});
