import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { statusOf } from '../../pipeline/src/api/errors.js';
import { ErrorCodes, type ErrorCode } from '../../pipeline/src/shared/errors.js';

/** fastify's errors test, for us: the catalogue and docs/errors.md list the same codes, statuses included. */
const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const rows = [...doc.matchAll(/^\| `(AISFLOW_ERR_[A-Z_]+)` \| ([0-9]{3}|-) \|/gm)].map((m) => ({ code: m[1]!, status: m[2]! }));

describe('docs/errors.md', () => {
  it('lists every code of the catalogue exactly once, and nothing else', () => {
    const documented = rows.map((r) => r.code);
    expect(new Set(documented).size).toBe(documented.length);
    expect([...documented].sort()).toEqual(Object.keys(ErrorCodes).sort());
  });

  it('gives each API-reachable code the HTTP status the API sends', () => {
    for (const { code, status } of rows) {
      if (status === '-') continue;
      expect({ code, status: Number(status) }).toEqual({ code, status: statusOf(code as ErrorCode) });
    }
    for (const code of Object.keys(ErrorCodes).filter((c) => c.startsWith('AISFLOW_ERR_API_'))) {
      expect(rows.find((r) => r.code === code)?.status, code).not.toBe('-');
    }
  });
});
