import type { V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../../../pipeline/src/shared/clock.js';
import { isConflict } from '../errors.js';
import type { Kube } from '../k8s/kube.js';

export interface LeaderOptions {
  namespace: string;
  name: string;
  identity: string;
  /** How long a lease is valid without renewal. @default 15 s */
  leaseDurationMs?: number;
  /** How often the holder renews / a candidate retries. @default 2 s */
  retryPeriodMs?: number;
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease (client-node has no helper; this follows
 * client-go's leaderelection): the holder renews every retry period; a candidate takes the lease
 * over only when its renewTime is older than the lease duration. Take-overs and renewals are
 * writes with the read resourceVersion, so of two candidates only one wins (the other gets 409).
 */
export class LeaderElector {
  private leading = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private lastRenewMs = 0;
  private inflight?: Promise<boolean>;

  constructor(
    private readonly kube: Kube,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: LeaderOptions,
    private readonly callbacks: { onStartedLeading(): void; onStoppedLeading(): void },
  ) {}

  isLeader(): boolean {
    return this.leading;
  }

  /** One acquire-or-renew attempt; returns whether we lead afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    const durationS = Math.ceil((this.options.leaseDurationMs ?? 15_000) / 1000);
    const now = new Date(this.clock.now());
    const mine = (lease?: V1Lease): V1Lease => ({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace, ...(lease?.metadata?.resourceVersion ? { resourceVersion: lease.metadata.resourceVersion } : {}) },
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: durationS,
        acquireTime: lease?.spec?.holderIdentity === identity && lease.spec.acquireTime ? lease.spec.acquireTime : (now as never),
        renewTime: now as never,
        leaseTransitions: (lease?.spec?.leaseTransitions ?? 0) + (lease?.spec?.holderIdentity === identity || !lease ? 0 : 1),
      },
    });
    try {
      const lease = await this.kube.readLease(namespace, name);
      if (!lease) {
        await this.kube.createLease(namespace, mine());
        this.lastRenewMs = now.getTime();
        return this.set(true);
      }
      const holder = lease.spec?.holderIdentity;
      const renewed = lease.spec?.renewTime ? new Date(lease.spec.renewTime as unknown as string).getTime() : 0;
      const expired = renewed + (lease.spec?.leaseDurationSeconds ?? durationS) * 1000 < now.getTime();
      if (holder !== identity && holder && !expired) return this.set(false);
      await this.kube.replaceLease(namespace, name, mine(lease));
      this.lastRenewMs = now.getTime();
      return this.set(true);
    } catch (err) {
      // 409: another candidate won this round; anything else is worth a log line.
      if (!isConflict(err)) this.logger.warn({ err }, 'leader election attempt failed');
      // A failed renewal is not yet a lost lease: keep leading until our last renewal expires
      // (others cannot take it over before then either).
      const stillValid = this.leading && !isConflict(err) && now.getTime() - this.lastRenewMs < (this.options.leaseDurationMs ?? 15_000);
      return this.set(stillValid);
    }
  }

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      this.inflight = this.tryAcquireOrRenew();
      await this.inflight;
      if (!this.stopped) this.timer = setTimeout(loop, this.options.retryPeriodMs ?? 2_000);
    };
    void loop();
  }

  /**
   * Stops campaigning. A leader hands the Lease back (empty holder) so the other replica takes
   * over at its next retry instead of waiting out the lease duration. No callbacks fire.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inflight; // a renewal in flight must not re-take the lease after the release
    if (!this.leading) return;
    this.leading = false;
    const { namespace, name, identity } = this.options;
    try {
      const lease = await this.kube.readLease(namespace, name);
      if (lease?.spec?.holderIdentity === identity) {
        await this.kube.replaceLease(namespace, name, { ...lease, spec: { ...lease.spec, holderIdentity: '' } });
      }
    } catch (err) {
      this.logger.warn({ err }, 'could not release the leader lease; the other replica takes over when it expires');
    }
  }

  private set(leading: boolean): boolean {
    if (leading !== this.leading) {
      this.leading = leading;
      this.logger.info({ identity: this.options.identity, leading }, leading ? 'became leader' : 'lost leadership');
      if (leading) this.callbacks.onStartedLeading();
      else this.callbacks.onStoppedLeading();
    }
    return leading;
  }
}
