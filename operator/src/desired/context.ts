import type { AisPipeline, AisPipelineSpec } from '../api/v1alpha1/aispipeline.schema.js';

/** A Kubernetes object the operator wants to exist (plain JSON, apply-ready). */
export interface DesiredObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences: Array<Record<string, unknown>>;
  };
  [field: string]: unknown;
}

export interface RuleGroup {
  name: string;
  rules: Array<Record<string, unknown>>;
}

/** Everything a builder needs besides the CR; all of it is data, so builders stay pure. */
export interface BuildContext {
  /** Images of the third-party servers the operator runs (operator config). */
  images: { nats: string; redis: string; postgres: string; pgbouncer: string };
  /** Generated credentials (read from the existing Secret, or freshly generated once). */
  credentials: { postgresPassword: string; redisPassword: string; adminToken: string };
  /** Grafana dashboards, file name → dashboard JSON (grafana/index.ts buildDashboards()). */
  dashboards: Record<string, object>;
  /** Prometheus rule groups (alerts/index.ts buildRuleGroups()). */
  ruleGroups: RuleGroup[];
  /**
   * Redis Cluster scale-in, read from the cluster by the reconciler: the live StatefulSet's
   * replicas, and whether the Job draining the members beyond the spec's count has succeeded.
   * The StatefulSet keeps its pods until then (removing a pod first would lose its slots).
   */
  redisLive?: { pods: number; drained: boolean };
}

/** The CR with its spec defaulted: what every builder receives. */
export interface Pipeline {
  cr: AisPipeline;
  spec: AisPipelineSpec;
}
