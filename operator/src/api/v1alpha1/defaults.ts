import { Value } from '@sinclair/typebox/value';
import type { Resources} from './aispipeline.schema.js';
import { AisPipelineSpec, Storage, type AisPipeline } from './aispipeline.schema.js';
import type { Static } from '@sinclair/typebox';

/**
 * The spec with every schema default filled in, computed in memory. The API server applies the
 * same defaults (they are the CRD's `default`s), so this matters for CRs admitted before a default
 * existed and for tests; the result is never written back to `spec` (Argo CD would see drift).
 * Pure: the input is not modified.
 */
export function withDefaults(spec: AisPipeline['spec']): AisPipelineSpec {
  return Value.Default(AisPipelineSpec, structuredClone(spec ?? {})) as AisPipelineSpec;
}

/** Storage settings of a managed component, defaulted from the schema when absent. */
export function storageOrDefault(storage: Static<typeof Storage> | undefined): Static<typeof Storage> {
  return Value.Default(Storage, structuredClone(storage ?? {})) as Static<typeof Storage>;
}

export type ResourcesT = Static<typeof Resources>;

/** Problems of a spec the API server would have rejected (schema types, ranges, enums). */
export function specProblems(spec: unknown): string[] {
  const problems: string[] = [];
  for (const e of Value.Errors(AisPipelineSpec, spec)) {
    problems.push(`spec${e.path.replaceAll('/', '.')}: ${e.message}`);
    if (problems.length >= 10) break;
  }
  return problems;
}
