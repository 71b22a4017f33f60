import { evaluate } from '@marcbachmann/cel-js';

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  default?: unknown;
  'x-kubernetes-validations'?: Array<{ rule: string; message: string }>;
}

export interface CelViolation {
  path: string;
  rule: string;
  message: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Applies the schema's `default`s the way the API server does (structural defaulting: a missing
 * property with a default is filled, then its children are visited).
 */
export function applyStructuralDefaults(schema: SchemaNode, value: unknown): unknown {
  if (schema.type === 'object' && isObject(value)) {
    const out: Record<string, unknown> = { ...value };
    for (const [key, child] of Object.entries(schema.properties ?? {})) {
      if (out[key] === undefined && child.default !== undefined) out[key] = structuredClone(child.default);
      if (out[key] !== undefined) out[key] = applyStructuralDefaults(child, out[key]);
    }
    return out;
  }
  if (schema.type === 'array' && Array.isArray(value) && schema.items) {
    return value.map((v) => applyStructuralDefaults(schema.items!, v));
  }
  return value;
}

/**
 * Evaluates every `x-kubernetes-validations` rule of a CRD schema against a value, with the
 * API server's semantics for transition rules: a rule naming `oldSelf` runs only on updates and
 * only where the old object has a value at the same path (lists are matched by index here; our
 * transition rules sit on objects and scalars only).
 */
export function celViolations(schema: SchemaNode, self: unknown, oldSelf?: unknown, path = ''): CelViolation[] {
  const out: CelViolation[] = [];
  if (self === undefined) return out;
  for (const r of schema['x-kubernetes-validations'] ?? []) {
    const transition = /\boldSelf\b/.test(r.rule);
    if (transition && oldSelf === undefined) continue;
    const ok = evaluate(r.rule, transition ? { self, oldSelf } : { self });
    if (ok !== true) out.push({ path: path || '.', rule: r.rule, message: r.message });
  }
  if (schema.type === 'object' && isObject(self)) {
    for (const [key, child] of Object.entries(schema.properties ?? {})) {
      const old = isObject(oldSelf) ? oldSelf[key] : undefined;
      out.push(...celViolations(child, self[key], old, `${path}.${key}`));
    }
  }
  if (schema.type === 'array' && Array.isArray(self) && schema.items) {
    self.forEach((item, i) => {
      const old = Array.isArray(oldSelf) ? oldSelf[i] : undefined;
      out.push(...celViolations(schema.items!, item, old, `${path}[${i}]`));
    });
  }
  return out;
}
