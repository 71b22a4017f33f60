import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiError } from './errors.js';

/**
 * Bearer-token check for the admin routes. Both sides are hashed first so the comparison is
 * constant-time whatever the lengths (timingSafeEqual needs equal lengths, and comparing lengths
 * first would leak the token's length).
 */
export function createBearerCheck(token: string | null): ((authorization: string | undefined) => void) | null {
  if (token === null || token === '') return null;
  const expected = createHash('sha256').update(token).digest();
  return (authorization) => {
    const match = authorization === undefined ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    if (match === null) {
      throw new ApiError('AISFLOW_ERR_API_UNAUTHORIZED', 'this route needs an "Authorization: Bearer <token>" header');
    }
    const given = createHash('sha256').update(match[1]!).digest();
    if (!timingSafeEqual(given, expected)) {
      throw new ApiError('AISFLOW_ERR_API_FORBIDDEN', 'the bearer token is not accepted');
    }
  };
}
