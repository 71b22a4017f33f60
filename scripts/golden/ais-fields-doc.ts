/**
 * Rewrites the generated part of docs/ais-fields.md (everything after the "Fields by message
 * type" heading's introduction) from the decoder's field tables. Run after changing a table:
 *   npx tsx scripts/golden/ais-fields-doc.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fieldTablesMarkdown, GENERATED_MARKER } from '../../pipeline/src/ais/field-docs.js';

const path = 'docs/ais-fields.md';
const text = readFileSync(path, 'utf8');
const at = text.indexOf(GENERATED_MARKER);
if (at < 0) throw new Error(`${path} has no "${GENERATED_MARKER}" line`);
writeFileSync(path, `${text.slice(0, at + GENERATED_MARKER.length)}\n\n${fieldTablesMarkdown()}`);
console.log(`${path}: field tables regenerated`);
