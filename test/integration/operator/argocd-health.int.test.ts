import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** JSON value → Lua table literal (what Argo CD hands the script as `obj`). */
function toLua(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'string') return JSON.stringify(v); // JSON string escapes are valid Lua for our data
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `{${v.map(toLua).join(',')}}`;
  return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `[${JSON.stringify(k)}]=${toLua(x)}`).join(',')}}`;
}

/** Runs docs/argocd/health.lua with a real Lua 5.1 interpreter, as Argo CD (gopher-lua, 5.1) does. */
function health(obj: object): { status: string; message: string } {
  const script = `obj = ${toLua(obj)}\nlocal hs = assert(loadfile("docs/argocd/health.lua"))()\nio.write(hs.status, "\\t", hs.message or "")`;
  const r = spawnSync('lua5.1', ['-'], { input: script, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const [status = '', message = ''] = r.stdout.split('\t');
  return { status, message };
}

const cond = (type: string, status: string, generation: number, message = '') => ({ type, status, reason: 'R', message, observedGeneration: generation, lastTransitionTime: '2026-01-01T00:00:00Z' });
const pipeline = (generation: number, status?: object) => ({ apiVersion: 'aisflow.io/v1alpha1', kind: 'AisPipeline', metadata: { name: 'p', namespace: 'ais', generation }, ...(status ? { status } : {}) });

describe('Argo CD health check (docs/argocd/health.lua, lua5.1)', () => {
  it.each([
    ['no status yet', pipeline(1), 'Progressing'],
    ['Ready at the current generation', pipeline(2, { observedGeneration: 2, phase: 'Ready', conditions: [cond('Ready', 'True', 2, 'all components are ready'), cond('Degraded', 'False', 2)] }), 'Healthy'],
    ['Ready, but for an older generation (spec just changed)', pipeline(3, { observedGeneration: 2, phase: 'Ready', conditions: [cond('Ready', 'True', 2)] }), 'Progressing'],
    ['rolling out', pipeline(1, { observedGeneration: 1, phase: 'Progressing', conditions: [cond('Ready', 'False', 1, 'FusionAvailable: 1/2 ready')] }), 'Progressing'],
    ['invalid spec', pipeline(4, { observedGeneration: 4, phase: 'Degraded', conditions: [cond('Ready', 'False', 4), cond('Degraded', 'True', 4, 'spec.fusion.autoscaling: minReplicas 9 > maxReplicas 3')] }), 'Degraded'],
    ['paused', pipeline(5, { observedGeneration: 5, phase: 'Paused', conditions: [cond('ReconciliationPaused', 'True', 5)] }), 'Suspended'],
  ])('%s → %s', (_name, obj, expected) => {
    expect(health(obj).status).toBe(expected);
  });

  it('passes the reason on as the message', () => {
    expect(health(pipeline(4, { observedGeneration: 4, conditions: [cond('Degraded', 'True', 4, 'spec.x: bad')] })).message).toBe('spec.x: bad');
    expect(health(pipeline(3, { observedGeneration: 2 })).message).toBe('Waiting for the operator to observe generation 3');
  });
});
