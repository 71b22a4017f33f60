import { describe, expect, it } from 'vitest';
import { evenSplit, parseClusterNodes, toRanges } from './nodes.js';
import { planSteps, type MemberView } from './plan.js';

const id = (n: number) => String(n).repeat(40).slice(0, 40);
const line = (n: number, flags: string, primary = '-', slots = '') =>
  `${id(n)} 10.0.0.${n}:6379@16379,redis-${n} ${flags} ${primary} 0 0 1 connected ${slots}`.trim();

/** Members 1..count; `lines(n)` is what member n reports in CLUSTER NODES. */
function members(count: number, lines: (n: number) => string[], extra: Partial<MemberView> = {}): MemberView[] {
  return Array.from({ length: count }, (_, i) => {
    const n = i + 1;
    const view = parseClusterNodes(lines(n).join('\n'));
    const self = view.find((v) => v.flags.has('myself'));
    return { addr: `redis-${n}:6379`, ip: `10.0.0.${n}`, port: 6379, view, ...(self ? { self } : {}), stateOk: true, ...extra };
  });
}
const input = (m: MemberView[], failedSeen = new Map<string, number>()) => ({ members: m, shards: 3, replicasPerShard: 1, failoverPatience: 3, failedSeen });
const everyone = (count: number, self: number, role: (n: number) => [string, string, string]) =>
  Array.from({ length: count }, (_, i) => {
    const n = i + 1;
    const [flags, primary, slots] = role(n);
    return line(n, n === self ? `myself,${flags}` : flags, primary, slots);
  });

describe('CLUSTER NODES parsing', () => {
  it('reads ids, hostnames, flags, slot ranges and open slots', () => {
    const [n] = parseClusterNodes(`${id(1)} 10.0.0.1:6379@16379,redis-1 myself,master - 0 0 1 connected 0-2 7 [8->-${id(2)}] [9-<-${id(3)}]`);
    expect(n).toMatchObject({ id: id(1), addr: '10.0.0.1:6379', hostname: 'redis-1', primaryId: '-', slots: [0, 1, 2, 7] });
    expect(n!.openSlots).toEqual([[8, 'migrating', id(2)], [9, 'importing', id(3)]]);
    expect(toRanges([5, 1, 2, 3, 9])).toEqual([[1, 3], [5, 5], [9, 9]]);
    expect(evenSplit(3)).toEqual([[0, 5461], [5462, 10922], [10923, 16383]]);
  });
});

describe('planSteps', () => {
  it('waits for unreachable members', () => {
    const m = members(6, (n) => [line(n, 'myself,master')]);
    delete m[5]!.self;
    expect(planSteps(input(m))).toEqual([{ op: 'wait', reason: 'unreachable: redis-6:6379' }]);
  });

  it('meets members the seed does not know', () => {
    const m = members(6, (n) => [line(n, 'myself,master')]);
    expect(planSteps(input(m)).map((s) => s.op)).toEqual(['meet', 'meet', 'meet', 'meet', 'meet']);
  });

  it('assigns even slot ranges to the first shards on a fresh cluster', () => {
    const m = members(6, (self) => everyone(6, self, () => ['master', '-', '']));
    expect(planSteps(input(m))).toEqual([
      { op: 'addslots', on: 'redis-1:6379', ranges: [[0, 5461]] },
      { op: 'addslots', on: 'redis-2:6379', ranges: [[5462, 10922]] },
      { op: 'addslots', on: 'redis-3:6379', ranges: [[10923, 16383]] },
    ]);
  });

  it('attaches replicas to primaries, then reports done', () => {
    const slots = ['0-5461', '5462-10922', '10923-16383'];
    const m = members(6, (self) => everyone(6, self, (n) => (n <= 3 ? ['master', '-', slots[n - 1]!] : ['master', '-', ''])));
    expect(planSteps(input(m))).toEqual([
      { op: 'replicate', on: 'redis-4:6379', primaryId: id(1) },
      { op: 'replicate', on: 'redis-5:6379', primaryId: id(2) },
      { op: 'replicate', on: 'redis-6:6379', primaryId: id(3) },
    ]);
    const done = members(6, (self) => everyone(6, self, (n) => (n <= 3 ? ['master', '-', slots[n - 1]!] : ['slave', id(n - 3), ''])), { replicaLinkUp: true });
    expect(planSteps(input(done))).toEqual([{ op: 'done', summary: '3 primaries, 3 replicas, 16384 slots served' }]);
    const syncing = members(6, (self) => everyone(6, self, (n) => (n <= 3 ? ['master', '-', slots[n - 1]!] : ['slave', id(n - 3), ''])), { replicaLinkUp: false });
    expect(planSteps(input(syncing))[0]).toMatchObject({ op: 'wait' });
  });

  it('forces a takeover at once when a primary was replaced (its id is gone), before forgetting it', () => {
    // Member 1 was replaced by a new node (id 9); the others still list the old primary 1 and its replica 4.
    const slots = ['0-5461', '5462-10922', '10923-16383'];
    const m = members(6, (self) => everyone(6, self, (n) => (n <= 3 ? ['master', '-', slots[n - 1]!] : ['slave', id(n - 3), ''])));
    m[0] = { addr: 'redis-1:6379', ip: '10.0.0.1', port: 6379, view: parseClusterNodes(`${id(9)} 10.0.0.1:6379@16379 myself,master - 0 0 0 connected`), self: parseClusterNodes(`${id(9)} 10.0.0.1:6379@16379 myself,master - 0 0 0 connected`)[0]!, stateOk: false };
    expect(planSteps(input(m))).toEqual([{ op: 'takeover', on: 'redis-4:6379' }]);
  });

  it('waits for Redis to fail a failed primary over, then forces it after the patience', () => {
    const slots = ['0-5461', '5462-10922', '10923-16383'];
    const m = members(6, (self) => everyone(6, self, (n) => (n <= 3 ? [n === 2 ? 'master,fail' : 'master', '-', slots[n - 1]!] : ['slave', id(n - 3), ''])));
    expect(planSteps(input(m))[0]).toMatchObject({ op: 'wait' });
    expect(planSteps(input(m, new Map([[id(2), 3]])))).toEqual([{ op: 'takeover', on: 'redis-5:6379' }]);
  });

  it('gives uncovered slots to the smallest primary', () => {
    const m = members(3, (self) => everyone(3, self, (n) => ['master', '-', ['0-5461', '5462-10922', '10923-16000'][n - 1]!]));
    expect(planSteps({ ...input(m), replicasPerShard: 0 })).toEqual([{ op: 'addslots', on: 'redis-3:6379', ranges: [[16001, 16383]] }]);
  });

  it('grows to a fourth primary by migrating slots, but only once every member reports cluster_state ok', () => {
    const slots = ['0-5461', '5462-10922', '10923-16383'];
    const m = members(4, (self) => everyone(4, self, (n) => ['master', '-', slots[n - 1] ?? '']));
    const plan = planSteps({ ...input(m), shards: 4, replicasPerShard: 0 });
    expect(plan).toHaveLength(1);
    expect(plan[0]).toMatchObject({ op: 'migrate', to: 'redis-4:6379', toId: id(4) });
    m[3]!.stateOk = false;
    expect(planSteps({ ...input(m), shards: 4, replicasPerShard: 0 })[0]).toMatchObject({ op: 'wait' });
  });

  describe('scale-in (members 7 and 8 leave; 7 is a primary followed by the remaining member 6)', () => {
    const quarter = ['0-4095', '4096-8191', '8192-12287', '12288-16383'];
    // primaries 1, 2, 3, 7; replicas 4 -> 1, 5 -> 2, 6 -> 7, 8 -> 3
    const roles = (slotsOf: (n: number) => string) => (n: number): [string, string, string] =>
      ({ 4: ['slave', id(1), ''], 5: ['slave', id(2), ''], 6: ['slave', id(7), ''], 8: ['slave', id(3), ''] })[n] as [string, string, string] | undefined ?? ['master', '-', slotsOf(n)];
    const cluster = (slotsOf: (n: number) => string, role = roles(slotsOf)) => {
      const all = members(8, (self) => everyone(8, self, role), { replicaLinkUp: true });
      return { ...input(all.slice(0, 6)), leaving: all.slice(6) };
    };

    it('first drains the leaving primary into the smallest remaining primary, one batch at a time', () => {
      const plan = planSteps(cluster((n) => quarter[[1, 2, 3, 7].indexOf(n)]!));
      expect(plan).toEqual([expect.objectContaining({ op: 'migrate', from: 'redis-7:6379', to: 'redis-1:6379', toId: id(1), fromId: id(7) })]);
      expect((plan[0] as { slots: number[] }).slots).toHaveLength(1024);
    });

    it('then re-points the replica that followed the leaving primary, to the primary with the fewest followers', () => {
      const drained = ['0-4095,12288-13653', '4096-8191,13654-15018', '8192-12287,15019-16383'];
      const slotsOf = (n: number) => (n === 7 ? '' : drained[n - 1]!.replace(',', ' '));
      expect(planSteps(cluster(slotsOf))).toEqual([{ op: 'replicate', on: 'redis-6:6379', primaryId: id(3) }]);
    });

    it('then makes every remaining member forget the leavers and resets them, and is done after that', () => {
      const drained = ['0-5461', '5462-10922', '10923-16383'];
      const role = (n: number): [string, string, string] => (n === 6 ? ['slave', id(3), ''] : n === 7 ? ['master', '-', ''] : roles(() => '')(n)[0] === 'slave' ? roles(() => '')(n) : ['master', '-', drained[n - 1]!]);
      const plan = planSteps(cluster(() => '', role));
      expect(plan.filter((s) => s.op === 'forget')).toHaveLength(12);
      expect(plan.slice(-2)).toEqual([{ op: 'reset', on: 'redis-7:6379' }, { op: 'reset', on: 'redis-8:6379' }]);
      // Once they are gone from every view, only the six remain and the plan is done.
      const after = members(6, (self) => everyone(6, self, role), { replicaLinkUp: true });
      expect(planSteps({ ...input(after), leaving: [] })).toEqual([{ op: 'done', summary: '3 primaries, 3 replicas, 16384 slots served' }]);
    });

    it('an unreachable leaving member needs nothing: it is a ghost like any other', () => {
      const c = cluster((n) => quarter[[1, 2, 3, 7].indexOf(n)]!);
      delete c.leaving[1]!.self;
      const plan = planSteps(c);
      expect(plan.every((s) => s.op === 'forget' && s.id === id(8))).toBe(true);
      expect(plan.length).toBeGreaterThan(0);
    });
  });

  it('fewer shards: the smallest extra primary hands its slots to the next smallest', () => {
    const m = members(4, (self) => everyone(4, self, (n) => ['master', '-', ['0-4095', '4096-8191', '8192-12287', '12288-16383'][n - 1]!]));
    expect(planSteps({ ...input(m), replicasPerShard: 0 })).toEqual([expect.objectContaining({ op: 'migrate', from: 'redis-1:6379', to: 'redis-2:6379' })]);
  });

  it('is not done while a member has not yet learnt the whole slot map', () => {
    const slots = ['0-5461', '5462-10922', '10923-16383'];
    const m = members(3, (self) => everyone(3, self, (n) => ['master', '-', self === 2 && n === 3 ? '' : slots[n - 1]!]), { replicaLinkUp: true });
    expect(planSteps({ ...input(m), replicasPerShard: 0 })).toEqual([{ op: 'wait', reason: 'slot map not yet converged on redis-2:6379' }]);
  });
});
