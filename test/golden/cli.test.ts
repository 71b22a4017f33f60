import { readFileSync, createReadStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatSummary, runDecode } from '../../pipeline/src/bin/decode.js';

const opts = { source: '', meta: false, rejects: true, summary: true, fragmentTimeoutMs: 5000, maxOpenFragments: 1024, maxLineLength: 4096 };

async function run(file: string) {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const summary = await runDecode(createReadStream(file), out, opts);
  out.end();
  return { summary, lines: Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('aisflow decode', () => {
  it('prints one JSON object per message and per reject, and counts lines, types and reasons', async () => {
    const file = 'pipeline/data/ais/libais-test.aivdm';
    const { summary, lines } = await run(file);
    const messages = lines.filter((l) => 'type' in l);
    const rejects = lines.filter((l) => 'reject' in l);
    expect(summary.lines).toBe(readFileSync(file, 'latin1').split('\n').length - 1);
    expect(messages.length).toBe(summary.messages);
    expect(Object.values(summary.byType).reduce((a, b) => a + b, 0)).toBe(summary.messages);
    expect(rejects.length).toBe(Object.values(summary.rejects).reduce((a, b) => a + b, 0));
    // this capture has every type 1-27 and 17 lines of the undefined type 28
    expect(Object.keys(summary.byType).map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 27 }, (_, i) => i + 1));
    expect(summary.rejects.unknown_type).toBe(17);
    expect(summary.skips.comment).toBeGreaterThan(0);
    const text = formatSummary(summary);
    expect(text).toContain(`messages ${summary.messages}`);
    expect(text).toContain('unknown_type');
  });
});
