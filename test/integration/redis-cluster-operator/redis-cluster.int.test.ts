import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_CLUSTER_PRE_STOP } from '../../../operator/src/desired/redis.js';
import { ensureCluster, slotCoverage } from '../../../operator/src/redis-cluster/ensure.js';

/**
 * The Redis Cluster state machine (`aisflow redis-cluster ensure`) against real redis-server
 * processes on loopback ports 7201-7212 (7101-7106 belong to another test cluster). Each step
 * ends with all 16384 slots served.
 */
const PORTS = [7201, 7202, 7203, 7204, 7205, 7206, 7207, 7208];
const dir = mkdtempSync(join(tmpdir(), 'aisflow-rc-'));
const procs = new Map<number, ChildProcess>();
const addr = (p: number) => `127.0.0.1:${p}`;

async function startNode(port: number, fresh = true): Promise<void> {
  if (fresh) rmSync(join(dir, `nodes-${port}.conf`), { force: true });
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '1000', '--dir', dir, '--dbfilename', `dump-${port}.rdb`, '--save', '', '--appendonly', 'no', '--cluster-announce-hostname', '127.0.0.1', '--cluster-preferred-endpoint-type', 'ip', '--repl-diskless-sync-delay', '0'],
    { stdio: 'ignore' },
  );
  procs.set(port, child);
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: (n) => (n > 50 ? null : 100), maxRetriesPerRequest: 50 });
  r.on('error', () => undefined); // refused while the server starts
  try {
    for (let i = 0; i < 50; i++) {
      try {
        await r.connect().catch(() => undefined);
        if ((await r.ping()) === 'PONG') return;
      } catch {
        await new Promise((res) => setTimeout(res, 100));
      }
    }
    throw new Error(`redis on ${port} did not start`);
  } finally {
    r.disconnect();
  }
}

async function stopNode(port: number): Promise<void> {
  const p = procs.get(port);
  if (!p || p.exitCode !== null) return;
  const exited = new Promise((res) => p.once('exit', res));
  p.kill('SIGKILL');
  await exited;
  procs.delete(port);
}

async function clusterInfo(port: number): Promise<Record<string, string>> {
  const r = new Redis({ port, host: '127.0.0.1' });
  r.on('error', () => undefined);
  try {
    const text = (await r.call('CLUSTER', 'INFO')) as string;
    return Object.fromEntries(text.split('\r\n').filter(Boolean).map((l) => l.split(':') as [string, string]));
  } finally {
    r.disconnect();
  }
}

async function roles(ports: number[]): Promise<{ primaries: number; replicas: number }> {
  let primaries = 0;
  let replicas = 0;
  for (const port of ports) {
    if ((await roleOf(port)) === 'master') primaries++;
    else replicas++;
  }
  return { primaries, replicas };
}

/** Waits (bounded) until every replica of the primary on `port` has its whole replication stream. */
async function replicasCaughtUp(port: number): Promise<boolean> {
  const r = new Redis({ port, host: '127.0.0.1' });
  r.on('error', () => undefined);
  try {
    for (let i = 0; i < 100; i++) {
      const info = await r.info('replication');
      const primaryOffset = Number(/^master_repl_offset:(\d+)/m.exec(info)?.[1]);
      const replicaOffsets = [...info.matchAll(/^slave\d+:.*offset=(\d+)/gm)].map((m) => Number(m[1]));
      if (replicaOffsets.length > 0 && replicaOffsets.every((o) => o === primaryOffset)) return true;
      await new Promise((res) => setTimeout(res, 100));
    }
    return false;
  } finally {
    r.disconnect();
  }
}

const log = () => undefined;

describe('redis-cluster ensure (real 8 loopback redis-server processes)', () => {
  beforeAll(async () => {
    await Promise.all(PORTS.slice(0, 6).map((p) => startNode(p)));
  });
  afterAll(async () => {
    for (const port of [...procs.keys()]) await stopNode(port);
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a 3x2 cluster from six empty nodes; all 16384 slots served', async () => {
    const result = await ensureCluster({ nodes: PORTS.slice(0, 6).map(addr), replicasPerShard: 1, timeoutMs: 60_000, pollMs: 200, log });
    expect(result.summary).toBe('3 primaries, 3 replicas, 16384 slots served');
    expect((await slotCoverage(PORTS.slice(0, 6).map(addr), undefined)).covered).toBe(16384);
    expect(await roles(PORTS.slice(0, 6))).toEqual({ primaries: 3, replicas: 3 });
    // Running again changes nothing (a retried Job is harmless).
    const again = await ensureCluster({ nodes: PORTS.slice(0, 6).map(addr), replicasPerShard: 1, timeoutMs: 30_000, pollMs: 200, log });
    expect(again.executed).toEqual([]);

    const c = new Cluster([{ host: '127.0.0.1', port: 7201 }]);
    c.on('error', () => undefined);
    for (let i = 0; i < 200; i++) await c.set(`k:${i}`, String(i));
    await c.quit();
  });

  it('loses a primary, replaces it with an empty node on the same address, and recovers', async () => {
    // Find a primary and kill it (a pod and its volume lost: the replacement has a new node id).
    const victim = await firstWithRole(PORTS.slice(0, 6), 'master');
    // Replication is asynchronous: a key the primary took a moment ago may not be on its replica
    // yet, and a kill -9 then loses it by design. The claim below is about data the replica had.
    expect(await replicasCaughtUp(victim)).toBe(true);
    await stopNode(victim);
    // Redis fails the replica over by itself (cluster-node-timeout 1 s); a replacement pod
    // takes longer than that to start, so the newcomer arrives after the failover. Wait for the
    // failover itself: right after the kill the survivors still list the dead primary as serving
    // its slots, and a newcomer on its address then would be the replica's new sync source.
    const survivorPorts = PORTS.slice(0, 6).filter((p) => p !== victim);
    const survivors = survivorPorts.map(addr);
    const failedOver = async () => (await roles(survivorPorts)).primaries === 3 && (await slotCoverage(survivors, undefined)).ok;
    for (let i = 0; i < 150 && !(await failedOver()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await failedOver()).toBe(true);
    await startNode(victim, true);
    const result = await ensureCluster({ nodes: PORTS.slice(0, 6).map(addr), replicasPerShard: 1, timeoutMs: 60_000, pollMs: 200, log });
    expect(result.executed.some((s) => s.startsWith('forget'))).toBe(true);
    expect(result.executed.some((s) => s.startsWith('meet'))).toBe(true);
    expect(result.summary).toBe('3 primaries, 3 replicas, 16384 slots served');
    expect((await slotCoverage(PORTS.slice(0, 6).map(addr), undefined)).ok).toBe(true);
    expect(await roles(PORTS.slice(0, 6))).toEqual({ primaries: 3, replicas: 3 });
    // The failed-over data survived (it lived on the replica).
    const c = new Cluster([{ host: '127.0.0.1', port: PORTS.find((p) => p !== victim)! }]);
    c.on('error', () => undefined);
    expect(await c.get('k:7')).toBe('7');
    await c.quit();
  });

  it('adds a shard (two more nodes): four primaries, slots rebalanced with their keys', async () => {
    await Promise.all(PORTS.slice(6, 8).map((p) => startNode(p)));
    const result = await ensureCluster({ nodes: PORTS.map(addr), replicasPerShard: 1, timeoutMs: 90_000, pollMs: 200, log });
    expect(result.summary).toBe('4 primaries, 4 replicas, 16384 slots served');
    expect(result.executed.some((s) => s.startsWith('migrate'))).toBe(true);
    expect((await slotCoverage(PORTS.map(addr), undefined)).covered).toBe(16384);
    expect((await clusterInfo(7201)).cluster_state).toBe('ok');
    const c = new Cluster([{ host: '127.0.0.1', port: 7201 }]);
    c.on('error', () => undefined);
    const values = await Promise.all(Array.from({ length: 200 }, (_, i) => c.get(`k:${i}`)));
    await c.quit();
    expect(values).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
  });

  it('removes a shard (scale-in): the leaving members are drained, forgotten and reset; no key is lost', async () => {
    const remaining = PORTS.slice(0, 6).map(addr);
    const leaving = PORTS.slice(6).map(addr);
    const result = await ensureCluster({ nodes: remaining, leaving, replicasPerShard: 1, timeoutMs: 90_000, pollMs: 200, log });
    expect(result.summary).toBe('3 primaries, 3 replicas, 16384 slots served');
    expect(result.executed.filter((s) => s.startsWith('reset'))).toHaveLength(2);
    expect((await slotCoverage(remaining, undefined)).covered).toBe(16384);
    expect(await roles(PORTS.slice(0, 6))).toEqual({ primaries: 3, replicas: 3 });
    for (const port of PORTS.slice(0, 6)) {
      const r = new Redis({ port, host: '127.0.0.1' });
      r.on('error', () => undefined);
      const nodes = (await r.call('CLUSTER', 'NODES')) as string;
      r.disconnect();
      expect(nodes.trim().split('\n'), `CLUSTER NODES on ${port}`).toHaveLength(6);
    }
    for (const port of PORTS.slice(6)) {
      const r = new Redis({ port, host: '127.0.0.1' });
      r.on('error', () => undefined);
      const nodes = (await r.call('CLUSTER', 'NODES')) as string;
      const keys = await r.dbsize();
      r.disconnect();
      expect(nodes.trim().split('\n'), `the reset member ${port} knows only itself`).toHaveLength(1);
      expect(keys).toBe(0);
    }
    // The pods can go now: the cluster stays whole without them, and every key is still there.
    for (const port of PORTS.slice(6)) await stopNode(port);
    const c = new Cluster([{ host: '127.0.0.1', port: 7201 }]);
    c.on('error', () => undefined);
    const values = await Promise.all(Array.from({ length: 200 }, (_, i) => c.get(`k:${i}`)));
    await c.quit();
    expect(values).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
    expect((await clusterInfo(7201)).cluster_state).toBe('ok');
    // Ensuring again with the remaining members only changes nothing.
    const again = await ensureCluster({ nodes: remaining, replicasPerShard: 1, timeoutMs: 30_000, pollMs: 200, log });
    expect(again.executed).toEqual([]);
  });

  it("a stopping primary's preStop hook hands its slots to its replica first; a replica's hook does nothing", async () => {
    const primary = await firstWithRole(PORTS.slice(0, 6), 'master');
    const replica = await firstWithRole(PORTS.slice(0, 6), 'slave');
    const hook = (port: number) =>
      spawnSync('sh', ['-c', REDIS_CLUSTER_PRE_STOP], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, REDIS_PORT: String(port), REDIS_PASSWORD: '' } });

    expect(hook(replica).status).toBe(0);
    expect(await roleOf(replica)).toBe('slave');

    const started = Date.now();
    const run = hook(primary);
    expect(run.status, run.stderr).toBe(0);
    // the hook returned once the node was a replica: the pod may stop, its slots are served elsewhere
    expect(await roleOf(primary)).toBe('slave');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await roles(PORTS.slice(0, 6))).toEqual({ primaries: 3, replicas: 3 });
    expect((await slotCoverage(PORTS.slice(0, 6).map(addr), undefined)).covered).toBe(16384);
    await stopNode(primary);
    const c = new Cluster([{ host: '127.0.0.1', port: PORTS.find((p) => p !== primary)! }]);
    c.on('error', () => undefined);
    const values = await Promise.all(Array.from({ length: 200 }, (_, i) => c.get(`k:${i}`)));
    await c.quit();
    expect(values).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
  });
});

async function roleOf(port: number): Promise<string> {
  const r = new Redis({ port, host: '127.0.0.1' });
  r.on('error', () => undefined);
  try {
    return ((await r.call('ROLE')) as [string])[0];
  } finally {
    r.disconnect();
  }
}

async function firstWithRole(ports: number[], role: 'master' | 'slave'): Promise<number> {
  for (const port of ports) if ((await roleOf(port)) === role) return port;
  throw new Error(`no ${role} among ${ports.join(', ')}`);
}
