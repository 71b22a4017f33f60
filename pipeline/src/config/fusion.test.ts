import { describe, expect, it } from 'vitest';
import { defaultDecideSettings } from '../fusion/decide.js';
import { defaultTrustSettings } from '../fusion/trust.js';
import { decideSettingsFrom, FusionEnv, trustSettingsFrom } from './fusion.js';
import { ConfigError, loadConfig } from './load-config.js';

describe('fusion configuration', () => {
  it('fills every default and maps to the decision and trust settings', () => {
    const c = loadConfig(FusionEnv, {});
    expect(c.AISFLOW_HTTP_PORT).toBe(9465);
    expect(c.AISFLOW_FUSION_LRU_SIZE).toBe(300_000);
    expect(decideSettingsFrom(c, defaultDecideSettings)).toEqual(defaultDecideSettings);
    expect(trustSettingsFrom(c, defaultTrustSettings)).toEqual(defaultTrustSettings);
  });

  it('converts strings and names every bad variable at once', () => {
    const c = loadConfig(FusionEnv, { AISFLOW_FUSION_MAX_SPEED_KN: '45.5', AISFLOW_MEMBER_ID: 'fusion-0' });
    expect(c.AISFLOW_FUSION_MAX_SPEED_KN).toBe(45.5);
    try {
      loadConfig(FusionEnv, { AISFLOW_FUSION_LRU_SIZE: '0', AISFLOW_MEMBER_ID: 'pod/0', AISFLOW_FUSION_HEARBEAT_MS: '5' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toMatch(/AISFLOW_FUSION_LRU_SIZE/);
      expect(problems).toMatch(/AISFLOW_MEMBER_ID/);
      expect(problems).toMatch(/AISFLOW_FUSION_HEARBEAT_MS: not a setting/);
    }
  });
});
