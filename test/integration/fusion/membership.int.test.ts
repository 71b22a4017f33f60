import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignPartitions } from '../../../pipeline/src/fusion/assignment.js';
import { Membership } from '../../../pipeline/src/fusion/membership.js';
import { systemClock } from '../../../pipeline/src/shared/clock.js';
import { natsUrl, quietLogger, setupNats, uniqueId, waitFor, type FusionTestNats } from '../../harness/fusion.js';

describe('fusion membership over a real NATS KV bucket', () => {
  let t: FusionTestNats;
  beforeAll(async () => {
    t = await setupNats('mem');
  });
  afterAll(async () => {
    await t.cleanup();
  });

  function group(ttlMs: number) {
    const bucket = uniqueId('FT_members_');
    const seen = new Map<string, readonly string[]>();
    const join = (id: string, nc: NatsConnection = t.nc) =>
      Membership.join({ nc, bucket, memberId: id, heartbeatMs: 200, ttlMs, clock: systemClock, logger: quietLogger(), onChange: (m) => seen.set(id, m) });
    return { bucket, seen, join, cleanup: () => t.jsm.streams.delete(`KV_${bucket}`).catch(() => undefined) };
  }

  it('members see each other and agree on owners; a clean leave is seen long before the TTL', async () => {
    const g = group(60_000);
    const a = await g.join('a');
    const b = await g.join('b');
    const c = await g.join('c');
    expect(await waitFor(() => ['a', 'b', 'c'].every((id) => g.seen.get(id)?.join() === 'a,b,c'), 5_000)).toBe(true);
    expect(assignPartitions(a.members, 16)).toEqual(assignPartitions(c.members, 16));
    await b.leave();
    // the TTL is a minute: only the deleted key can explain seeing the leave within 10 s
    expect(await waitFor(() => g.seen.get('a')?.join() === 'a,c' && g.seen.get('c')?.join() === 'a,c', 10_000, 20)).toBe(true);
    await Promise.all([a.leave(), c.leave()]);
    await g.cleanup();
  });

  it('a member that dies without leaving is dropped once its heartbeat is older than the TTL', async () => {
    const g = group(1_500);
    const a = await g.join('a');
    const doomedNc = await connect({ servers: natsUrl });
    const dead = await g.join('dead', doomedNc);
    expect(await waitFor(() => g.seen.get('a')?.join() === 'a,dead', 5_000)).toBe(true);
    // kill -9 equivalent: the connection goes away, the key stays
    await doomedNc.close();
    expect(await waitFor(() => g.seen.get('a')?.join() === 'a', 8_000, 50)).toBe(true);
    await dead.leave();
    await a.leave();
    await g.cleanup();
  });
});
