import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fnv1a64, recordKey, toRecord } from './record.js';

/** Reference FNV-1a 64 with BigInt: the 32-bit-halves version must agree with it. */
function fnvBig(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i) & 0xff);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

describe('fnv1a64', () => {
  it.each([
    ['', 'cbf29ce484222325'],
    ['a', 'af63dc4c8601ec8c'],
    ['foobar', '85944171f73967e8'],
  ])('published test vector %j', (input, expected) => {
    expect(fnv1a64(input)).toBe(expected);
  });

  it('agrees with a BigInt reference on many payloads', () => {
    for (let i = 0; i < 500; i++) {
      const text = createHash('sha1').update(String(i)).digest('base64').repeat(1 + (i % 4));
      expect(fnv1a64(text)).toBe(fnvBig(text));
    }
  });
});

describe('recordKey', () => {
  it.each([0, 1, 2, 5, 9, 10, -1, 2.5])('is the FNV-1a of "payload,fillBits" (fill bits %d)', (fill) => {
    for (const payload of ['', '13aEOK?P00PD2wVMdLDRhgvL289?', '55NBjP01mtGIL@CW;SM<D60P5Ld000000000000P0`<3557l0<50@kk@K5h@00000000000']) {
      expect(recordKey(payload, fill)).toBe(fnvBig(`${payload},${fill}`));
    }
  });
});

describe('toRecord', () => {
  it('keys a report by payload and fill bits only', () => {
    const message = { type: 1, repeat: 0, mmsi: 244670000 };
    const meta = {
      source: 'rx1',
      receivedAt: 1_700_000_000_000,
      timeFromTagBlock: false,
      talker: 'AI',
      formatter: 'VDM' as const,
      channel: 'A',
      raw: ['!AIVDM,1,1,,A,13aEOK?P00PD2wVMdLDRhgvL289?,0*26'],
      payload: '13aEOK?P00PD2wVMdLDRhgvL289?',
      fillBits: 0,
    };
    const a = toRecord(message, meta);
    const b = toRecord(message, { ...meta, source: 'rx2', channel: 'B', receivedAt: 1 });
    expect(a).toEqual({ v: 1, key: recordKey(meta.payload, 0), src: 'rx1', rx: 1_700_000_000_000, mmsi: 244670000, type: 1, msg: message });
    expect(b.key).toBe(a.key);
    expect(toRecord(message, { ...meta, fillBits: 2 }).key).not.toBe(a.key);
  });
});
