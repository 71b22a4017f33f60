import { describe, expect, it } from 'vitest';
import { createBearerCheck } from './auth.js';

describe('createBearerCheck', () => {
  it('is null (routes disabled) without a token', () => {
    expect(createBearerCheck(null)).toBeNull();
    expect(createBearerCheck('')).toBeNull();
  });

  it('accepts the token, 401s a missing or malformed header, 403s a wrong token of any length', () => {
    const check = createBearerCheck('s3cret-token')!;
    expect(() => check('Bearer s3cret-token')).not.toThrow();
    expect(() => check('bearer   s3cret-token')).not.toThrow();
    for (const header of [undefined, '', 'Basic abc', 'Bearer', 's3cret-token']) {
      expect(() => check(header)).toThrow(expect.objectContaining({ code: 'AISFLOW_ERR_API_UNAUTHORIZED' }));
    }
    for (const header of ['Bearer s3cret-tokeN', 'Bearer s', 'Bearer s3cret-token-and-more']) {
      expect(() => check(header)).toThrow(expect.objectContaining({ code: 'AISFLOW_ERR_API_FORBIDDEN' }));
    }
  });
});
