import { Kvm, KvWatchInclude, type KV, type KvWatchEntry } from '@nats-io/kv';
import type { NatsConnection, QueuedIterator } from '@nats-io/transport-node';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../telemetry/logger.js';

/**
 * Fusion membership: every member re-puts its key in a NATS KV bucket each heartbeat and
 * watches the bucket; the live member list is every key put within the TTL. nats-server 2.9
 * has no per-key TTL and sends no notice when `max_age` removes an old heartbeat, so besides
 * the bucket's max_age (which keeps the bucket small) each member ages entries out itself by
 * the time it last saw them put. A member leaving cleanly deletes its key: the others re-assign
 * at once instead of after the TTL.
 */
export interface MembershipOptions {
  nc: NatsConnection;
  /** KV bucket, derived from the stream name so pipelines (and tests) sharing a NATS stay apart */
  bucket: string;
  memberId: string;
  heartbeatMs: number;
  ttlMs: number;
  clock: Clock;
  logger: Logger;
  /** called with the sorted live member list whenever it changes (always includes this member) */
  onChange(members: readonly string[]): void;
}

/** `AIS` → `AIS_fusion_members` (KV bucket names allow letters, digits, - and _). */
export function membershipBucket(stream: string): string {
  return `${stream}_fusion_members`.replace(/[^A-Za-z0-9_-]/g, '_');
}

export class Membership {
  private readonly lastSeen = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private watcher: QueuedIterator<KvWatchEntry> | undefined;
  private current: readonly string[] = [];
  private stopped = false;

  private constructor(
    private readonly kv: KV,
    private readonly options: MembershipOptions,
  ) {}

  static async join(options: MembershipOptions): Promise<Membership> {
    const kvm = new Kvm(options.nc);
    let kv: KV;
    try {
      kv = await kvm.create(options.bucket, { ttl: options.ttlMs, history: 1 });
    } catch (err) {
      // created earlier with other settings (e.g. another TTL): use it as it is
      options.logger.warn({ err, bucket: options.bucket }, 'membership bucket exists with other settings; opening it');
      kv = await kvm.open(options.bucket);
    }
    const m = new Membership(kv, options);
    await m.beat();
    // the current members first, so a joining member does not briefly believe it is alone
    const now = options.clock.now();
    for await (const key of await kv.keys()) {
      const entry = await kv.get(key);
      if (entry && entry.operation === 'PUT') m.lastSeen.set(key, Math.min(now, entry.created.getTime()));
    }
    m.watcher = await kv.watch({ include: KvWatchInclude.UpdatesOnly });
    void m.watch(m.watcher);
    m.recompute();
    m.timer = setInterval(() => {
      m.beat().catch((err: unknown) => options.logger.warn({ err }, 'membership heartbeat failed'));
      m.recompute();
    }, options.heartbeatMs);
    m.timer.unref();
    return m;
  }

  get members(): readonly string[] {
    return this.current;
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    await this.kv.put(this.options.memberId, JSON.stringify({ member: this.options.memberId, at: this.options.clock.now() }));
    this.lastSeen.set(this.options.memberId, this.options.clock.now());
  }

  private async watch(iter: QueuedIterator<KvWatchEntry>): Promise<void> {
    try {
      for await (const entry of iter) {
        if (entry.operation === 'PUT') this.lastSeen.set(entry.key, this.options.clock.now());
        else this.lastSeen.delete(entry.key);
        this.recompute();
      }
    } catch (err) {
      if (!this.stopped) this.options.logger.warn({ err }, 'membership watch ended');
    }
  }

  private recompute(): void {
    if (this.stopped) return;
    const now = this.options.clock.now();
    for (const [member, seen] of this.lastSeen) {
      if (member !== this.options.memberId && now - seen > this.options.ttlMs) this.lastSeen.delete(member);
    }
    const members = [...new Set([...this.lastSeen.keys(), this.options.memberId])].sort();
    if (members.length === this.current.length && members.every((m, i) => m === this.current[i])) return;
    this.current = members;
    this.options.onChange(members);
  }

  /** Stops heartbeating and deletes this member's key so the others take over at once. */
  async leave(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.watcher?.stop();
    try {
      await this.kv.delete(this.options.memberId);
    } catch (err) {
      this.options.logger.warn({ err }, 'could not delete the membership key; the others take over after the TTL');
    }
  }
}
