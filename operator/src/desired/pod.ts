import type { ResourcesT } from '../api/v1alpha1/defaults.js';

/**
 * Restricted Pod Security Standard on every pod: non-root, no privilege escalation, all
 * capabilities dropped, RuntimeDefault seccomp, read-only root filesystem (writable paths are
 * explicit emptyDirs or volumes).
 */
export function podSecurityContext(uid: number) {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export const containerSecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** The user's resources over the component's defaults, field by field. */
export function resources(user: ResourcesT | undefined, defaults: { cpu: string; memory: string; memoryLimit: string }) {
  return {
    requests: { cpu: user?.requests?.cpu ?? defaults.cpu, memory: user?.requests?.memory ?? defaults.memory },
    limits: {
      memory: user?.limits?.memory ?? defaults.memoryLimit,
      ...(user?.limits?.cpu ? { cpu: user.limits.cpu } : {}),
    },
  };
}

const QUANTITY_FACTORS: Record<string, number> = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

/**
 * A quantity in the CRD's form (`^[0-9]+(\.[0-9]+)?(suffix)?$`, e.g. `1.5Gi`, `512Mi`, `2G`) as a
 * number. @kubernetes/client-node's quantityToScalar refuses decimals before a binary suffix,
 * which the CRD allows.
 */
export function quantityValue(quantity: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$/.exec(quantity);
  if (!m) throw new RangeError(`not a resource quantity: ${JSON.stringify(quantity)}`);
  return Number(m[1]) * QUANTITY_FACTORS[m[2] ?? '']!;
}

/**
 * The Go runtime's view of its container, for Go servers (NATS). GOMAXPROCS from the CPU limit:
 * the downward API rounds it up to whole cores, and without a limit gives the node's cores, Go's
 * own default; a Go before 1.25 limited to less CPU than the node has otherwise runs a thread per
 * node core and is throttled. GOMEMLIMIT at 90 % of the memory limit (the usual share, e.g.
 * automemlimit's default): the collector works harder near the limit instead of the container
 * being OOM-killed; Go does not read the memory limit itself.
 */
export function goRuntimeEnv(container: string, memoryLimit: string) {
  return [
    { name: 'GOMAXPROCS', valueFrom: { resourceFieldRef: { containerName: container, resource: 'limits.cpu', divisor: '1' } } },
    envValue('GOMEMLIMIT', Math.floor(quantityValue(memoryLimit) * 0.9)),
  ];
}

export function httpProbe(path: string, port: string, periodSeconds = 10, failureThreshold = 3) {
  return { httpGet: { path, port }, periodSeconds, failureThreshold, timeoutSeconds: 3 };
}

export function tcpProbe(port: string, periodSeconds = 10) {
  return { tcpSocket: { port }, periodSeconds, failureThreshold: 3, timeoutSeconds: 3 };
}

export function execProbe(command: string[], periodSeconds = 10) {
  return { exec: { command }, periodSeconds, failureThreshold: 3, timeoutSeconds: 5 };
}

export const tmpVolume = { name: 'tmp', emptyDir: {} };
export const tmpMount = { name: 'tmp', mountPath: '/tmp' };

export function envValue(name: string, value: string | number) {
  return { name, value: String(value) };
}

export function envSecret(name: string, secret: string, key: string, optional = false) {
  return { name, valueFrom: { secretKeyRef: { name: secret, key, ...(optional ? { optional: true } : {}) } } };
}

export const envPodName = { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } };

export function headlessService(meta: object, selector: Record<string, string>, ports: Array<{ name: string; port: number }>) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta,
    spec: {
      clusterIP: 'None',
      // Peers must find each other before they are ready (cluster formation).
      publishNotReadyAddresses: true,
      selector,
      ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name, protocol: 'TCP' })),
    },
  };
}

export function clusterService(meta: object, selector: Record<string, string>, ports: Array<{ name: string; port: number }>) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta,
    spec: {
      type: 'ClusterIP',
      selector,
      ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name, protocol: 'TCP' })),
    },
  };
}

export function pvcTemplate(name: string, storage: { size: string; storageClassName?: string }) {
  return {
    metadata: { name },
    spec: {
      accessModes: ['ReadWriteOnce'],
      ...(storage.storageClassName ? { storageClassName: storage.storageClassName } : {}),
      resources: { requests: { storage: storage.size } },
    },
  };
}
