import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
  type V1Lease,
} from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type AisPipeline } from '../api/v1alpha1/aispipeline.schema.js';
import { FIELD_MANAGER } from '../desired/labels.js';
import { KubeApiError } from '../errors.js';

export type KubeObject = KubernetesObject & Record<string, unknown> & { metadata: NonNullable<KubernetesObject['metadata']> };

/** Plain JSON (client-node deserialises into model classes with Date fields). */
const plain = <T>(v: unknown): T => JSON.parse(JSON.stringify(v)) as T;

/** Turns client-node's ApiException (or a fetch error) into a KubeApiError with its HTTP status. */
async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    // client-node throws a plain Error when discovery lists the group but not the kind: the
    // kind is not installed, which is a 404 as far as we are concerned.
    const status = typeof code === 'number' ? code : /Unrecognized API version and kind/.test(String((err as Error).message)) ? 404 : 0;
    throw new KubeApiError(status, `${what}: ${status || (err as Error).message}`, { cause: err });
  }
}

/**
 * The operator's whole view of the Kubernetes API: a thin typed layer over client-node so the
 * reconciler reads as a sequence of intentions and the RBAC role can be checked against it.
 */
export class Kube {
  readonly objects: KubernetesObjectApi;
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;

  constructor(readonly kc: KubeConfig) {
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
  }

  /** A KubeConfig for a plain http(s) URL and optional bearer token (tests, out-of-cluster). */
  static forServer(server: string, token = 'test'): Kube {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server, skipTLSVerify: true }],
      users: [{ name: 'u', token }],
      contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
      currentContext: 'ctx',
    });
    return new Kube(kc);
  }

  async getPipeline(namespace: string, name: string): Promise<AisPipeline | undefined> {
    try {
      return plain<AisPipeline>(await call(`get ${PLURAL} ${namespace}/${name}`, () => this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name })));
    } catch (err) {
      if (err instanceof KubeApiError && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  async listPipelines(): Promise<{ items: AisPipeline[]; metadata?: { resourceVersion?: string } }> {
    return plain(await call(`list ${PLURAL}`, () => this.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })));
  }

  /** Writes metadata (finalizers) of the CR; 409 when it changed since it was read. */
  async replacePipeline(cr: AisPipeline): Promise<AisPipeline> {
    const { namespace, name } = cr.metadata;
    return plain(await call(`update ${PLURAL} ${namespace}/${name}`, () => this.custom.replaceNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: cr })));
  }

  /** Writes the status subresource; 409 when the CR changed since it was read. */
  async replaceStatus(cr: AisPipeline): Promise<AisPipeline> {
    const { namespace, name } = cr.metadata;
    return plain(await call(`update ${PLURAL}/status ${namespace}/${name}`, () => this.custom.replaceNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: cr })));
  }

  /** Objects of one kind carrying `selector` in a namespace; [] when the kind is not installed. */
  async list(apiVersion: string, kind: string, namespace: string, labelSelector: string): Promise<KubeObject[]> {
    try {
      const res = await call(`list ${kind}`, () => this.objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector));
      return plain<KubeObject[]>(res.items).map((o) => ({ ...o, apiVersion, kind }));
    } catch (err) {
      // A CRD-backed kind (KEDA, Prometheus Operator) that is not installed: nothing to list.
      if (err instanceof KubeApiError && err.statusCode === 404) return [];
      throw err;
    }
  }

  /** Server-side apply under the operator's field manager (or another), forcing ownership of the fields sent. */
  async apply(obj: KubeObject, fieldManager = FIELD_MANAGER): Promise<KubeObject> {
    return plain(
      await call(`apply ${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name}`, () =>
        this.objects.patch(structuredClone(obj), undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply),
      ),
    );
  }

  async delete(obj: KubeObject): Promise<void> {
    try {
      await call(`delete ${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name}`, () =>
        this.objects.delete({ apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace } }, undefined, undefined, undefined, undefined, 'Background'),
      );
    } catch (err) {
      if (err instanceof KubeApiError && err.statusCode === 404) return; // already gone
      throw err;
    }
  }

  async readSecretKey(namespace: string, name: string, key: string): Promise<string | undefined> {
    try {
      const s = await call(`get secret ${namespace}/${name}`, () => this.core.readNamespacedSecret({ namespace, name }));
      const v = s.data?.[key];
      return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
    } catch (err) {
      if (err instanceof KubeApiError && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  async createEvent(namespace: string, body: Record<string, unknown>): Promise<void> {
    await call('create event', () => this.core.createNamespacedEvent({ namespace, body: body as never }));
  }

  async readLease(namespace: string, name: string): Promise<V1Lease | undefined> {
    try {
      return await call(`get lease ${namespace}/${name}`, () => this.coordination.readNamespacedLease({ namespace, name }));
    } catch (err) {
      if (err instanceof KubeApiError && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  async createLease(namespace: string, body: V1Lease): Promise<V1Lease> {
    return call(`create lease ${namespace}`, () => this.coordination.createNamespacedLease({ namespace, body }));
  }

  async replaceLease(namespace: string, name: string, body: V1Lease): Promise<V1Lease> {
    return call(`update lease ${namespace}/${name}`, () => this.coordination.replaceNamespacedLease({ namespace, name, body }));
  }
}
