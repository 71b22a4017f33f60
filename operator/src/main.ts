import { hostname } from 'node:os';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { systemClock } from '../../pipeline/src/shared/clock.js';
import { buildOpsServer } from '../../pipeline/src/telemetry/http-server.js';
import { createLogger } from '../../pipeline/src/telemetry/logger.js';
import { createOperatorMetrics } from '../../pipeline/src/telemetry/metrics/operator.js';
import type { OperatorConfig } from './config.js';
import { Controller } from './controller/controller.js';
import { LeaderElector } from './controller/leader.js';
import { buildRuleGroups } from '../../alerts/index.js';
import { buildDashboards } from '../../grafana/index.js';
import { Kube } from './k8s/kube.js';
import { Reconciler } from './reconcile/reconciler.js';
import { natsStreamJanitor } from './reconcile/streams.js';
import { redisSlotChecker } from './redis-cluster/slots.js';
import { KubeConfig } from '@kubernetes/client-node';

/** Composition root: config → clients → leader election → controller → ops server. */
export async function runOperator(config: OperatorConfig): Promise<{ stop(): Promise<void> }> {
  const logger = createLogger({ name: 'operator', level: config.AISFLOW_LOG_LEVEL });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = createOperatorMetrics(registry);

  const kc = new KubeConfig();
  kc.loadFromDefault(); // in-cluster service account, or ~/.kube/config out of cluster
  const kube = new Kube(kc);
  const reconciler = new Reconciler({
    kube,
    context: {
      images: {
        nats: config.AISFLOW_OPERATOR_NATS_IMAGE,
        redis: config.AISFLOW_OPERATOR_REDIS_IMAGE,
        postgres: config.AISFLOW_OPERATOR_POSTGRES_IMAGE,
        pgbouncer: config.AISFLOW_OPERATOR_PGBOUNCER_IMAGE,
      },
      // Dashboards and rules are generated from code in grafana/ and alerts/.
      dashboards: buildDashboards(),
      ruleGroups: buildRuleGroups(),
    },
    clock: systemClock,
    logger,
    metrics,
    resyncMs: config.AISFLOW_OPERATOR_RESYNC_S * 1000,
    ...(config.AISFLOW_OPERATOR_EXTERNAL_CHECKS ? { streams: natsStreamJanitor, redisSlots: redisSlotChecker } : {}),
  });
  const controller = new Controller(kube, reconciler, logger, metrics, {
    workers: config.AISFLOW_OPERATOR_WORKERS,
    ...(config.AISFLOW_OPERATOR_WATCH_NAMESPACE ? { namespace: config.AISFLOW_OPERATOR_WATCH_NAMESPACE } : {}),
  });
  const elector = new LeaderElector(
    kube,
    systemClock,
    logger,
    {
      namespace: config.AISFLOW_OPERATOR_NAMESPACE,
      name: config.AISFLOW_OPERATOR_LEASE_NAME,
      identity: config.AISFLOW_OPERATOR_IDENTITY || `${hostname()}-${process.pid}`,
      leaseDurationMs: config.AISFLOW_OPERATOR_LEASE_DURATION_S * 1000,
      retryPeriodMs: config.AISFLOW_OPERATOR_RETRY_PERIOD_S * 1000,
    },
    {
      onStartedLeading: () => controller.setLeading(true),
      // Losing the lease means another replica may already be writing: stop at once, and let
      // the pod restart to come back as a clean candidate (client-go does the same).
      onStoppedLeading: () => {
        controller.setLeading(false);
        logger.error('leadership lost; exiting so a fresh candidate restarts');
        process.exitCode = 1;
        void stop();
      },
    },
  );

  let informersStarted = false;
  const ops = buildOpsServer({
    registry,
    checks: [{ name: 'informers', check: () => informersStarted || 'informers are still listing' }],
  });
  await ops.listen({ host: '0.0.0.0', port: config.AISFLOW_HTTP_PORT });
  await controller.start();
  informersStarted = true;
  elector.start();
  logger.info({ port: config.AISFLOW_HTTP_PORT }, 'operator started');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await elector.stop();
      await controller.stop();
      await ops.close();
    })());
  return { stop };
}
