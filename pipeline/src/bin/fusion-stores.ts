import type { FusionEnv } from '../config/fusion.js';
import type { HistoryStore, LiveStateStore } from '../store/types.js';
import type { Logger } from '../telemetry/logger.js';
import type { FusionMetrics } from '../telemetry/metrics/fusion.js';

export interface FusionStores {
  live: LiveStateStore;
  history: HistoryStore;
  /** marks vessels silent since `cutoffMs` deleted; returns how many */
  softDelete?: (cutoffMs: number) => Promise<number>;
  close(): Promise<void>;
}

/**
 * Opens the Redis live-state store (standalone or cluster) and the Postgres history store
 * (through PgBouncer) from the fusion configuration.
 */
export async function openFusionStores(_config: Readonly<FusionEnv>, _logger: Logger, _metrics: FusionMetrics): Promise<FusionStores> {
  throw new Error('aisflow fusion: this build has no Redis/Postgres store implementation yet (pipeline/src/store/redis, pipeline/src/store/postgres)');
}
