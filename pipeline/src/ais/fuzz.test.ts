import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../shared/clock.js';
import { createDecoder } from './decoder.js';
import { REJECT_REASONS, SKIP_REASONS } from './reasons.js';
import { prng } from './test-helpers.js';
import type { AisDecoder, DecodeOutcome } from './types.js';

/**
 * Property tests over hostile input: random bytes, truncated lines, flipped bits, huge lines,
 * invalid UTF-8. For every input the decoder must return (never throw) exactly one outcome,
 * every reject must carry a known reason, a detail and its raw text, and the partial-message
 * state must stay within its bound. Seeded, so a failure reproduces.
 */

const BOUND = 16;
const real = readFileSync(new URL('../../data/ais/exactearth-tagblock.nmea', import.meta.url), 'latin1')
  .split('\n')
  .concat(readFileSync(new URL('../../data/ais/libais-test.aivdm', import.meta.url), 'latin1').split('\n'))
  .filter((l) => l.length > 0);

/** Plain checks (not expect(), which is slow per call over thousands of inputs); throws on a violation. */
function check(d: AisDecoder, o: DecodeOutcome, maxLine: number): void {
  const fail = (why: string) => {
    throw new Error(`${why}: ${JSON.stringify(o).slice(0, 300)}`);
  };
  if (o.kind === 'message') {
    if (!(o.message.type >= 1 && o.message.type <= 27)) fail('message type outside 1-27');
  } else if (o.kind === 'skip') {
    if (!SKIP_REASONS.includes(o.reason)) fail('unknown skip reason');
  } else if (o.kind === 'reject') {
    if (!REJECT_REASONS.includes(o.reason)) fail('unknown reject reason');
    if (o.detail.length === 0) fail('reject without detail');
    if (typeof o.raw !== 'string') fail('reject without raw text');
    // a reject's raw text is one line, or the lines of one multipart message (at most 9)
    if (o.raw.length > 9 * (maxLine + 1)) fail('raw text longer than the line bound');
  } else if (o.kind !== 'fragment') {
    fail('unknown outcome');
  }
  if (d.openFragments > BOUND) fail(`${d.openFragments} open fragments, bound ${BOUND}`);
}

function run(lines: Iterable<string | Uint8Array>, seed: number): Record<string, number> {
  const clock = new ManualClock(0);
  const d = createDecoder({ clock, maxOpenFragments: BOUND, fragmentTimeoutMs: 1_000, maxLineLength: 4096 });
  const counts: Record<string, number> = {};
  const rnd = prng(seed);
  for (const line of lines) {
    let o: DecodeOutcome;
    try {
      o = d.decode(line);
    } catch (err) {
      throw new Error(`decode threw on ${JSON.stringify(typeof line === 'string' ? line.slice(0, 200) : Buffer.from(line).toString('latin1').slice(0, 200))}: ${String(err)}`);
    }
    check(d, o, 4096);
    const key = o.kind === 'reject' || o.kind === 'skip' ? o.reason : o.kind;
    counts[key] = (counts[key] ?? 0) + 1;
    clock.advance(Math.floor(rnd() * 50));
    for (const e of d.expire()) check(d, e, 4096);
  }
  for (const e of d.flush()) check(d, e, 4096);
  expect(d.openFragments).toBe(0);
  return counts;
}

describe('decoder under hostile input', () => {
  it('random bytes (including invalid UTF-8 and NULs) never throw and always get a reason', () => {
    const rnd = prng(1);
    const lines: Uint8Array[] = [];
    for (let i = 0; i < 3000; i++) {
      const len = 12 + Math.floor(rnd() * 120);
      const bytes = new Uint8Array(len);
      for (let j = 0; j < len; j++) bytes[j] = Math.floor(rnd() * 256);
      // half of them look like the start of a sentence, so the parser goes deeper
      if (i % 2 === 0) bytes.set(Buffer.from(['!AIVDM,', '\\s:x*00\\!', '!ABVDO,2,1,'][i % 3]!), 0);
      lines.push(bytes);
    }
    const counts = run(lines, 2);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(3000);
  });

  it('truncated real lines and flipped bits are rejected or decoded, never lost silently', () => {
    const rnd = prng(3);
    const lines: string[] = [];
    for (let i = 0; i < 4000; i++) {
      const l = real[Math.floor(rnd() * real.length)]!;
      const r = rnd();
      if (r < 0.3) lines.push(l.slice(0, Math.floor(rnd() * l.length)));
      else if (r < 0.7) {
        const at = Math.floor(rnd() * l.length);
        const flipped = String.fromCharCode(l.charCodeAt(at) ^ (1 << Math.floor(rnd() * 8)));
        lines.push(l.slice(0, at) + flipped + l.slice(at + 1));
      } else lines.push(l);
    }
    const counts = run(lines, 4);
    // checksums catch flipped bits: many rejects, and the intact lines still decode
    expect(counts.checksum_mismatch ?? 0).toBeGreaterThan(100);
    expect(counts.message ?? 0).toBeGreaterThan(500);
  });

  it('100 kB lines are rejected as line_too_long with the raw text cut to the limit', () => {
    const huge = '!AIVDM,1,1,,A,' + '1'.repeat(100_000) + ',0*00';
    const counts = run([huge, Buffer.from(huge), '\\' + 's:'.repeat(50_000), Buffer.alloc(100_000, 0xff)], 5);
    expect(counts.line_too_long).toBe(4);
  });

  it('open fragments stay within the bound under a flood of unfinished multipart messages', () => {
    const lines: string[] = [];
    const base = '!AIVDM,2,1,0,B,53c:Bh02@a6q09<f2219M>3OJ22222222222220o1H=334nh03S0EEiD,0*4F';
    for (let i = 0; i < 2000; i++) lines.push(`\\s:rx${i}*${xorHex(`s:rx${i}`)}\\${base}`);
    const counts = run(lines, 6);
    expect(counts.fragment).toBe(2000);
  });
});

function xorHex(s: string): string {
  let x = 0;
  for (let i = 0; i < s.length; i++) x ^= s.charCodeAt(i);
  return x.toString(16).toUpperCase().padStart(2, '0');
}
