import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { OperatorMetrics } from '../../../pipeline/src/telemetry/metrics/operator.js';
import { GROUP, PLURAL, VERSION } from '../api/v1alpha1/aispipeline.schema.js';
import { PIPELINE_LABEL } from '../desired/labels.js';
import type { Kube } from '../k8s/kube.js';
import type { Outcome, Reconciler } from '../reconcile/reconciler.js';
import { SupervisedInformer } from './informer.js';
import { WorkQueue } from './queue.js';

export interface ControllerOptions {
  workers?: number;
  /** Namespace to watch; all namespaces when undefined. */
  namespace?: string;
  relistMs?: number;
}

/**
 * Informers on AisPipelines and the workloads they own feed `namespace/name` keys into one
 * de-duplicating queue; workers run level-based reconcile passes and turn each outcome into a
 * queue action (done → forget, requeueAfter → schedule, terminal → forget until the next edit,
 * thrown error → backoff). Only the leader runs workers; informers run on every replica so a
 * new leader starts warm.
 */
export class Controller {
  readonly queue = new WorkQueue({ baseDelayMs: 500, maxDelayMs: 300_000 });
  private readonly informers: Array<SupervisedInformer<KubernetesObject>> = [];
  private running = false;
  private workers: Array<Promise<void>> = [];
  private leading = false;
  private readonly known = new Set<string>();

  constructor(
    private readonly kube: Kube,
    private readonly reconciler: Reconciler,
    private readonly logger: Logger,
    private readonly metrics: OperatorMetrics | undefined,
    private readonly options: ControllerOptions = {},
  ) {}

  async start(): Promise<void> {
    const ns = this.options.namespace;
    const crPath = ns ? `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${PLURAL}` : `/apis/${GROUP}/${VERSION}/${PLURAL}`;
    const enqueueCr = (o: KubernetesObject) => this.enqueue(`${o.metadata?.namespace}/${o.metadata?.name}`);
    // Owned workloads: their readiness changes the pipeline's status.
    const enqueueOwner = (o: KubernetesObject) => {
      const p = o.metadata?.labels?.[PIPELINE_LABEL];
      if (p) this.enqueue(`${o.metadata?.namespace}/${p}`);
    };
    const restart = (resource: string) => () => this.metrics?.watchRestarts.inc({ resource });
    this.informers.push(
      new SupervisedInformer(this.kube.kc, crPath, () => this.kube.listPipelines() as never, enqueueCr, this.logger, { relistMs: this.options.relistMs, onRestart: restart(PLURAL) }),
    );
    for (const [plural, apiPath] of [
      ['deployments', '/apis/apps/v1'],
      ['statefulsets', '/apis/apps/v1'],
    ] as const) {
      const path = ns ? `${apiPath}/namespaces/${ns}/${plural}` : `${apiPath}/${plural}`;
      const kind = plural === 'deployments' ? 'Deployment' : 'StatefulSet';
      const list = async () => {
        const items = ns
          ? await this.kube.list('apps/v1', kind, ns, PIPELINE_LABEL)
          : await this.kube.objects.list('apps/v1', kind, undefined, undefined, undefined, undefined, undefined, PIPELINE_LABEL).then((r) => JSON.parse(JSON.stringify(r.items)) as never[]);
        return { apiVersion: 'v1', kind: 'List', metadata: {}, items } as never;
      };
      this.informers.push(new SupervisedInformer(this.kube.kc, path, list, enqueueOwner, this.logger, { labelSelector: PIPELINE_LABEL, relistMs: this.options.relistMs, onRestart: restart(plural) }));
    }
    await Promise.all(this.informers.map((i) => i.start()));
  }

  /** Leader only: start/stop the workers. Keys seen before leadership are processed then. */
  setLeading(leading: boolean): void {
    this.leading = leading;
    this.metrics?.isLeader.set(leading ? 1 : 0);
    if (leading && !this.running) {
      this.running = true;
      for (const k of this.known) this.queue.add(k);
      this.workers = Array.from({ length: this.options.workers ?? 2 }, () => this.work());
    }
  }

  private enqueue(key: string): void {
    this.known.add(key);
    if (this.leading) this.queue.add(key);
    this.metrics?.queueDepth.set(this.queue.depth());
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.metrics?.queueDepth.set(this.queue.depth());
      if (!this.leading) {
        this.queue.done(key);
        continue;
      }
      await this.process(key);
      this.queue.done(key);
    }
  }

  /** One pass for one key, with the outcome turned into a queue action and metrics. */
  async process(key: string): Promise<Outcome | Error> {
    const [namespace, name] = key.split('/') as [string, string];
    const end = this.metrics?.reconcileDuration.startTimer();
    try {
      const outcome = await this.reconciler.reconcile(namespace, name);
      end?.();
      this.queue.forget(key);
      if (outcome.kind === 'requeueAfter') {
        this.metrics?.reconciles.inc({ result: 'requeue' });
        this.queue.addAfter(key, outcome.ms);
      } else if (outcome.kind === 'terminal') {
        this.metrics?.reconciles.inc({ result: 'terminal' });
        this.logger.warn({ key, reason: outcome.reason }, 'reconcile stopped: fix the spec');
      } else {
        this.metrics?.reconciles.inc({ result: 'done' });
      }
      return outcome;
    } catch (err) {
      end?.();
      this.metrics?.reconciles.inc({ result: 'error' });
      this.metrics?.reconcileErrors.inc();
      const ms = this.queue.addRateLimited(key);
      this.logger.warn({ key, err, retryInMs: ms }, 'reconcile failed; retrying with backoff');
      return err as Error;
    }
  }

  async stop(): Promise<void> {
    this.queue.shutdown();
    await Promise.all(this.informers.map((i) => i.stop()));
    await Promise.all(this.workers);
  }
}
