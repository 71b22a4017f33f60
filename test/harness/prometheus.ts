import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { freePort, portAnswers } from '../../pipeline/src/bin/demo.js';
import { repoRoot } from './pipeline.js';

const run = promisify(execFile);

/** One scrape target with the static labels a ServiceMonitor would give it. */
export interface ScrapeTarget {
  job: string;
  address: string;
  labels?: Record<string, string>;
  /** keep the metric's own labels on a clash (the operator's per-AisPipeline `namespace`) */
  honorLabels?: boolean;
}

export interface PromResponse<T = unknown> {
  status: 'success' | 'error';
  data?: T;
  errorType?: string;
  error?: string;
}

export interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface RunningPrometheus {
  url: string;
  pid: number;
  /** instant query; never throws on a PromQL error: look at `status`/`error` */
  query(expr: string): Promise<PromResponse<{ resultType: string; result: VectorSample[] }>>;
  /** values of `label` on series matching `match` (what a Grafana `label_values()` variable shows) */
  labelValues(label: string, match: string): Promise<string[]>;
  /** metric names Prometheus holds */
  metricNames(): Promise<string[]>;
  rules(): Promise<PromResponse<{ groups: { name: string; rules: { name: string; health: string; lastError?: string; type: string }[] }[] }>>;
  targets(): Promise<{ scrapeUrl: string; health: string; lastError: string; labels: Record<string, string> }[]>;
  stop(): Promise<void>;
}

/**
 * Starts the real Prometheus (scripts/services/prometheus.sh) on 127.0.0.1:9390, or on a free
 * port when 9390 is taken (another run), scraping `targets` every `scrapeIntervalS` and
 * evaluating `ruleFiles`. Stopped by PID; its temp config and data are removed.
 */
export async function startPrometheus(options: { targets: ScrapeTarget[]; ruleFiles?: string[]; scrapeIntervalS?: number }): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'aisflow-prometheus-'));
  const interval = `${options.scrapeIntervalS ?? 1}s`;
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    rule_files: options.ruleFiles ?? [],
    scrape_configs: options.targets.map((t) => ({
      job_name: t.job,
      honor_labels: t.honorLabels ?? false,
      static_configs: [{ targets: [t.address], labels: t.labels ?? {} }],
    })),
  };
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, stringify(config));
  const data = join(dir, 'data');
  const port = (await portAnswers(9390)) ? await freePort() : 9390;
  const script = join(repoRoot, 'scripts/services/prometheus.sh');
  const { stdout } = await run('bash', [script, 'start', '--config', configFile, '--data', data, '--port', String(port)], { timeout: 60_000 });
  const pid = Number(stdout.trim().split('\n').pop());
  const url = `http://127.0.0.1:${port}`;

  const api = async <T>(path: string): Promise<PromResponse<T>> => (await (await fetch(`${url}${path}`)).json()) as PromResponse<T>;
  return {
    url,
    pid,
    query: (expr) => api(`/api/v1/query?query=${encodeURIComponent(expr)}`),
    async labelValues(label, match) {
      const r = await api<string[]>(`/api/v1/label/${encodeURIComponent(label)}/values?match[]=${encodeURIComponent(match)}`);
      return r.data ?? [];
    },
    async metricNames() {
      return (await api<string[]>('/api/v1/label/__name__/values')).data ?? [];
    },
    rules: () => api('/api/v1/rules'),
    async targets() {
      const r = await api<{ activeTargets: { scrapeUrl: string; health: string; lastError: string; labels: Record<string, string> }[] }>('/api/v1/targets');
      return r.data?.activeTargets ?? [];
    },
    async stop() {
      await run('bash', [script, 'stop', '--data', data], { timeout: 60_000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `probe` until it returns a value (not null), at most `timeoutMs`; bounded in count too. */
export async function pollUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  // A probe that throws fails the wait at once (a dead process); null means "not yet".
  for (let i = 0; i < Math.ceil(timeoutMs / everyMs) + 1; i++) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}
