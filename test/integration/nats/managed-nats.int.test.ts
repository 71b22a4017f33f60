import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { toPipeline } from '../../../operator/src/desired/index.js';
import { natsConfig, NATS_PID_DIR } from '../../../operator/src/desired/nats.js';
import { freePort } from '../../harness/fusion-services.js';
import { exampleCr, managedPodSpec } from '../../harness/managed-pods.js';

/**
 * The operator's managed NATS, checked with the real nats-server binary: its nats.conf parses,
 * and the StatefulSet's stop (the preStop hook, then the SIGTERM kubelet sends after it) is the
 * lame duck stop the config promises, not an immediate exit.
 */
const dir = mkdtempSync(join(tmpdir(), 'aisflow-managed-nats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('managed NATS with the real nats-server', () => {
  it.each(['minimal', 'production'])('the %s example renders a nats.conf nats-server accepts', (name) => {
    const file = join(dir, `${name}.conf`);
    writeFileSync(file, natsConfig(toPipeline(exampleCr(name))));
    const check = spawnSync('nats-server', ['-t', '-c', file], { encoding: 'utf8', env: { ...process.env, POD_NAME: `${name}-nats-0` } });
    expect(check.stderr + check.stdout).toContain('is valid');
    expect(check.status).toBe(0);
  });

  it('stops in lame duck mode: the preStop hook, then SIGTERM; clients are closed a few at a time before the server exits, within the grace period', { timeout: 90_000 }, async () => {
    const cr = exampleCr('minimal');
    const pod = managedPodSpec(cr, 'nats');
    const [port, monitor] = [await freePort(), await freePort()];
    // the rendered config on loopback ports, with the pod's paths in the test's directory
    const conf = natsConfig(toPipeline(cr))
      .replace(/^port: \d+$/m, `port: ${port}`)
      .replace(/^http_port: \d+$/m, `http_port: ${monitor}`)
      .replaceAll(NATS_PID_DIR, dir)
      .replace('store_dir: /data', `store_dir: ${join(dir, 'data')}`);
    const file = join(dir, 'loopback.conf');
    writeFileSync(file, conf);
    const server = spawn('nats-server', ['-c', file], { stdio: 'ignore', env: { ...process.env, POD_NAME: 'minimal-nats-0' } });
    const exited = new Promise<number>((resolve) => server.once('exit', () => resolve(Date.now())));
    try {
      let clients: NatsConnection[] = [];
      for (let attempt = 0; clients.length === 0; attempt++) {
        try {
          clients = await Promise.all(Array.from({ length: 4 }, () => connect({ servers: `nats://127.0.0.1:${port}`, reconnect: false })));
        } catch (err) {
          if (attempt > 50) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const closedAt = clients.map((nc) => nc.closed().then(() => Date.now()));

      // what kubelet does: run the hook to its end, then send SIGTERM
      const [hook, ...args] = pod.containers[0]!.lifecycle.preStop.exec.command.map((a) => a.replaceAll(NATS_PID_DIR, dir));
      const signalled = spawnSync(hook!, args, { encoding: 'utf8' });
      expect(signalled.status, signalled.stderr).toBe(0);
      const termAt = Date.now();
      server.kill('SIGTERM');

      const closes = await Promise.all(closedAt);
      const exitAt = await exited;
      // SIGTERM did not cut the lame duck stop short: the clients were closed by the server after
      // the grace period (10 s), and the server exited after its last client, well inside the pod's grace
      expect(Math.min(...closes) - termAt).toBeGreaterThan(8_000);
      expect(exitAt).toBeGreaterThanOrEqual(Math.max(...closes) - 50);
      expect((exitAt - termAt) / 1000).toBeLessThan(pod.terminationGracePeriodSeconds);
    } finally {
      server.kill('SIGKILL');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    }
  });
});
