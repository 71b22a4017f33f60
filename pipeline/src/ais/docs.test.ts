import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fieldTablesMarkdown, GENERATED_MARKER } from './field-docs.js';
import { REJECT_REASONS, SKIP_REASONS } from './reasons.js';

// docs/ais-fields.md is the consumers' contract: it must list every reason and match the tables
// (fastify keeps its error docs in step the same way).
const doc = readFileSync(new URL('../../../docs/ais-fields.md', import.meta.url), 'utf8');

describe('docs/ais-fields.md', () => {
  it('documents every reject and skip reason', () => {
    for (const reason of [...REJECT_REASONS, ...SKIP_REASONS]) expect(doc, reason).toContain(`| \`${reason}\` |`);
  });

  it('carries the field tables generated from the decoder tables (npx tsx scripts/golden/ais-fields-doc.ts)', () => {
    const at = doc.indexOf(GENERATED_MARKER);
    expect(at).toBeGreaterThan(0);
    expect(doc.slice(at + GENERATED_MARKER.length).trim()).toBe(fieldTablesMarkdown().trim());
  });
});
