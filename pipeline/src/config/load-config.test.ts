import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load-config.js';

const Schema = Type.Object({
  AISFLOW_PARTITIONS: Type.Integer({ minimum: 1, maximum: 4096, default: 64 }),
  AISFLOW_NATS_URL: Type.String({ default: 'nats://127.0.0.1:4222' }),
  AISFLOW_DEBUG: Type.Boolean({ default: false }),
});

describe('loadConfig', () => {
  it('fills defaults and converts strings', () => {
    const config = loadConfig(Schema, { AISFLOW_PARTITIONS: '8', AISFLOW_DEBUG: 'true' });
    expect(config).toEqual({ AISFLOW_PARTITIONS: 8, AISFLOW_NATS_URL: 'nats://127.0.0.1:4222', AISFLOW_DEBUG: true });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names every bad variable at once', () => {
    try {
      loadConfig(Schema, { AISFLOW_PARTITIONS: 'lots', AISFLOW_PARTITINOS: '3' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toContain('AISFLOW_PARTITIONS');
      expect(problems).toContain('"lots"');
      expect(problems).toContain('AISFLOW_PARTITINOS: not a setting');
      expect((err as ConfigError).code).toBe('AISFLOW_ERR_CONFIG_INVALID');
    }
  });

  it('rejects out-of-range numbers', () => {
    expect(() => loadConfig(Schema, { AISFLOW_PARTITIONS: '0' })).toThrow(/AISFLOW_PARTITIONS/);
  });
});
