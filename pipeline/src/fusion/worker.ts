import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import type { Clock } from '../shared/clock.js';
import type { NatsNames } from '../shared/subjects.js';
import { isRetryableStoreError } from '../store/errors.js';
import type { HistoryStore, LiveStateStore } from '../store/types.js';
import type { Logger } from '../telemetry/logger.js';
import type { FusionMetrics, FusionStore } from '../telemetry/metrics/fusion.js';
import { partitionsOf } from './assignment.js';
import { BatchProcessor } from './batch.js';
import { consumerName, PartitionConsumer } from './consumer.js';
import type { DecideSettings } from './decide.js';
import { Membership, membershipBucket } from './membership.js';
import { StateCache } from './state-cache.js';
import { TrustTable, type TrustSettings } from './trust.js';

/**
 * A fusion member: joins the membership, consumes the partitions rendezvous hashing gives it,
 * and re-balances whenever the member list changes. Owns the store breakers (an open breaker
 * pauses every consumer: messages wait in JetStream) and the periodic jobs (trust views,
 * pending gauges, soft delete by the owner of partition 0).
 */
export interface FusionWorkerOptions {
  nc: NatsConnection;
  names: NatsNames;
  partitions: number;
  memberId: string;
  heartbeatMs: number;
  memberTtlMs: number;
  maxAckPending: number;
  ackWaitMs: number;
  batchMaxMessages: number;
  /** see BatchDeps.maxInFlightBytes */
  maxInFlightBytes?: number;
  /** see BatchDeps.postgresLingerMs */
  postgresLingerMs?: number;
  retryDelayMs: number;
  maxDeliver: number;
  lruSize: number;
  decide: DecideSettings;
  trust: TrustSettings;
  breakerFailures: number;
  breakerHalfOpenMs: number;
  sourcesIntervalMs: number;
  live: LiveStateStore;
  history: HistoryStore;
  metrics: FusionMetrics;
  logger: Logger;
  clock: Clock;
  /** marks vessels silent since `cutoffMs` deleted; returns how many (the store's SQL function) */
  softDelete?: { afterMs: number; intervalMs: number; run(cutoffMs: number): Promise<number> };
  /** history partition upkeep, run at start and then every `intervalMs` by the owner of partition 0 */
  maintenance?: { intervalMs: number; run(nowMs: number): Promise<{ created: number; dropped: string[] }> };
  /** distinct `source` label values before the rest go to "other" @default 100 */
  maxSourceLabels?: number;
}

export class FusionWorker {
  private readonly consumers = new Map<number, PartitionConsumer>();
  private readonly breakers: Record<FusionStore, CircuitBreakerPolicy>;
  private readonly processor: BatchProcessor;
  private readonly trust: TrustTable;
  private readonly cache: StateCache;
  private membership: Membership | undefined;
  private rebalancing: Promise<void> = Promise.resolve();
  private readonly timers: NodeJS.Timeout[] = [];
  private resumeTimer: NodeJS.Timeout | undefined;
  private readonly sourceLabels = new Map<string, string>();
  private readonly demotionsSeen = new Map<string, number>();
  private stopping = false;
  private js: JetStreamClient;
  private jsm!: JetStreamManager;

  private constructor(private readonly o: FusionWorkerOptions) {
    o.metrics.partitions.set(o.partitions);
    this.js = jetstream(o.nc);
    this.trust = new TrustTable(o.trust);
    this.cache = new StateCache(o.lruSize, { hit: (n) => o.metrics.lruHits.inc(n), miss: (n) => o.metrics.lruMisses.inc(n) }, { recentReports: o.decide.recentReports });
    this.breakers = { redis: this.breaker('redis'), postgres: this.breaker('postgres') };
    this.processor = new BatchProcessor({
      live: o.live,
      history: o.history,
      nc: o.nc,
      js: this.js,
      names: o.names,
      metrics: o.metrics,
      logger: o.logger,
      clock: o.clock,
      cache: this.cache,
      trust: this.trust,
      decide: o.decide,
      redisBreaker: this.breakers.redis,
      postgresBreaker: this.breakers.postgres,
      maxDeliver: o.maxDeliver,
      retryDelayMs: o.retryDelayMs,
      ...(o.maxInFlightBytes !== undefined ? { maxInFlightBytes: o.maxInFlightBytes } : {}),
      ...(o.postgresLingerMs !== undefined ? { postgresLingerMs: o.postgresLingerMs } : {}),
    });
  }

  static async start(options: FusionWorkerOptions): Promise<FusionWorker> {
    const w = new FusionWorker(options);
    w.jsm = await jetstreamManager(options.nc);
    w.membership = await Membership.join({
      nc: options.nc,
      bucket: membershipBucket(options.names.stream),
      memberId: options.memberId,
      heartbeatMs: options.heartbeatMs,
      ttlMs: options.memberTtlMs,
      clock: options.clock,
      logger: options.logger,
      onChange: (members) => w.rebalance(members),
    });
    w.rebalance(w.membership.members);
    await w.rebalancing;
    w.every(options.sourcesIntervalMs, () => w.publishSources());
    w.every(options.sourcesIntervalMs, () => w.updatePending());
    if (options.softDelete) {
      const sd = options.softDelete;
      w.every(sd.intervalMs, async () => {
        // one member does it: whoever owns partition 0 (harmless if two briefly do)
        if (!w.consumers.has(0)) return;
        const n = await sd.run(options.clock.now() - sd.afterMs);
        options.metrics.vesselsSoftDeleted.inc(n);
        if (n > 0) options.logger.info({ vessels: n }, 'soft-deleted silent vessels');
      });
    }
    if (options.maintenance) {
      const mt = options.maintenance;
      const job = async () => {
        if (!w.consumers.has(0)) return;
        const r = await mt.run(options.clock.now());
        if (r.created > 0 || r.dropped.length > 0) options.logger.info(r, 'history partitions maintained');
      };
      await job().catch((err: unknown) => options.logger.warn({ err }, 'history maintenance failed'));
      w.every(mt.intervalMs, job);
    }
    return w;
  }

  /** Partitions this member consumes now, ascending. */
  get owned(): number[] {
    return [...this.consumers.keys()].sort((a, b) => a - b);
  }

  get members(): readonly string[] {
    return this.membership?.members ?? [];
  }

  /** Readiness: both breakers closed (NATS is the caller's check). */
  readiness(): true | string {
    const open = (Object.keys(this.breakers) as FusionStore[]).filter((s) => this.breakers[s].state !== CircuitState.Closed);
    return open.length === 0 ? true : `store breaker not closed: ${open.join(', ')}`;
  }

  /** Graceful stop: leave (others take over at once), finish and ack in-flight batches, publish trust. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    await Promise.all([this.membership?.leave(), this.rebalancing.then(() => Promise.all([...this.consumers.values()].map((c) => c.stop())))]);
    this.consumers.clear();
    this.o.metrics.partitionsOwned.set(0);
    await this.publishSources().catch((err: unknown) => this.o.logger.warn({ err }, 'final trust publish failed'));
  }

  private rebalance(members: readonly string[]): void {
    this.o.metrics.members.set(members.length);
    this.rebalancing = this.rebalancing.then(async () => {
      if (this.stopping) return;
      const wanted = new Set(partitionsOf(this.o.memberId, members, this.o.partitions));
      const lost = [...this.consumers.keys()].filter((p) => !wanted.has(p));
      const gained = [...wanted].filter((p) => !this.consumers.has(p));
      if (lost.length === 0 && gained.length === 0) return;
      this.o.logger.info({ members, gained: gained.length, lost: lost.length }, 'partition assignment changed');
      // Lost partitions stop while the gained ones start: a stop lets its pull request run out
      // (up to a couple of seconds), and the partitions are disjoint.
      const stopping = Promise.all(
        lost.map(async (p) => {
          const c = this.consumers.get(p);
          this.consumers.delete(p);
          await c?.stop();
          this.o.metrics.consumerPending.remove({ partition: String(p) });
        }),
      );
      const paused = this.anyBreakerOpen();
      for (const p of gained) {
        const c = new PartitionConsumer({
          js: this.js,
          jsm: this.jsm,
          names: this.o.names,
          partition: p,
          maxAckPending: this.o.maxAckPending,
          ackWaitMs: this.o.ackWaitMs,
          batchMaxMessages: this.o.batchMaxMessages,
          retryDelayMs: this.o.retryDelayMs,
          logger: this.o.logger,
          handle: (partition: number, msgs: JsMsg[]) => this.processor.handle(partition, msgs),
          settled: (partition: number) => this.processor.settled(partition),
        });
        if (paused) c.pause();
        this.consumers.set(p, c);
      }
      // start them a few at a time: each start is a consumer create round trip; a start that
      // cannot succeed yet (no stream) keeps retrying in the background and must not block
      for (let i = 0; i < gained.length; i += 8) {
        await Promise.race([
          Promise.all(gained.slice(i, i + 8).map((p) => this.consumers.get(p)?.start())),
          new Promise((r) => setTimeout(r, 5_000).unref()),
        ]);
      }
      await stopping;
      this.o.metrics.partitionsOwned.set(this.consumers.size);
    });
    this.rebalancing.catch((err: unknown) => this.o.logger.error({ err }, 'rebalance failed'));
  }

  private breaker(store: FusionStore): CircuitBreakerPolicy {
    const b = circuitBreaker(handleWhen(isRetryableStoreError), {
      halfOpenAfter: this.o.breakerHalfOpenMs,
      breaker: new ConsecutiveBreaker(this.o.breakerFailures),
    });
    b.onStateChange((state) => {
      this.o.metrics.breakerState.set({ store }, state === CircuitState.Closed ? 0 : state === CircuitState.HalfOpen ? 1 : 2);
      if (state === CircuitState.Open) {
        this.o.logger.warn({ store }, 'store breaker open: pausing all partition consumers');
        for (const c of this.consumers.values()) c.pause();
        // after the break, let batches flow again: the first one is the half-open trial
        if (this.resumeTimer) clearTimeout(this.resumeTimer);
        this.resumeTimer = setTimeout(() => this.resumeAll(), this.o.breakerHalfOpenMs);
      } else if (state === CircuitState.Closed) {
        this.o.logger.info({ store }, 'store breaker closed');
        this.resumeAll();
      }
    });
    return b;
  }

  private anyBreakerOpen(): boolean {
    return this.breakers.redis.state === CircuitState.Open || this.breakers.postgres.state === CircuitState.Open;
  }

  private resumeAll(): void {
    if (this.stopping) return;
    for (const c of this.consumers.values()) c.resume();
  }

  private every(ms: number, job: () => Promise<void>): void {
    let busy = false;
    const t = setInterval(() => {
      if (busy || this.stopping) return;
      busy = true;
      job()
        .catch((err: unknown) => this.o.logger.warn({ err }, 'periodic fusion job failed'))
        .finally(() => (busy = false));
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  /** Source label values are capped: tag-block source ids are untrusted input. */
  private labelOf(source: string): string {
    const known = this.sourceLabels.get(source);
    if (known) return known;
    const label = this.sourceLabels.size < (this.o.maxSourceLabels ?? 100) ? source : 'other';
    this.sourceLabels.set(source, label);
    return label;
  }

  private async publishSources(): Promise<void> {
    const views = this.trust.views(this.o.clock.now());
    for (const v of views) {
      const source = this.labelOf(v.id);
      if (source !== 'other') {
        this.o.metrics.sourceTrustScore.set({ source }, v.score);
        this.o.metrics.sourceDemoted.set({ source }, v.state === 'trusted' ? 0 : 1);
      }
      const delta = v.demotions - (this.demotionsSeen.get(v.id) ?? 0);
      if (delta > 0) this.o.metrics.sourceDemotions.inc({ source }, delta);
      this.demotionsSeen.set(v.id, v.demotions);
    }
    if (views.length > 0 && !this.anyBreakerOpen()) await this.breakers.redis.execute(() => this.o.live.writeSources(views));
  }

  private async updatePending(): Promise<void> {
    for (const p of this.consumers.keys()) {
      const info = await this.jsm.consumers.info(this.o.names.stream, consumerName(p));
      this.o.metrics.consumerPending.set({ partition: String(p) }, info.num_pending);
    }
  }
}
