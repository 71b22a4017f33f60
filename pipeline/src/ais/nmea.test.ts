import { describe, expect, it } from 'vitest';
import { ManualClock } from '../shared/clock.js';
import { BitBuffer } from './armor.js';
import { createDecoder } from './decoder.js';
import { parseLine } from './nmea.js';
import { sentence, tagBlock } from './test-helpers.js';
import type { DecodeOutcome } from './types.js';

const POS = '13HOI:0P0000VOHLCnHQKwvL05Ip'; // type 1, MMSI 227006760 (AISHub capture)
const NOW = 1_700_000_000_000;

const decoder = (source?: string) => createDecoder({ clock: new ManualClock(NOW), ...(source === undefined ? {} : { defaultSource: source }) });
const one = (line: string | Uint8Array): DecodeOutcome => decoder('rx1').decode(line);

function expectReject(o: DecodeOutcome, reason: string, raw?: string) {
  expect(o.kind).toBe('reject');
  if (o.kind !== 'reject') return;
  expect(o.reason).toBe(reason);
  expect(o.detail.length).toBeGreaterThan(5);
  if (raw !== undefined) expect(o.raw).toBe(raw);
}

describe('NMEA framing', () => {
  it.each(['AI', 'AB', 'AS', 'BS', 'SA'])('accepts talker %s for VDM and VDO', (talker) => {
    for (const formatter of ['VDM', 'VDO'] as const) {
      const o = one(sentence(`!${talker}${formatter},1,1,,A,${POS},0`));
      expect(o).toMatchObject({ kind: 'message', message: { mmsi: 227006760 }, meta: { talker, formatter, channel: 'A', source: 'rx1', receivedAt: NOW, timeFromTagBlock: false } });
    }
  });

  it('accepts LF, CRLF and CR endings and keeps the raw line without them', () => {
    const line = sentence(`!AIVDM,1,1,,A,${POS},0`);
    for (const ending of ['', '\n', '\r\n', '\r']) {
      const o = one(line + ending);
      expect(o.kind).toBe('message');
      if (o.kind === 'message') expect(o.meta.raw).toEqual([line]);
    }
  });

  it('decodes bytes as well as strings', () => {
    expect(one(Buffer.from(sentence(`!AIVDM,1,1,,B,${POS},0`) + '\r\n'))).toMatchObject({ kind: 'message', meta: { channel: 'B', payload: POS } });
  });

  it('rejects a line without a checksum as checksum_missing, never accepts it', () => {
    expectReject(one(`!AIVDM,1,1,,A,${POS},0`), 'checksum_missing', `!AIVDM,1,1,,A,${POS},0`);
    expectReject(one(`!AIVDM,1,1,,A,${POS},0*`), 'checksum_missing');
    expectReject(one(`!AIVDM,1,1,,A,${POS},0*G1`), 'checksum_missing');
  });

  it('rejects a wrong checksum as checksum_mismatch, naming both values', () => {
    const o = one(`!AIVDM,1,1,,A,${POS},0*24`);
    expectReject(o, 'checksum_mismatch');
    if (o.kind === 'reject') expect(o.detail).toBe('checksum is 24, computed 23');
  });

  it('skips comments, blank lines and non-AIS sentences with their reason', () => {
    const d = decoder();
    expect(d.decode('# a comment')).toEqual({ kind: 'skip', reason: 'comment' });
    expect(d.decode('')).toEqual({ kind: 'skip', reason: 'blank' });
    expect(d.decode('   \r\n')).toEqual({ kind: 'skip', reason: 'blank' });
    expect(d.decode('$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47')).toEqual({ kind: 'skip', reason: 'non_ais' });
    expect(d.decode('$PSHI,001,47.1,0.0,00*4C')).toEqual({ kind: 'skip', reason: 'non_ais' });
    expect(d.decode('!AIALR,000000.00,053,V,V,AIS: DC low power warning*64')).toEqual({ kind: 'skip', reason: 'non_ais' });
    expect(d.decode(`${tagBlock('s:rx9')}$GPVTG,000.0,T,347.1,M,000.0,N,000.0,K,A*22`)).toEqual({ kind: 'skip', reason: 'non_ais' });
  });

  it('parses a USCG trailer: receiver id as source, unix time as receive time', () => {
    const o = one('!AIVDM,1,1,,A,15B4FT5000JRP>PE6E68Nbkl0PS5,0*70,b003669794,1272412827');
    expect(o).toMatchObject({ kind: 'message', meta: { source: 'b003669794', receivedAt: 1_272_412_827_000, timeFromTagBlock: true } });
    const full = one('!AIVDM,1,1,,B,;4R33:1uUK2F`q?mOt@@GoQ00000,0*5D,s28089,d-103,T39.44353985,x147521,r08TPHI1,1242958962');
    expect(full).toMatchObject({ kind: 'message', meta: { source: 'r08TPHI1', receivedAt: 1_242_958_962_000 } });
  });

  it('ignores a trailer time that is not a plausible unix time', () => {
    expect(one(sentence(`!AIVDM,1,1,,A,${POS},0`) + ',b1,0000000042')).toMatchObject({ kind: 'message', meta: { source: 'b1', receivedAt: NOW, timeFromTagBlock: false } });
  });

  it.each([
    ['garbage', 'hello world', 'sentence_malformed'],
    ['wrong field count', sentence(`!AIVDM,1,1,A,${POS},0`), 'sentence_malformed'],
    ['fragment number above count', sentence(`!AIVDM,1,2,,A,${POS},0`), 'sentence_malformed'],
    ['bad talker', sentence(`!=IVDM,1,1,,A,${POS},0`), 'sentence_malformed'],
    ['fill bits 7', sentence(`!AIVDM,1,1,,A,${POS},7`), 'bad_fill_bits'],
    ['armour character outside the alphabet', sentence(`!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05IX,0`), 'bad_armor_char'],
    ['too short for its type', sentence('!AIVDM,1,1,,A,13HOI:0P0000,0'), 'bad_bit_length'],
    ['type 0', sentence('!AIVDM,1,1,,A,0000000000,0'), 'unknown_type'],
    ['type 24 part 2', sentence('!AIVDM,1,1,,A,H42O55p0000000000000000000000,0'), 'unknown_type'],
  ])('rejects %s with its reason and the raw line', (_name, line, reason) => {
    expectReject(one(line), reason, line);
  });

  it('names the first character that is not armour and its index, in one sentence or across parts', () => {
    const detailOf = (o: DecodeOutcome) => (o.kind === 'reject' && o.reason === 'bad_armor_char' ? o.detail : o.kind);
    expect(detailOf(one(sentence(`!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05IX,0`)))).toBe('payload character "X" at 27 is not 6-bit armour');
    // text input can hold chars no byte can; they are not armour either, and the first bad one is named
    expect(detailOf(one(sentence(`!AIVDM,1,1,,A,13H\u0100I:0P0000VOHLCnHQKwvL05I!,0`)))).toBe('payload character "\u0100" at 3 is not 6-bit armour');
    const d = decoder('rx1');
    expect(d.decode(sentence('!AIVDM,2,1,7,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0')).kind).toBe('fragment');
    expect(detailOf(d.decode(sentence('!AIVDM,2,2,7,A,888{8888880,2')))).toBe('payload character "{" at 63 is not 6-bit armour');
  });

  it('decodes each line the same after any other line: nothing of one payload is left for the next', () => {
    const shared = decoder('rx1');
    // a long type 5 (two parts) first, then short and truncated messages, some of types with optional trailing fields
    expect(shared.decode(sentence('!AIVDM,2,1,3,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0')).kind).toBe('fragment');
    expect(shared.decode(sentence('!AIVDM,2,2,3,A,88888888880,2')).kind).toBe('message');
    const lines = [
      sentence('!AIVDM,1,1,,A,H42O55i18tMET00000000000000,2'),
      sentence('!AIVDM,1,1,,A,Ekk5eI<`W:Pn3V2W2gb@9H@0000:dwBON9W`0000000,4'),
      sentence(`!AIVDM,1,1,,A,${POS},0`),
      sentence('!AIVDM,1,1,,A,13HOI:0P0000,0'),
    ];
    for (const line of lines) expect(shared.decode(line)).toEqual(decoder('rx1').decode(line));
  });

  it('leaves a sentence payload de-armoured in the given buffer exactly as BitBuffer.load does, zeros after it', () => {
    const parsed = new BitBuffer();
    const loaded = new BitBuffer();
    const long = '55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8';
    expect(parseLine(sentence(`!AIVDM,2,1,3,A,${long},0`), parsed)).toMatchObject({ kind: 'sentence', payload: long, armorError: -1 });
    for (const [payload, fill] of [[POS, 0], ['13HOI:0P0000', 4], ['', 0]] as const) {
      expect(parseLine(sentence(`!AIVDM,1,1,,A,${payload},${fill}`), parsed)).toMatchObject({ kind: 'sentence', payload, fill, armorError: -1 });
      expect(loaded.load(payload, fill)).toBe(-1);
      expect([parsed.length, parsed.armoredBits]).toEqual([loaded.length, loaded.armoredBits]);
      expect(parsed.sym.subarray(0, payload.length + 8)).toEqual(loaded.sym.subarray(0, payload.length + 8));
      expect(parsed.sym.subarray(payload.length, payload.length + 8).every((v) => v === 0)).toBe(true);
    }
  });

  it('rejects a line longer than the limit without parsing it, raw cut to the limit', () => {
    const d = createDecoder({ clock: new ManualClock(NOW), maxLineLength: 100 });
    const long = sentence(`!AIVDM,1,1,,A,${'1'.repeat(200)},0`);
    const o = d.decode(long);
    expectReject(o, 'line_too_long');
    if (o.kind === 'reject') expect(o.raw).toBe(long.slice(0, 100));
    expectReject(d.decode(Buffer.from(long)), 'line_too_long');
  });
});

describe('NMEA 4.0 tag blocks', () => {
  const line = sentence(`!AIVDM,1,1,,A,${POS},0`);

  it('takes source from s: and time from c: in seconds', () => {
    expect(one(tagBlock('s:2573238,c:1733782034') + line)).toMatchObject({ kind: 'message', meta: { source: '2573238', receivedAt: 1_733_782_034_000, timeFromTagBlock: true } });
  });

  it('accepts c: in milliseconds', () => {
    expect(one(tagBlock('c:1733782034123,s:x') + line)).toMatchObject({ kind: 'message', meta: { source: 'x', receivedAt: 1_733_782_034_123 } });
  });

  it('accepts n: and fields it does not use', () => {
    expect(one(tagBlock('s:a,n:42,d:dest,t:text') + line)).toMatchObject({ kind: 'message', meta: { source: 'a', receivedAt: NOW } });
  });

  it('rejects a tag block whose checksum is wrong', () => {
    expectReject(one('\\s:2573238,c:1733782034*0B\\' + line), 'tag_block_checksum_mismatch', '\\s:2573238,c:1733782034*0B\\' + line);
  });

  it.each([
    ['no closing backslash', '\\s:a*1D' + line],
    ['no checksum', '\\s:a\\' + line],
    ['field without a colon', tagBlock('s:a,oops') + line],
    ['c: that is not a time', tagBlock('c:12ab') + line],
    ['g: that is not part-total-id', tagBlock('g:3-2-7') + line],
  ])('rejects a malformed tag block: %s', (_name, l) => {
    expectReject(one(l), 'tag_block_malformed', l);
  });

  it('a rejected line keeps the tag-block source and time when they were readable', () => {
    const o = one(tagBlock('s:st1,c:1733782034') + `!AIVDM,1,1,,A,${POS},0*00`);
    expect(o).toMatchObject({ kind: 'reject', reason: 'checksum_mismatch', source: 'st1', receivedAt: 1_733_782_034_000 });
  });
});
