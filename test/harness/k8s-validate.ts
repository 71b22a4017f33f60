/**
 * Validates plain Kubernetes objects against the official OpenAPI schemas (kubernetes-models), and
 * the Prometheus Operator and KEDA CRD schemas. Returns one message per invalid object; objects
 * whose kind has no published model (our own AisPipeline) are listed separately so a test can say
 * which it checked some other way.
 */
interface Validatable {
  validate(): void;
}
type ModelCtor = new (data: unknown) => Validatable;

const modules: Record<string, () => Promise<Record<string, unknown>>> = {
  v1: () => import('kubernetes-models/v1'),
  'apps/v1': () => import('kubernetes-models/apps/v1'),
  'batch/v1': () => import('kubernetes-models/batch/v1'),
  'policy/v1': () => import('kubernetes-models/policy/v1'),
  'autoscaling/v2': () => import('kubernetes-models/autoscaling/v2'),
  'networking.k8s.io/v1': () => import('kubernetes-models/networking.k8s.io/v1'),
  'rbac.authorization.k8s.io/v1': () => import('kubernetes-models/rbac.authorization.k8s.io/v1'),
  'coordination.k8s.io/v1': () => import('kubernetes-models/coordination.k8s.io/v1'),
  'apiextensions.k8s.io/v1': () => import('kubernetes-models/apiextensions.k8s.io/v1'),
  'monitoring.coreos.com/v1': () => import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'),
  'keda.sh/v1alpha1': () => import('@kubernetes-models/keda/keda.sh/v1alpha1'),
};

export interface ValidationReport {
  invalid: string[];
  unchecked: string[];
  checked: number;
}

export async function validateObjects(objects: ReadonlyArray<{ apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } }>): Promise<ValidationReport> {
  const report: ValidationReport = { invalid: [], unchecked: [], checked: 0 };
  for (const o of objects) {
    const id = `${String(o.apiVersion)} ${String(o.kind)} ${String(o.metadata?.name)}`;
    const load = modules[String(o.apiVersion)];
    const mod = load ? await load() : undefined;
    const Model = mod?.[String(o.kind)] as ModelCtor | undefined;
    if (!Model) {
      report.unchecked.push(id);
      continue;
    }
    try {
      new Model(structuredClone(o)).validate();
      report.checked += 1;
    } catch (err) {
      report.invalid.push(`${id}: ${(err as Error).message}`);
    }
  }
  return report;
}
