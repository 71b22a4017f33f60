import type { VesselQueries } from '../store/queries.js';

/** Store settings of the API process (from config/api.ts), handed to the store module's factory. */
export interface QueryStoreSettings {
  keyPrefix: string;
  partitions: number;
  redis: { mode: 'standalone' | 'cluster'; url: string; clusterNodes: string[]; password: string | null };
  postgresUrl: string;
}

export interface OpenedQueries {
  queries: VesselQueries;
  close(): Promise<void>;
}

/**
 * Opens the store module's VesselQueries. The store module exports a factory
 * `openVesselQueries(settings)` from `store/index.ts`; it is loaded at run time so the API's
 * routes, tests and OpenAPI build do not depend on Redis/Postgres client code being present.
 */
export async function openQueries(settings: QueryStoreSettings): Promise<OpenedQueries> {
  const specifier = '../store/index.js';
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`this build has no store module (${specifier}): the API cannot read vessels`, { cause: err });
  }
  const factory = mod.openVesselQueries;
  if (typeof factory !== 'function') throw new Error('the store module does not export openVesselQueries(settings)');
  const opened = (await (factory as (s: QueryStoreSettings) => Promise<OpenedQueries | VesselQueries>)(settings)) as Partial<OpenedQueries> & Partial<VesselQueries>;
  if (opened.queries) return { queries: opened.queries, close: opened.close ?? (async () => {}) };
  const queries = opened as VesselQueries;
  const close = (opened as { close?: () => Promise<void> }).close;
  return { queries, close: close ? () => close.call(opened) : async () => {} };
}
