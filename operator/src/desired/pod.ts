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
