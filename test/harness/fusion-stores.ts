import { partitionOf } from '../../pipeline/src/shared/partition.js';
import type { FusedVesselState, HistoryStore, LiveStateStore } from '../../pipeline/src/store/types.js';
import { memoryStores } from './fusion-memory-stores.js';

export interface OpenedStores {
  live: LiveStateStore;
  history: HistoryStore;
  /** what the figures were measured against */
  description: string;
  /** history rows stored under this run's names */
  historyRowCount(): Promise<number>;
  /** live vessels stored under this run's names */
  vesselCount(): Promise<number>;
  readAll(mmsis: number[], partitions: number): Promise<Map<number, FusedVesselState>>;
  cleanup(): Promise<void>;
}

/** The stores fusion writes to in the bench and the pipeline tests, under unique names. */
export async function openFusionStores(_options: { keyPrefix: string; schemaTag: string; redisMode?: 'standalone' | 'cluster' }): Promise<OpenedStores> {
  const m = memoryStores();
  return {
    live: m.live,
    history: m.history,
    description: 'in-process stores (the Redis/Postgres store modules are not in this build yet)',
    historyRowCount: async () => m.rows.size,
    vesselCount: async () => m.states.size,
    readAll: (mmsis, partitions) => m.live.readStates(mmsis.map((mmsi) => ({ mmsi, partition: partitionOf(mmsi, partitions) }))),
    cleanup: async () => {},
  };
}
