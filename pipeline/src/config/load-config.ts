import type { Static, TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AisflowError } from '../shared/errors.js';

export class ConfigError extends AisflowError {
  constructor(
    message: string,
    /** One entry per bad variable, each naming it. */
    readonly problems: readonly string[],
  ) {
    super('AISFLOW_ERR_CONFIG_INVALID', message);
  }
}

/**
 * Reads the variables a schema names from `env`, converts strings to the schema's types, fills
 * defaults, and validates. Every bad variable is reported at once, by name; the result is frozen.
 * Unknown AISFLOW_* variables are reported too: a typo must not silently fall back to a default.
 */
export function loadConfig<T extends TObject>(
  schema: T,
  env: Record<string, string | undefined>,
  options: { prefix?: string; allowUnknown?: readonly string[] } = {},
): Readonly<Static<T>> {
  const prefix = options.prefix ?? 'AISFLOW_';
  const known = new Set(Object.keys(schema.properties));
  const input: Record<string, unknown> = {};
  for (const name of known) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') input[name] = raw;
  }

  const problems: string[] = [];
  const allowed = new Set(options.allowUnknown ?? []);
  for (const name of Object.keys(env)) {
    if (name.startsWith(prefix) && !known.has(name) && !allowed.has(name)) {
      problems.push(`${name}: not a setting of this process (known: ${[...known].sort().join(', ')})`);
    }
  }

  const converted = Value.Convert(schema, Value.Default(schema, input));
  for (const error of Value.Errors(schema, converted)) {
    const name = error.path.replace(/^\//, '') || '(root)';
    const given = name in input ? ` (got ${JSON.stringify(input[name])})` : '';
    problems.push(`${name}: ${error.message}${given}`);
  }
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`, problems);
  }
  return Object.freeze(converted as Static<T>);
}
