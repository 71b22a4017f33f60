import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ALERTS, buildRuleGroups } from './index.js';
import { grafanaProvisioning, prometheusRuleObject, renderAlertFiles } from './src/render.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const testFiles = readdirSync(join(root, 'alerts/tests'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => join(root, 'alerts/tests', f));

// Prometheus durations as rules accept them (one unit is all we use).
const durationSeconds = (d: string): number => {
  const m = /^(\d+)([smh])$/.exec(d);
  if (!m) throw new Error(`not a simple duration: ${d}`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
};

describe('alert rule table', () => {
  it('has every alert the issue asks for', () => {
    const names = ALERTS.map((a) => a.alert);
    for (const required of [
      'AisflowIngestSourceStalled',
      'AisflowNoMessagesIntoJetStream',
      'AisflowConsumerLagGrowing',
      'AisflowEndToEndLatencyHigh',
      'AisflowDlqGrowing',
      'AisflowStoreBreakerOpen',
      'AisflowSourceBreakerOpen',
      'AisflowSourceDemoted',
      'AisflowRedisWriteErrors',
      'AisflowPostgresWriteErrors',
      'AisflowFusionPartitionsUnowned',
      'AisflowOperatorReconcileErrors',
      'AisflowPipelineNotReady',
      'AisflowPodRestarting',
    ]) {
      expect(names).toContain(required);
    }
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(ALERTS.map((a) => [a.alert, a] as const))('%s has severity, a deliberate for:, text with values and a runbook', (_name, a) => {
    expect(['critical', 'warning']).toContain(a.severity);
    expect(durationSeconds(a.for)).toBeGreaterThan(0);
    expect(a.why.length).toBeGreaterThan(20);
    expect(a.summary.trim()).not.toBe('');
    // the description carries the value or the labels that locate the problem
    expect(a.description).toMatch(/\{\{ \$(value|labels\.)/);
    const runbook = join(root, 'docs/runbooks', `${a.alert}.md`);
    expect(existsSync(runbook), `docs/runbooks/${a.alert}.md`).toBe(true);
    const text = readFileSync(runbook, 'utf8');
    expect(text).toMatch(new RegExp(`^# ${a.alert}\\n`));
    expect(text).toContain('## What to check');
    expect(text).toContain('## What to do');
    expect(readFileSync(join(root, 'docs/observability.md'), 'utf8')).toContain(`[${a.alert}](runbooks/${a.alert}.md)`);
  });
});

describe('generated rule files', () => {
  it.each(Object.entries(renderAlertFiles()))('%s is up to date (npm run gen:alerts)', (path, content) => {
    expect(readFileSync(join(root, path), 'utf8')).toBe(content);
  });

  it('builds one rule per alert with the runbook link', () => {
    const rules = buildRuleGroups().flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(ALERTS.map((a) => a.alert));
    for (const r of rules) expect(r.annotations.runbook_url).toMatch(new RegExp(`/docs/runbooks/${r.alert}\\.md$`));
  });

  it('the PrometheusRule validates against the prometheus-operator schema', () => {
    const rule = new PrometheusRule(prometheusRuleObject({ namespace: 'monitoring' }) as never);
    expect(() => rule.validate()).not.toThrow();
  });

  it('a PrometheusRule with a broken rule is rejected by that schema', () => {
    const obj = prometheusRuleObject() as { spec: { groups: { rules: Record<string, unknown>[] }[] } };
    delete obj.spec.groups[0]!.rules[0]!.expr;
    expect(() => new PrometheusRule(obj as never).validate()).toThrow();
  });

  it('the Grafana provisioning has one rule per alert, unique uids, and a condition that names a query', () => {
    const prov = grafanaProvisioning() as { apiVersion: number; groups: { name: string; rules: Record<string, unknown>[] }[] };
    expect(prov.apiVersion).toBe(1);
    const rules = prov.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.title)).toEqual(ALERTS.map((a) => a.alert));
    const uids = rules.map((r) => r.uid as string);
    expect(new Set(uids).size).toBe(uids.length);
    for (const r of rules) {
      expect(r.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
      const refIds = (r.data as { refId: string }[]).map((d) => d.refId);
      expect(refIds).toContain(r.condition);
      // no `$` in queries: Grafana interpolates environment variables there
      expect(JSON.stringify(r.data)).not.toContain('$');
      expect(JSON.stringify(r.annotations)).not.toMatch(/\$value\b(?!s)/);
    }
  });
});

describe('promtool', () => {
  it('check rules accepts the rule file', () => {
    const out = execFileSync('promtool', ['check', 'rules', join(root, 'alerts/rules.yaml')], { encoding: 'utf8' });
    expect(out).toContain(`SUCCESS: ${ALERTS.length} rules found`);
  });

  it('test rules passes every unit test', () => {
    // throws (non-zero exit, with promtool's diff in the message) when any test fails
    const out = execFileSync('promtool', ['test', 'rules', ...testFiles], { encoding: 'utf8' });
    expect(out).not.toContain('FAILED');
    expect(out.match(/SUCCESS/g)?.length).toBe(testFiles.length);
  });

  it('every alert has a test where it fires and one where it must not', () => {
    const fires = new Set<string>();
    const silent = new Set<string>();
    for (const file of testFiles) {
      const doc = parse(readFileSync(file, 'utf8')) as { tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[] };
      for (const t of doc.tests) {
        for (const a of t.alert_rule_test ?? []) {
          if ((a.exp_alerts ?? []).length > 0) fires.add(a.alertname);
          else silent.add(a.alertname);
        }
      }
    }
    for (const a of ALERTS) {
      expect(fires, `${a.alert} never fires in alerts/tests`).toContain(a.alert);
      expect(silent, `${a.alert} is never shown silent in alerts/tests`).toContain(a.alert);
    }
  });
});
