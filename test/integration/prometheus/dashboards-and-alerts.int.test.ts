import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ALERTS } from '../../../alerts/index.js';
import { buildDashboards } from '../../../grafana/index.js';
import { POSTGRES_PLUGIN } from '../../../grafana/src/panels.js';
import { metricNames, panelQueries, substitute, substituteSql } from '../../../grafana/src/queries.js';
import { baseEnv, cleanData, freePort, localPipelineEnv, spawnAisflow, tail, type ManagedChild } from '../../../pipeline/src/bin/demo.js';
import { DEFAULT_POSTGRES_SCHEMA } from '../../../pipeline/src/store/index.js';
import { migrate } from '../../../pipeline/src/store/postgres/migrate.js';
import { FakeKubeApiServer } from '../../harness/fake-kube-apiserver.js';
import { usePgBouncer, useScriptService } from '../../harness/pgbouncer.js';
import { repoRoot } from '../../harness/pipeline.js';
import { pollUntil, startPrometheus, type RunningPrometheus, type ScrapeTarget } from '../../harness/prometheus.js';

/**
 * Every dashboard panel query and every alert expression, evaluated by the real Prometheus
 * (Debian package) scraping a running pipeline: ingest replaying a real capture in a loop,
 * fusion, the API, the operator (against a loopback fake kube-apiserver holding one
 * AisPipeline) and the Redis/Postgres/PgBouncer exporters. A panel query that returns no
 * series is a panel that shows "No data": a failure here.
 */
const id = randomBytes(4).toString('hex');
const NAMESPACE = 'aisflow-prom';
const PIPELINE = `prom-${id}`;
const capture = join(repoRoot, 'pipeline/data/ais/aishub-3min-sample.nmea');
const logDir = join(repoRoot, '.run', 'test-prometheus', id);
const names = { stream: `T_PROM_${id}`, dlqStream: `T_PROM_${id}_DLQ`, prefix: `t_prom_${id}` };
const keyPrefix = `t:prom:${id}`;
const database = `t_prom_${id}`;
// What Grafana would put in for the variables, given the targets' static labels.
const VALUES = { namespace: NAMESPACE, pipeline: PIPELINE, source: '.*', datasource: 'prometheus', postgres: 'postgres' };
const DURATIONS = { rateInterval: '15s', range: '2m' };

const children: ManagedChild[] = [];
const teardown: Array<() => Promise<unknown>> = [];
let prom: RunningPrometheus;
const declaredNames = new Set<string>();

async function startPipelineProcesses(): Promise<Record<'ingest' | 'fusion' | 'api' | 'operator', number>> {
  mkdirSync(logDir, { recursive: true });
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${database}"`);
  await admin.end();
  teardown.push(() => cleanData(names, keyPrefix, database));

  // The store's migrations (what `aisflow migrate` applies), straight to Postgres.
  await migrate({ url: `postgres://postgres@127.0.0.1:5432/${database}`, schema: DEFAULT_POSTGRES_SCHEMA });

  const ports = { ingest: await freePort(), fusion: await freePort(), api: await freePort(), operator: await freePort() };
  const { common, stores } = localPipelineEnv({ names, partitions: 8, keyPrefix, database, logLevel: 'warn' });
  // Two sources, as a deployment has: the capture replayed in a loop (paced, so ingest keeps
  // running and keeps its metrics up for every scrape) and a TCP receiver feed served from
  // loopback (which gives the connection, breaker and reconnect metrics their series).
  const feedPort = await startTcpFeed();
  const sourcesFile = join(logDir, 'sources.json');
  writeFileSync(
    sourcesFile,
    JSON.stringify({
      sources: [
        { id: 'capture', kind: 'file', address: capture, pace: 'rate', linesPerSecond: 300, loop: true },
        { id: 'harbour-rx', kind: 'tcp', address: `127.0.0.1:${feedPort}` },
      ],
    }),
  );
  children.push(spawnAisflow('ingest', ['ingest'], { ...common, AISFLOW_INGEST_SOURCES_FILE: sourcesFile, AISFLOW_HTTP_PORT: String(ports.ingest) }, join(logDir, 'ingest.log')));
  await pollUntil('JetStream stream created by ingest', 60_000, async () => {
    const nc = await connect({ servers: '127.0.0.1:4222' });
    try {
      await (await jetstreamManager(nc)).streams.info(names.stream);
      return true;
    } catch {
      if (children[0]!.process.exitCode !== null) throw new Error(`ingest exited:\n${tail(children[0]!.logFile)}`);
      return null;
    } finally {
      await nc.close();
    }
  });
  children.push(spawnAisflow('fusion', ['fusion'], { ...common, ...stores, AISFLOW_HTTP_PORT: String(ports.fusion), AISFLOW_MEMBER_ID: `prom-${id}`, AISFLOW_FUSION_SOURCES_INTERVAL_MS: '1000' }, join(logDir, 'fusion.log')));
  children.push(
    spawnAisflow('api', ['api'], { ...common, ...stores, AISFLOW_HTTP_PORT: String(ports.api), AISFLOW_HTTP_HOST: '127.0.0.1', AISFLOW_ADMIN_TOKEN: randomBytes(12).toString('hex') }, join(logDir, 'api.log')),
  );

  // The operator, with one AisPipeline to reconcile, against the loopback fake API server.
  const kube = new FakeKubeApiServer();
  const kubeUrl = await kube.start();
  teardown.push(() => kube.stop());
  const example = parseYaml(readFileSync(join(repoRoot, 'crds/examples/minimal.yaml'), 'utf8')) as Record<string, unknown> & { metadata: Record<string, unknown> };
  kube.put({ ...example, metadata: { ...example.metadata, namespace: NAMESPACE, name: PIPELINE } });
  const kubeconfig = join(logDir, 'kubeconfig.yaml');
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster: { server: kubeUrl, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'fake', user: { token: 'test' } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake' } }],
      'current-context': 'fake',
    }),
  );
  children.push(
    spawnAisflow(
      'operator',
      ['operator'],
      { ...baseEnv(process.env), KUBECONFIG: kubeconfig, AISFLOW_HTTP_PORT: String(ports.operator), AISFLOW_OPERATOR_EXTERNAL_CHECKS: 'false', AISFLOW_LOG_LEVEL: 'warn' },
      join(logDir, 'operator.log'),
    ),
  );
  return ports;
}

/**
 * A receiver's TCP feed on loopback: lines of a real tag-block capture, 20 every 200 ms, looped,
 * with every 25th line's checksum corrupted the way a noisy radio link does (so rejects have
 * series, with the decoder's real reason). Closed with the test.
 */
async function startTcpFeed(): Promise<number> {
  const lines = readFileSync(join(repoRoot, 'pipeline/data/ais/kystverket-tagblock.nmea'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => (i % 25 === 24 ? l.replace(/\*([0-9A-F]{2})\s*$/i, (_m, sum: string) => `*${sum === '00' ? '01' : '00'}`) : l));
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    let next = 0;
    const timer = setInterval(() => {
      const chunk: string[] = [];
      for (let i = 0; i < 20; i++) chunk.push(lines[next++ % lines.length]!);
      socket.write(`${chunk.join('\r\n')}\r\n`);
    }, 200);
    socket.on('close', () => {
      clearInterval(timer);
      sockets.delete(socket);
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  teardown.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

/** `# TYPE` names each process declares (a labelled counter never incremented has no sample). */
async function declaredMetricNames(urls: string[]): Promise<void> {
  for (const url of urls) {
    const text = await (await fetch(url)).text();
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      declaredNames.add(m[1]!);
      if (m[2] === 'histogram') for (const s of ['_bucket', '_count', '_sum']) declaredNames.add(`${m[1]}${s}`);
    }
  }
}

beforeAll(async () => {
  try {
    teardown.push(await usePgBouncer());
    teardown.push(await useScriptService('exporters', 'scripts/services/exporters.sh'));
    const ports = await startPipelineProcesses();
    const pipelineLabels = (pod: string) => ({ namespace: NAMESPACE, pipeline: PIPELINE, pod });
    const targets: ScrapeTarget[] = [
      { job: 'ingest', address: `127.0.0.1:${ports.ingest}`, labels: pipelineLabels('ingest-0') },
      { job: 'fusion', address: `127.0.0.1:${ports.fusion}`, labels: pipelineLabels('fusion-0') },
      { job: 'api', address: `127.0.0.1:${ports.api}`, labels: pipelineLabels('api-0') },
      { job: 'redis-exporter', address: '127.0.0.1:9391', labels: pipelineLabels('redis-0') },
      { job: 'postgres-exporter', address: '127.0.0.1:9392', labels: pipelineLabels('postgres-0') },
      { job: 'pgbouncer-exporter', address: '127.0.0.1:9393', labels: pipelineLabels('pgbouncer-0') },
      // The operator runs once per cluster: no pipeline labels of its own, and its condition
      // metric's namespace/pipeline labels must survive (honor_labels).
      { job: 'operator', address: `127.0.0.1:${ports.operator}`, labels: { pod: 'operator-0' }, honorLabels: true },
    ];
    prom = await startPrometheus({ targets, ruleFiles: [join(repoRoot, 'alerts/rules.yaml')] });
    teardown.push(() => prom.stop());

    const firstScrape = Date.now();
    // Generous: on a loaded 2-core machine a process can take a minute to compile and connect.
    await pollUntil('every target up', 180_000, async () => {
      const ts = await prom.targets();
      const down = ts.filter((t) => t.health !== 'up');
      for (const c of children) if (c.process.exitCode !== null) throw new Error(`${c.name} exited (${c.process.exitCode}):\n${tail(c.logFile)}`);
      return ts.length === targets.length && down.length === 0 ? true : null;
    });
    await pollUntil('fusion accepting records', 90_000, async () => {
      const r = await prom.query(`sum(aisflow_fusion_records_total{pipeline="${PIPELINE}", outcome="accepted"}) > 0`);
      return (r.data?.result.length ?? 0) > 0 ? true : null;
    });
    await pollUntil('operator reporting the AisPipeline conditions', 60_000, async () => {
      const r = await prom.query(`aisflow_operator_pipeline_condition{pipeline="${PIPELINE}"}`);
      return (r.data?.result.length ?? 0) > 0 ? true : null;
    });
    // Rates need a few samples inside the rate window once data flows.
    const settle = Math.max(0, 20_000 - (Date.now() - firstScrape));
    await new Promise((r) => setTimeout(r, settle));
    await declaredMetricNames(targets.map((t) => `http://${t.address}/metrics`));
  } catch (err) {
    for (const c of children) console.error(`--- ${c.name} log:\n${tail(c.logFile, 30)}`);
    throw err;
  }
}, 420_000);

afterAll(async () => {
  for (const c of [...children].reverse()) await c.stop(20_000);
  for (const fn of teardown.reverse()) await fn().catch((err: unknown) => console.error(`teardown: ${String(err)}`));
}, 120_000);

describe('dashboard variables', () => {
  it('namespace and pipeline pickers list the scraped pipeline', async () => {
    expect(await prom.labelValues('namespace', 'up{pipeline!=""}')).toContain(NAMESPACE);
    expect(await prom.labelValues('pipeline', `up{namespace="${NAMESPACE}", pipeline!=""}`)).toContain(PIPELINE);
    expect(await prom.labelValues('source', `aisflow_ingest_lines_total{namespace="${NAMESPACE}", pipeline="${PIPELINE}"}`)).toEqual(['capture', 'harbour-rx']);
  });

  it('the operator dashboard pickers list the AisPipeline', async () => {
    expect(await prom.labelValues('namespace', 'aisflow_operator_pipeline_condition')).toContain(NAMESPACE);
    expect(await prom.labelValues('pipeline', `aisflow_operator_pipeline_condition{namespace="${NAMESPACE}"}`)).toContain(PIPELINE);
  });
});

const promQueries = panelQueries(buildDashboards()).filter((q) => q.datasource === 'prometheus');

describe('panel queries', () => {
  it.each(promQueries.map((q) => [`${q.dashboard} / ${q.panel} / ${q.refId}`, q] as const))('%s returns data', { timeout: 60_000 }, async (_name, q) => {
    const expr = substitute(q.query, VALUES, DURATIONS);
    // Some gauges are refreshed on an interval (pending messages, trust scores): give a series
    // a bounded while to appear; a PromQL error fails at once.
    let r = await prom.query(expr);
    for (let i = 0; i < 30 && r.status === 'success' && r.data!.result.length === 0; i++) {
      await new Promise((done) => setTimeout(done, 1000));
      r = await prom.query(expr);
    }
    expect(r.error, expr).toBeUndefined();
    expect(r.status).toBe('success');
    expect(r.data!.result.length, `no series for ${expr}`).toBeGreaterThan(0);
  });

  it('every metric a panel reads exists in Prometheus or is declared by a scraped process', async () => {
    // `or vector(0)` keeps a never-incremented counter's panel at zero; this keeps a renamed
    // or misspelt metric from hiding behind it.
    const known = new Set([...(await prom.metricNames()), ...declaredNames]);
    const missing = [...new Set(promQueries.flatMap((q) => metricNames(substitute(q.query, VALUES, DURATIONS))))].filter((n) => !known.has(n));
    expect(missing).toEqual([]);
  });
});

describe('alert expressions', () => {
  it.each(ALERTS.map((a) => [a.alert, a] as const))('%s evaluates without error', async (_name, a) => {
    const r = await prom.query(a.expr);
    expect(r.error).toBeUndefined();
    expect(r.status).toBe('success');
    const known = new Set([...(await prom.metricNames()), ...declaredNames]);
    for (const n of metricNames(a.expr)) expect(known.has(n), `${a.alert} reads unknown metric ${n}`).toBe(true);
  });

  it('Prometheus loaded every rule and evaluates it healthily', async () => {
    const rules = await pollUntil('rules evaluated', 30_000, async () => {
      const all = ((await prom.rules()).data?.groups ?? []).flatMap((g) => g.rules);
      return all.length === ALERTS.length && all.every((r) => r.health !== 'unknown') ? all : null;
    });
    expect(rules.map((r) => r.name).sort()).toEqual(ALERTS.map((a) => a.alert).sort());
    for (const r of rules) expect(r.health, `${r.name}: ${r.lastError ?? ''}`).toBe('ok');
  });
});

describe('map panel', () => {
  it('the Geomap SQL returns live vessels with coordinates from the pipeline database', async () => {
    const sql = panelQueries(buildDashboards()).filter((q) => q.datasource === POSTGRES_PLUGIN);
    expect(sql).toHaveLength(1);
    // through PgBouncer, as a Grafana datasource in the cluster would reach it
    const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:6433/${database}` });
    await client.connect();
    try {
      const rows = await pollUntil('vessels with a fix in Postgres', 60_000, async () => {
        const r = await client.query<{ mmsi: number; lat: number; lon: number }>(substituteSql(sql[0]!.query, { interval: '1 hour' }));
        return r.rows.length > 0 ? r.rows : null;
      });
      for (const row of rows) {
        expect(Number.isInteger(row.mmsi)).toBe(true);
        expect(Math.abs(row.lat)).toBeLessThanOrEqual(90);
        expect(Math.abs(row.lon)).toBeLessThanOrEqual(180);
      }
    } finally {
      await client.end();
    }
  });
});
