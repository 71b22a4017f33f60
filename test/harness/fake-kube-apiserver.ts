import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';

/**
 * A loopback stand-in for kube-apiserver, good enough to drive the operator through the real
 * @kubernetes/client-node HTTP calls (there is no real API server on this machine; kind/k3d e2e
 * lives in scripts/e2e/kind.sh for people with Docker). It keeps objects with resourceVersion,
 * generation, uid and creationTimestamp; answers discovery; lists with equality label
 * selectors; returns 409 on stale writes and on create of an existing name; implements
 * server-side apply closely enough for one field manager (fields it stops applying are removed
 * unless someone else changed them since), JSON merge patch, status subresources, finalizers
 * with deletionTimestamp, owner-reference garbage collection, and watches that a test can expire
 * with a 410. Every request is recorded as { verb, path } for exact-sequence assertions.
 *
 * Not modelled: defaulting, admission/CEL (tested offline), field ownership beyond one apply
 * manager, strategic merge patch, pagination.
 */

interface ResourceType {
  group: string; // '' for core
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** has a /status subresource: main writes keep status, /status writes keep the rest */
  status: boolean;
}

const TYPES: ResourceType[] = [
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true, status: false },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true, status: false },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true, status: true },
  { group: '', version: 'v1', kind: 'Event', plural: 'events', namespaced: true, status: false },
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true, status: true },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true, status: true },
  { group: 'apps', version: 'v1', kind: 'StatefulSet', plural: 'statefulsets', namespaced: true, status: true },
  { group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', namespaced: true, status: true },
  { group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', namespaced: true, status: true },
  { group: 'policy', version: 'v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', namespaced: true, status: true },
  { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true, status: false },
  { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', namespaced: true, status: false },
  { group: 'monitoring.coreos.com', version: 'v1', kind: 'ServiceMonitor', plural: 'servicemonitors', namespaced: true, status: false },
  { group: 'monitoring.coreos.com', version: 'v1', kind: 'PrometheusRule', plural: 'prometheusrules', namespaced: true, status: false },
  { group: 'keda.sh', version: 'v1alpha1', kind: 'ScaledObject', plural: 'scaledobjects', namespaced: true, status: true },
  { group: 'aisflow.io', version: 'v1alpha1', kind: 'AisPipeline', plural: 'aispipelines', namespaced: true, status: true },
];

export interface RecordedRequest {
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'discovery';
  /** path without the query string, e.g. /apis/apps/v1/namespaces/ais/deployments/x */
  path: string;
  /** API group ('' = core), resource (with /status when a subresource) — for RBAC checks */
  group: string;
  resource: string;
  /** the request's field manager (SSA / writes), when given */
  fieldManager?: string;
}

type Obj = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown> & { name: string; namespace?: string; resourceVersion?: string };
};

interface WatchClient {
  type: ResourceType;
  namespace: string | undefined;
  selector: Array<[string, string]>;
  res: ServerResponse;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);

function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Deep merge for apply: objects merge key by key; lists and scalars replace. */
function applyMerge(live: unknown, applied: unknown): unknown {
  if (isObject(live) && isObject(applied)) {
    const out: Record<string, unknown> = { ...live };
    for (const [k, v] of Object.entries(applied)) out[k] = applyMerge(live[k], v);
    return out;
  }
  return clone(applied);
}

/**
 * Removes fields present in `before` but not in `after` (what the manager stopped applying),
 * unless changed since or still applied by another manager (shared ownership, as in real SSA).
 */
function removeDropped(live: Record<string, unknown>, before: unknown, after: unknown, others: unknown[]): void {
  if (!isObject(before)) return;
  for (const [k, v] of Object.entries(before)) {
    const othersAt = others.map((o) => (isObject(o) ? o[k] : undefined)).filter((o) => o !== undefined);
    if (!isObject(after) || !(k in after)) {
      if (othersAt.length === 0 && JSON.stringify(live[k]) === JSON.stringify(v)) delete live[k];
    } else if (isObject(v) && isObject(live[k])) {
      removeDropped(live[k] as Record<string, unknown>, v, after[k], othersAt);
    }
  }
}

/** `{spec: {replicas: 2}}` → `{'f:spec': {'f:replicas': {}}}` (managedFields' FieldsV1, lists as leaves). */
function toFieldsV1(v: unknown): Record<string, unknown> {
  if (!isObject(v)) return {};
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [`f:${k}`, isObject(x) ? toFieldsV1(x) : {}]));
}

const specOf = (o: Obj) => {
  const { metadata: _m, status: _s, ...rest } = o;
  return JSON.stringify(rest);
};

export class FakeKubeApiServer {
  readonly requests: RecordedRequest[] = [];
  private readonly store = new Map<string, Obj>();
  private readonly applied = new Map<string, unknown>();
  private readonly history: Array<{ rv: number; type: string; obj: Obj; rt: ResourceType }> = [];
  private readonly watchers = new Set<WatchClient>();
  private rv = 100;
  private compactedBelow = 0;
  private server?: Server;
  private readonly missingGroups: Set<string>;
  /** Requests answered with an injected error once: `${verb} ${path}` → status code. */
  private readonly failures = new Map<string, number>();

  constructor(options: { missingGroups?: string[] } = {}) {
    this.missingGroups = new Set(options.missingGroups ?? []);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => this.send(res, 500, this.status(500, 'InternalError', String(err))));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Forget recorded requests (between test phases). */
  clearRequests(): void {
    this.requests.length = 0;
  }

  /** The recorded calls as `VERB path`, minus discovery (client-side cached, not behaviour). */
  calls(filter: (r: RecordedRequest) => boolean = () => true): string[] {
    return this.requests.filter((r) => r.verb !== 'discovery' && filter(r)).map((r) => `${r.verb.toUpperCase()} ${r.path}`);
  }

  /** Answer the next `verb path` with this HTTP status (e.g. 500 to simulate a flaky server). */
  failOnce(verb: RecordedRequest['verb'], path: string, code: number): void {
    this.failures.set(`${verb} ${path}`, code);
  }

  /** Ends every open watch with a 410 Gone event and forgets history, as etcd compaction does. */
  expireWatches(): void {
    this.compactedBelow = this.rv; // a watch from the current version (a fresh list) is fine
    for (const w of this.watchers) {
      w.res.write(`${JSON.stringify({ type: 'ERROR', object: this.status(410, 'Expired', 'too old resource version') })}\n`);
      w.res.end();
    }
    this.watchers.clear();
  }

  watchCount(): number {
    return this.watchers.size;
  }

  // ---- direct access for tests (no request recorded) -----------------------------------------

  get(kind: string, namespace: string, name: string): Obj | undefined {
    const o = this.store.get(this.key(this.typeOfKind(kind), namespace, name));
    return o ? clone(o) : undefined;
  }

  list(kind: string, namespace?: string): Obj[] {
    const t = this.typeOfKind(kind);
    return [...this.store.values()]
      .filter((o) => o.kind === t.kind && (namespace === undefined || o.metadata.namespace === namespace))
      .map(clone)
      .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  }

  /** Create or overwrite an object as another actor would (users, controllers). */
  put(obj: object): Obj {
    const o = clone(obj) as Obj;
    const t = this.typeOfKind(o.kind);
    const k = this.key(t, o.metadata.namespace, o.metadata.name);
    const prev = this.store.get(k);
    return this.write(t, k, o, prev);
  }

  /** Merge-patch an object as another actor would (e.g. kubectl edit, a controller's status). */
  patch(kind: string, namespace: string, name: string, patch: Record<string, unknown>): Obj {
    const t = this.typeOfKind(kind);
    const k = this.key(t, namespace, name);
    const prev = this.store.get(k);
    if (!prev) throw new Error(`no ${kind} ${namespace}/${name}`);
    return this.write(t, k, mergePatch(prev, patch) as Obj, prev);
  }

  // ---- HTTP -----------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const body = await this.readBody(req);
    const parts = path.split('/').filter(Boolean);

    // discovery: /api/v1, /apis/<g>/<v>
    if ((parts[0] === 'api' && parts.length === 2) || (parts[0] === 'apis' && parts.length === 3)) {
      const group = parts[0] === 'api' ? '' : parts[1]!;
      const version = parts[parts.length - 1]!;
      this.requests.push({ verb: 'discovery', path, group, resource: '' });
      if (this.missingGroups.has(group)) return this.send(res, 404, this.status(404, 'NotFound', 'the server could not find the requested resource'));
      const resources = TYPES.filter((t) => t.group === group && t.version === version).flatMap((t) => [
        { name: t.plural, singularName: t.kind.toLowerCase(), namespaced: t.namespaced, kind: t.kind, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
        ...(t.status ? [{ name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] }] : []),
      ]);
      if (resources.length === 0) return this.send(res, 404, this.status(404, 'NotFound', 'the server could not find the requested resource'));
      return this.send(res, 200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources });
    }

    const base = parts[0] === 'api' ? 2 : 3;
    const group = parts[0] === 'api' ? '' : (parts[1] ?? '');
    const version = parts[base - 1];
    let rest = parts.slice(base);
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [plural, name, sub] = rest;
    const t = TYPES.find((x) => x.group === group && x.version === version && x.plural === plural);
    const method = req.method ?? 'GET';
    const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    const verb: RecordedRequest['verb'] =
      method === 'GET' ? (name ? 'get' : watch ? 'watch' : 'list') : method === 'POST' ? 'create' : method === 'PUT' ? 'update' : method === 'PATCH' ? 'patch' : 'delete';
    const fieldManager = url.searchParams.get('fieldManager') ?? undefined;
    this.requests.push({ verb, path, group, resource: sub ? `${plural}/${sub}` : (plural ?? ''), ...(fieldManager ? { fieldManager } : {}) });

    const injected = this.failures.get(`${verb} ${path}`);
    if (injected !== undefined) {
      this.failures.delete(`${verb} ${path}`);
      return this.send(res, injected, this.status(injected, 'InternalError', 'injected failure'));
    }
    if (!t || this.missingGroups.has(group)) return this.send(res, 404, this.status(404, 'NotFound', `the server could not find the requested resource (${path})`));

    const selector = this.parseSelector(url.searchParams.get('labelSelector'));
    if (verb === 'list') {
      const items = [...this.store.values()]
        .filter((o) => o.kind === t.kind && (namespace === undefined || o.metadata.namespace === namespace) && this.matches(o, selector))
        .sort((a, b) => (`${a.metadata.namespace}/${a.metadata.name}` < `${b.metadata.namespace}/${b.metadata.name}` ? -1 : 1));
      return this.send(res, 200, {
        apiVersion: group ? `${group}/${version}` : version,
        kind: `${t.kind}List`,
        metadata: { resourceVersion: String(this.rv) },
        items,
      });
    }
    if (verb === 'watch') return this.startWatch(t, namespace, selector, url.searchParams.get('resourceVersion'), res);

    const k = this.key(t, namespace, name ?? '');
    const live = this.store.get(k);
    if (verb === 'get') {
      if (!live) return this.send(res, 404, this.notFound(t, name));
      return this.send(res, 200, live);
    }
    if (verb === 'delete') {
      if (!live) return this.send(res, 404, this.notFound(t, name));
      return this.send(res, 200, this.remove(t, k, live));
    }

    const input = this.parseBody(body, req.headers['content-type']);
    if (verb === 'create') {
      if (!isObject(input)) return this.send(res, 400, this.status(400, 'BadRequest', 'no body'));
      const o = input as Obj;
      const k2 = this.key(t, namespace, o.metadata?.name ?? '');
      if (this.store.has(k2)) return this.send(res, 409, this.status(409, 'AlreadyExists', `${t.plural} "${o.metadata.name}" already exists`));
      o.metadata = { ...o.metadata, namespace };
      return this.send(res, 201, this.write(t, k2, o, undefined));
    }
    if (verb === 'update') {
      if (!live) return this.send(res, 404, this.notFound(t, name));
      const o = input as Obj;
      if (o.metadata?.resourceVersion && o.metadata.resourceVersion !== live.metadata.resourceVersion) {
        return this.send(res, 409, this.status(409, 'Conflict', `Operation cannot be fulfilled on ${t.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`));
      }
      const next: Obj = sub === 'status' ? { ...clone(live), status: o.status } : t.status ? { ...o, status: live.status } : o;
      return this.send(res, 200, this.write(t, k, next, live));
    }
    // PATCH
    const ct = String(req.headers['content-type'] ?? '');
    if (ct.includes('apply-patch')) {
      if (!fieldManager) return this.send(res, 422, this.status(422, 'Invalid', 'fieldManager is required for apply patch'));
      const applied = input as Obj;
      const ak = `${k}|${fieldManager}`;
      const before = this.applied.get(ak);
      let next: Obj;
      if (!live) {
        next = clone(applied);
        next.metadata = { ...next.metadata, namespace };
      } else {
        const base0 = clone(live) as Record<string, unknown>;
        const others = [...this.applied.entries()].filter(([key]) => key.startsWith(`${k}|`) && key !== ak).map(([, v]) => v);
        removeDropped(base0, before, applied, others);
        next = applyMerge(base0, t.status && sub !== 'status' ? { ...applied, status: undefined } : applied) as Obj;
        if (next.status === undefined) delete next.status;
        if (t.status && sub !== 'status') next.status = live.status;
      }
      this.applied.set(ak, clone(applied));
      if (next.metadata.managedFields) delete next.metadata.managedFields;
      return this.send(res, live ? 200 : 201, this.write(t, k, next, live));
    }
    if (!live) return this.send(res, 404, this.notFound(t, name));
    const merged = mergePatch(live, input) as Obj;
    const next = sub === 'status' ? { ...clone(live), status: merged.status } : t.status ? { ...merged, status: live.status } : merged;
    return this.send(res, 200, this.write(t, k, next as Obj, live));
  }

  // ---- internals ------------------------------------------------------------------------------

  private write(t: ResourceType, k: string, next: Obj, prev: Obj | undefined): Obj {
    const now = new Date().toISOString();
    const meta = next.metadata;
    meta.uid = prev?.metadata.uid ?? meta.uid ?? randomUUID();
    meta.creationTimestamp = prev?.metadata.creationTimestamp ?? now;
    meta.resourceVersion = String(++this.rv);
    meta.generation = prev ? (specOf(prev) === specOf(next) ? (prev.metadata.generation as number) : (prev.metadata.generation as number) + 1) : 1;
    if (prev?.metadata.deletionTimestamp) meta.deletionTimestamp = prev.metadata.deletionTimestamp;
    next.apiVersion = t.group ? `${t.group}/${t.version}` : t.version;
    // managedFields for the apply managers (enough for "do we still own spec.replicas?").
    const managers = [...this.applied.entries()].filter(([key]) => key.startsWith(`${k}|`));
    if (managers.length > 0) {
      meta.managedFields = managers.map(([key, applied]) => {
        const { apiVersion: _a, kind: _k, metadata: _m, ...fields } = applied as Obj;
        return { manager: key.slice(k.length + 1), operation: 'Apply', apiVersion: next.apiVersion, fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(fields) };
      });
    } else delete meta.managedFields;
    next.kind = t.kind;
    // A deleted object whose last finalizer went away is gone.
    if (meta.deletionTimestamp && !((meta.finalizers as string[] | undefined)?.length)) {
      this.store.set(k, next);
      return this.remove(t, k, next);
    }
    this.store.set(k, next);
    this.emit(prev ? 'MODIFIED' : 'ADDED', next, t);
    return clone(next);
  }

  private remove(t: ResourceType, k: string, live: Obj): Obj {
    if ((live.metadata.finalizers as string[] | undefined)?.length) {
      if (!live.metadata.deletionTimestamp) {
        live.metadata.deletionTimestamp = new Date().toISOString();
        live.metadata.resourceVersion = String(++this.rv);
        this.emit('MODIFIED', live, t);
      }
      return clone(live);
    }
    this.store.delete(k);
    for (const key of [...this.applied.keys()]) if (key.startsWith(`${k}|`)) this.applied.delete(key);
    live.metadata.resourceVersion = String(++this.rv);
    this.emit('DELETED', live, t);
    // Garbage collection: dependents whose owner is gone (background propagation).
    const uid = live.metadata.uid;
    for (const [ck, child] of [...this.store.entries()]) {
      const owners = (child.metadata.ownerReferences as Array<{ uid: string }> | undefined) ?? [];
      if (owners.some((o) => o.uid === uid)) this.remove(this.typeOfKind(child.kind), ck, child);
    }
    return clone(live);
  }

  private emit(type: string, obj: Obj, rt: ResourceType): void {
    const snapshot = clone(obj);
    this.history.push({ rv: Number(obj.metadata.resourceVersion), type, obj: snapshot, rt });
    for (const w of this.watchers) {
      if (w.type !== rt) continue;
      if (w.namespace !== undefined && snapshot.metadata.namespace !== w.namespace) continue;
      if (!this.matches(snapshot, w.selector)) continue;
      w.res.write(`${JSON.stringify({ type, object: snapshot })}\n`);
    }
  }

  private startWatch(t: ResourceType, namespace: string | undefined, selector: Array<[string, string]>, fromRv: string | null, res: ServerResponse): void {
    if (fromRv && Number(fromRv) < this.compactedBelow) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`${JSON.stringify({ type: 'ERROR', object: this.status(410, 'Expired', 'too old resource version') })}\n`);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders(); // the client awaits the headers before it reads events
    const client: WatchClient = { type: t, namespace, selector, res };
    if (fromRv) {
      for (const h of this.history) {
        if (h.rv > Number(fromRv) && h.rt === t && (namespace === undefined || h.obj.metadata.namespace === namespace) && this.matches(h.obj, selector)) {
          res.write(`${JSON.stringify({ type: h.type, object: h.obj })}\n`);
        }
      }
    }
    this.watchers.add(client);
    res.on('close', () => this.watchers.delete(client));
  }

  private matches(o: Obj, selector: Array<[string, string]>): boolean {
    const labels = (o.metadata.labels as Record<string, string> | undefined) ?? {};
    return selector.every(([k, v]) => labels[k] === v);
  }

  private parseSelector(s: string | null): Array<[string, string]> {
    if (!s) return [];
    return s.split(',').map((term) => {
      const [k, v] = term.split('=');
      return [k!.trim(), (v ?? '').trim()];
    });
  }

  private key(t: ResourceType, namespace: string | undefined, name: string): string {
    return `${t.group}/${t.plural}/${namespace ?? ''}/${name}`;
  }

  private typeOfKind(kind: string): ResourceType {
    const t = TYPES.find((x) => x.kind === kind);
    if (!t) throw new Error(`fake API server: unknown kind ${kind}`);
    return t;
  }

  private notFound(t: ResourceType, name: string | undefined) {
    return { ...this.status(404, 'NotFound', `${t.plural} "${name}" not found`), details: { name, kind: t.plural } };
  }

  private status(code: number, reason: string, message: string) {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  }

  private parseBody(body: string, contentType: string | undefined): unknown {
    if (!body) return undefined;
    try {
      return JSON.parse(body);
    } catch {
      if (String(contentType).includes('yaml')) return parseYaml(body);
      throw new Error('unparseable body');
    }
  }

  private readBody(req: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
  }

  private send(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
}
