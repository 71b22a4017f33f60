import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionOf } from '../../../pipeline/src/shared/partition.js';
import { migrate } from '../../../pipeline/src/store/postgres/migrate.js';
import { createRedisClient } from '../../../pipeline/src/store/redis/connection.js';
import { detectDocMode, RedisLiveStateStore } from '../../../pipeline/src/store/redis/live-state.js';
import { freePort } from '../../harness/fusion-services.js';
import { POSTGRES_DIRECT } from '../../harness/fusion-stores.js';
import { fleetRecords, fleetReference, natsUrl, publishRecords, setupNats, uniqueId, waitFor, type FusionTestNats } from '../../harness/fusion.js';
import { deleteKeys } from '../../harness/redis.js';

/**
 * Real `aisflow fusion` processes: two members on the same partitions, one killed with SIGKILL
 * in the middle of the stream and started again. Redis and Postgres must end exactly at the
 * reference (nothing lost, nothing doubled), and a SIGTERM'd member exits 0.
 */
const PARTITIONS = 8;
const repoRoot = new URL('../../..', import.meta.url).pathname;

describe('aisflow fusion processes: kill -9 and restart', () => {
  let t: FusionTestNats;
  const id = uniqueId('');
  const database = `ft_${id}`;
  const keyPrefix = `ftproc:${id}`;
  const logDir = join(repoRoot, '.run', 'test-fusion', id);
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    t = await setupNats('proc');
    const c = new pg.Client({ connectionString: POSTGRES_DIRECT });
    await c.connect();
    await c.query(`CREATE DATABASE "${database}"`);
    await c.end();
    for (let attempt = 0; ; attempt++) {
      try {
        await migrate({ url: POSTGRES_DIRECT.replace(/\/postgres$/, `/${database}`), schema: 'aisflow' });
        break;
      } catch (err) {
        if (attempt > 40) throw err;
        await new Promise((r) => setTimeout(r, 300 + Math.random() * 500));
      }
    }
    mkdirSync(logDir, { recursive: true });
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    const redis = createRedisClient({ mode: 'standalone', url: 'redis://127.0.0.1:6379', clusterNodes: [], password: null });
    await deleteKeys(redis as Parameters<typeof deleteKeys>[0], keyPrefix);
    redis.disconnect();
    const c = new pg.Client({ connectionString: POSTGRES_DIRECT });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await c.end();
    await t?.cleanup();
  });

  async function fusion(member: string): Promise<{ child: ChildProcess; port: number; exited: Promise<number | string> }> {
    const port = await freePort();
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AISFLOW_'))) as Record<string, string>;
    const log = createWriteStream(join(logDir, `${member}.log`), { flags: 'a' });
    const child = spawn(process.execPath, ['bin/aisflow.mjs', 'fusion'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...env,
        AISFLOW_NATS_URL: natsUrl,
        AISFLOW_NATS_STREAM: t.names.stream,
        AISFLOW_NATS_DLQ_STREAM: t.names.dlqStream,
        AISFLOW_NATS_SUBJECT_PREFIX: t.names.prefix,
        AISFLOW_PARTITIONS: String(PARTITIONS),
        AISFLOW_HTTP_PORT: String(port),
        AISFLOW_KEY_PREFIX: keyPrefix,
        AISFLOW_POSTGRES_URL: `postgres://postgres@127.0.0.1:6433/${database}`,
        AISFLOW_MEMBER_ID: member,
        AISFLOW_FUSION_HEARTBEAT_MS: '200',
        AISFLOW_FUSION_MEMBER_TTL_MS: '1500',
        AISFLOW_FUSION_ACK_WAIT_MS: '3000',
        AISFLOW_FUSION_RETRY_DELAY_MS: '300',
        AISFLOW_LOG_LEVEL: 'info',
      },
    });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    children.push(child);
    const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    const ready = await waitFor(async () => {
      if (child.exitCode !== null) return true;
      return fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    }, 60_000, 200);
    expect(ready && child.exitCode === null, readFileSync(join(logDir, `${member}.log`), 'utf8').slice(-2000)).toBe(true);
    return { child, port, exited };
  }

  it('two members, one killed mid-stream and restarted: Redis and Postgres end exactly at the reference', { timeout: 240_000 }, async () => {
    const a = await fusion('member-a');
    const b = await fusion('member-b');
    const records = fleetRecords({ vessels: 300, reports: 8, sources: ['rx-a', 'rx-b'], start: Date.now() - 600_000, baseMmsi: 240_000_000 });
    const ref = fleetReference(records);
    const db = new pg.Client({ connectionString: POSTGRES_DIRECT.replace(/\/postgres$/, `/${database}`) });
    db.on('error', () => {});
    await db.connect();
    const rows = async () => Number((await db.query('SELECT count(*) AS n FROM aisflow.positions')).rows[0].n);
    try {
      const half = Math.floor(records.length / 2);
      await publishRecords(t.nc, t.names, PARTITIONS, records.slice(0, half), 25);
      // kill -9 while it is writing: some of its batches are in flight, unacknowledged
      expect(await waitFor(async () => (await rows()) > 0, 30_000, 20)).toBe(true);
      a.child.kill('SIGKILL');
      expect(await a.exited).toBe('SIGKILL');
      await publishRecords(t.nc, t.names, PARTITIONS, records.slice(half), 25);
      const a2 = await fusion('member-a');

      const client = createRedisClient({ mode: 'standalone', url: 'redis://127.0.0.1:6379', clusterNodes: [], password: null });
      const live = new RedisLiveStateStore({ client, keyPrefix, mode: await detectDocMode(client) });
      try {
        const caughtUp = async () => {
          if ((await rows()) !== ref.historyRows) return false;
          const states = await live.readStates([...ref.latest.keys()].map((mmsi) => ({ mmsi, partition: partitionOf(mmsi, PARTITIONS) })));
          return [...ref.latest].every(([m, f]) => states.get(m)?.ts === f.ts && states.get(m)?.lat === f.lat);
        };
        const done = await waitFor(caughtUp, 90_000, 300);
        if (!done) {
          const states = await live.readStates([...ref.latest.keys()].map((mmsi) => ({ mmsi, partition: partitionOf(mmsi, PARTITIONS) })));
          const behind = [...ref.latest].filter(([m, f]) => states.get(m)?.ts !== f.ts || states.get(m)?.lat !== f.lat);
          expect({ rows: await rows(), behind: behind.length, example: behind[0] && [behind[0], states.get(behind[0][0])] }).toEqual({ rows: ref.historyRows, behind: 0, example: undefined });
        }
        expect(await live.countLive(PARTITIONS)).toBe(ref.vessels);
        const vessels = Number((await db.query('SELECT count(*) AS n FROM aisflow.vessels WHERE fix_ts IS NOT NULL')).rows[0].n);
        expect(vessels).toBe(ref.vessels);
        const credited = Number((await db.query('SELECT count(*) AS n FROM aisflow.positions WHERE cardinality(sources) = 2')).rows[0].n);
        expect(credited).toBe(ref.historyRows);
      } finally {
        await live.close();
      }
      expect((await t.jsm.streams.info(t.names.dlqStream)).state.messages).toBe(0);

      // graceful stop: leave, finish, exit 0
      a2.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
      expect(await a2.exited).toBe(0);
      expect(await b.exited).toBe(0);
    } finally {
      await db.end();
    }
  });
});
