import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../pipeline/src/config/load-config.js';
import { OperatorEnv } from '../../../operator/src/config.js';
import { runOperator } from '../../../operator/src/main.js';
import { FakeKubeApiServer } from '../../harness/fake-kube-apiserver.js';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * The composition root (`aisflow operator`) end to end against the fake API server: config from
 * env, kubeconfig from $KUBECONFIG, leader Lease, informers, a reconciled CR, /metrics and probes.
 */
describe('runOperator (fake API server via KUBECONFIG)', () => {
  const server = new FakeKubeApiServer();
  const dir = mkdtempSync(join(tmpdir(), 'aisflow-kc-'));
  const previous = process.env.KUBECONFIG;
  beforeAll(async () => {
    const url = await server.start();
    const kubeconfig = join(dir, 'config');
    writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${url}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`);
    process.env.KUBECONFIG = kubeconfig;
  });
  afterAll(async () => {
    if (previous === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = previous;
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes the Lease, reconciles a CR, serves metrics and probes, and hands the Lease back on stop', async () => {
    const port = await freePort();
    const config = loadConfig(OperatorEnv, {
      AISFLOW_HTTP_PORT: String(port),
      AISFLOW_LOG_LEVEL: 'silent',
      AISFLOW_OPERATOR_NAMESPACE: 'ops',
      AISFLOW_OPERATOR_IDENTITY: 'pod-1',
      AISFLOW_OPERATOR_EXTERNAL_CHECKS: 'false',
      AISFLOW_OPERATOR_RETRY_PERIOD_S: '1',
    });
    const operator = await runOperator(config);
    try {
      server.put({ apiVersion: 'aisflow.io/v1alpha1', kind: 'AisPipeline', metadata: { name: 'main', namespace: 'ais' }, spec: {} });
      for (let i = 0; i < 100 && !server.get('AisPipeline', 'ais', 'main')?.status; i++) await new Promise((r) => setTimeout(r, 50));
      expect((server.get('AisPipeline', 'ais', 'main')?.status as { observedGeneration?: number })?.observedGeneration, server.calls().slice(0, 30).join('\n')).toBe(1);
      expect(server.get('Lease', 'ops', 'aisflow-operator')?.spec).toMatchObject({ holderIdentity: 'pod-1' });
      expect(server.get('Deployment', 'ais', 'main-fusion')).toBeDefined();

      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain('aisflow_operator_is_leader 1');
      expect(metrics).toContain('process_cpu_user_seconds_total');
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    } finally {
      await operator.stop();
    }
    expect(server.get('Lease', 'ops', 'aisflow-operator')?.spec).toMatchObject({ holderIdentity: '' });
  });
});
