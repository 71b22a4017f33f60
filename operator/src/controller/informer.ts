import { makeInformer, type KubeConfig, type KubernetesObject, type ListPromise } from '@kubernetes/client-node';
import type { Logger } from 'pino';

/**
 * An informer that keeps running. client-node's informer stops for good on a watch error
 * (kubernetes-client/javascript#596, #1496) and can go silent (#958): this supervisor restarts it
 * after an error with backoff, and re-lists on a fixed period whether or not it saw an error.
 * A 410 (expired resourceVersion) is handled inside the informer by a fresh list.
 * Handlers receive only the object's key: reconciles are level-based.
 */
export class SupervisedInformer<T extends KubernetesObject> {
  private informer?: ReturnType<typeof makeInformer<T>>;
  private restartTimer?: NodeJS.Timeout;
  private periodic?: NodeJS.Timeout;
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly path: string,
    private readonly list: ListPromise<T>,
    private readonly onKey: (obj: T) => void,
    private readonly logger: Logger,
    private readonly options: { labelSelector?: string; relistMs?: number; onRestart?: () => void } = {},
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.run();
    this.periodic = setInterval(() => this.restart('periodic relist'), this.options.relistMs ?? 300_000);
    this.periodic.unref();
  }

  private async run(): Promise<void> {
    const inf = makeInformer<T>(this.kc, this.path, this.list, this.options.labelSelector);
    this.informer = inf;
    for (const ev of ['add', 'update', 'delete'] as const) {
      inf.on(ev, (o: T) => {
        this.failures = 0; // data flows again: the next error starts the backoff afresh
        this.onKey(o);
      });
    }
    inf.on('error', (err: unknown) => {
      if (this.stopped || this.informer !== inf) return;
      this.failures += 1;
      const ms = Math.min(500 * 2 ** (this.failures - 1), 30_000);
      this.logger.warn({ err: String(err), path: this.path, retryInMs: ms }, 'watch failed; restarting');
      this.restartTimer = setTimeout(() => void this.restart('error'), ms);
    });
    try {
      await inf.start();
    } catch (err) {
      this.logger.warn({ err: String(err), path: this.path }, 'initial list failed; retrying');
      this.restartTimer = setTimeout(() => void this.restart('initial list failed'), 1_000);
    }
  }

  private async restart(why: string): Promise<void> {
    if (this.stopped) return;
    this.options.onRestart?.();
    this.logger.debug({ path: this.path, why }, 'restarting informer');
    await this.informer?.stop();
    await this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.periodic) clearInterval(this.periodic);
    await this.informer?.stop();
  }
}
