import { ARMOR_VALUE, BitBuffer, firstNonArmor } from './armor.js';
import type { RejectReason, SkipReason } from './types.js';

/**
 * NMEA 0183 framing for AIS: the optional NMEA 4.0 tag block, the `!ttVDM`/`!ttVDO` sentence,
 * its checksum and any USCG-style trailer after it. Works on char codes of a latin1 string
 * (one code per input byte): no regular expressions and no `split` on the hot path.
 */

/** NMEA 4.0 tag block fields aisflow uses (IEC 61162-1 §7.9). */
export interface TagBlock {
  /** `s:` source / station id */
  source: string | null;
  /** `c:` time, converted to ms since the epoch */
  time: number | null;
  /** `g:` sentence group: this line is `part` of `total` in group `id` */
  group: { part: number; total: number; id: string } | null;
  /** `n:` line count */
  lineCount: number | null;
}

export interface Sentence {
  kind: 'sentence';
  talker: string;
  formatter: 'VDM' | 'VDO';
  /** fragment count and number (1-based) */
  count: number;
  num: number;
  /** sequential message id for multi-sentence messages ('' when absent) */
  seqId: string;
  channel: string;
  payload: string;
  fill: number;
  tag: TagBlock | null;
  /** index in `payload` of the first character that is not 6-bit armour, -1 when all are */
  armorError: number;
  /** USCG trailer receiver id (e.g. 'b003669794', 'r08ACERDC'), null when absent */
  receiver: string | null;
  /** USCG trailer unix time in ms, null when absent or implausible */
  trailerTime: number | null;
}

/** A sentence, or why the line is not one (one object per line: the hot path allocates little). */
export type ParseResult =
  | Sentence
  | { kind: 'skip'; reason: SkipReason }
  | { kind: 'reject'; reason: RejectReason; detail: string; tag: TagBlock | null };

const HEXVAL = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEXVAL[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEXVAL[65 + i] = 10 + i;
  HEXVAL[97 + i] = 10 + i;
}

const hexByte = (line: string, at: number): number => {
  const a = line.charCodeAt(at);
  const b = line.charCodeAt(at + 1);
  if (!(a < 256 && b < 256)) return -1; // also NaN past the end
  const hi = HEXVAL[a]!;
  const lo = HEXVAL[b]!;
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
};

const xor = (line: string, from: number, to: number): number => {
  let x = 0;
  for (let i = from; i < to; i++) x ^= line.charCodeAt(i);
  return x & 0xff;
};

const hex2 = (n: number): string => (n < 16 ? '0' : '') + n.toString(16).toUpperCase();

/** Unix time (s) range accepted in `c:` and trailers: 1990-01-01 .. 2100-01-01. Anything else is not a time. */
const MIN_UNIX_S = 631_152_000;
const MAX_UNIX_S = 4_102_444_800;

/**
 * `c:` is seconds in NMEA 4.0, but several feeds send milliseconds; a value too large to be
 * seconds before 2100 is read as milliseconds.
 */
export function tagTimeToMs(value: number): number | null {
  if (value >= MIN_UNIX_S && value < MAX_UNIX_S) return value * 1000;
  if (value >= MIN_UNIX_S * 1000 && value < MAX_UNIX_S * 1000) return value;
  return null;
}

const isDigits = (s: string): boolean => {
  if (s.length === 0 || s.length > 15) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
};

type TagResult = { ok: true; tag: TagBlock } | { ok: false; reason: RejectReason; detail: string };

/** Parse the tag block between the backslashes at `from` and `to` (exclusive of both). */
export function parseTagBlock(line: string, from: number, to: number): TagResult {
  const star = line.lastIndexOf('*', to);
  if (star < from) return { ok: false, reason: 'tag_block_malformed', detail: 'tag block has no *hh checksum' };
  if (star + 3 !== to) return { ok: false, reason: 'tag_block_malformed', detail: 'tag block checksum is not two hex digits before the closing backslash' };
  const want = hexByte(line, star + 1);
  if (want < 0) return { ok: false, reason: 'tag_block_malformed', detail: `tag block checksum "${line.slice(star + 1, to)}" is not hex` };
  const got = xor(line, from, star);
  if (got !== want) return { ok: false, reason: 'tag_block_checksum_mismatch', detail: `tag block checksum is ${hex2(want)}, computed ${hex2(got)}` };
  const tag: TagBlock = { source: null, time: null, group: null, lineCount: null };
  let p = from;
  while (p < star) {
    let comma = line.indexOf(',', p);
    if (comma < 0 || comma > star) comma = star;
    const colon = line.indexOf(':', p);
    if (colon < 0 || colon >= comma) return { ok: false, reason: 'tag_block_malformed', detail: `tag block field "${line.slice(p, comma)}" has no ':'` };
    const key = line.slice(p, colon);
    const value = line.slice(colon + 1, comma);
    switch (key) {
      case 's':
        if (value.length === 0) return { ok: false, reason: 'tag_block_malformed', detail: 'empty s: source' };
        tag.source = value;
        break;
      case 'c': {
        const ms = isDigits(value) ? tagTimeToMs(Number(value)) : null;
        if (ms === null) return { ok: false, reason: 'tag_block_malformed', detail: `c:${value} is not a unix time in seconds or milliseconds` };
        tag.time = ms;
        break;
      }
      case 'g': {
        // part-total-id, e.g. g:1-2-3985
        const d1 = value.indexOf('-');
        const d2 = value.indexOf('-', d1 + 1);
        const part = d1 > 0 ? value.slice(0, d1) : '';
        const total = d2 > d1 ? value.slice(d1 + 1, d2) : '';
        const id = d2 > 0 ? value.slice(d2 + 1) : '';
        if (!isDigits(part) || !isDigits(total) || id.length === 0 || Number(part) < 1 || Number(part) > Number(total)) {
          return { ok: false, reason: 'tag_block_malformed', detail: `g:${value} is not part-total-id` };
        }
        tag.group = { part: Number(part), total: Number(total), id };
        break;
      }
      case 'n':
        if (!isDigits(value)) return { ok: false, reason: 'tag_block_malformed', detail: `n:${value} is not a line count` };
        tag.lineCount = Number(value);
        break;
      default:
        // d: destination, r: relative time, t: text, i: info: carried by some feeds, not used
        break;
    }
    p = comma + 1;
  }
  return { ok: true, tag };
}

/** USCG receiver ids look like b003669794 or r08ACERDC: one of b/r then letters and digits. */
const isReceiverId = (s: string): boolean => {
  const c = s.charCodeAt(0);
  if ((c !== 98 && c !== 114) || s.length < 2 || s.length > 20) return false;
  for (let i = 1; i < s.length; i++) {
    const d = s.charCodeAt(i);
    if (!((d >= 48 && d <= 57) || (d >= 65 && d <= 90) || (d >= 97 && d <= 122))) return false;
  }
  return true;
};

// Talkers and one-character channels from tables built once: no string is cut out of the line
// for them, and a dense array index is cheaper than a keyed lookup. Every talker is two
// capital letters (checked before the lookup), so 26 x 26 entries cover them all.
const TALKERS: readonly string[] = Array.from({ length: 26 * 26 }, (_, i) => String.fromCharCode(65 + Math.floor(i / 26), 65 + (i % 26)));
const talkerOf = (t0: number, t1: number): string => TALKERS[(t0 - 65) * 26 + (t1 - 65)]!;
const CHANNELS: readonly string[] = Array.from({ length: 256 }, (_, c) => String.fromCharCode(c));
const channelOf = (c: number): string => (c < 256 ? CHANNELS[c]! : String.fromCharCode(c));

const scratch = new BitBuffer();

/**
 * Parse one line without its line ending. Never throws: every input gets a sentence, a skip
 * reason or a reject reason with a detail. A sentence's payload is also left de-armoured in
 * `bits`, as `BitBuffer.load` would leave it (`armorError` says whether every character was
 * armour), so a single-sentence message needs no second pass over its payload.
 */
export function parseLine(line: string, bits: BitBuffer = scratch): ParseResult {
  let start = 0;
  let end = line.length;
  // Trailing CR/LF/space/tab and leading spaces are framing noise, not content.
  while (end > 0) {
    const c = line.charCodeAt(end - 1);
    if (c !== 13 && c !== 10 && c !== 32 && c !== 9) break;
    end--;
  }
  while (start < end && (line.charCodeAt(start) === 32 || line.charCodeAt(start) === 9)) start++;
  if (start === end) return { kind: 'skip', reason: 'blank' };
  let c0 = line.charCodeAt(start);
  if (c0 === 35) return { kind: 'skip', reason: 'comment' }; // '#'

  let tag: TagBlock | null = null;
  if (c0 === 92) {
    // '\' NMEA 4.0 tag block
    const close = line.indexOf('\\', start + 1);
    if (close < 0 || close >= end) return { kind: 'reject', reason: 'tag_block_malformed', detail: 'tag block has no closing backslash', tag: null };
    const parsed = parseTagBlock(line, start + 1, close);
    if (!parsed.ok) return { kind: 'reject', reason: parsed.reason, detail: parsed.detail, tag: null };
    tag = parsed.tag;
    start = close + 1;
    if (start === end) return { kind: 'reject', reason: 'sentence_malformed', detail: 'tag block without a sentence', tag };
    c0 = line.charCodeAt(start);
  }

  if (c0 === 36) return { kind: 'skip', reason: 'non_ais' }; // '$' sentences are never AIS payloads
  if (c0 !== 33) {
    return { kind: 'reject', reason: 'sentence_malformed', detail: `line does not start with '!', '$', '\\' or '#' (char code ${c0})`, tag };
  }
  if (end - start < 6) return { kind: 'reject', reason: 'sentence_malformed', detail: 'sentence too short for an address field', tag };
  const f0 = line.charCodeAt(start + 3);
  const f1 = line.charCodeAt(start + 4);
  const f2 = line.charCodeAt(start + 5);
  const isVd = f0 === 86 && f1 === 68 && (f2 === 77 || f2 === 79); // VDM / VDO
  if (!isVd) {
    // !AIALR, !AIABK ... real sentences, just not AIS messages; anything else is garbage.
    const a = line.charCodeAt(start + 1);
    if (a >= 65 && a <= 90) return { kind: 'skip', reason: 'non_ais' };
    return { kind: 'reject', reason: 'sentence_malformed', detail: `"${line.slice(start, start + 6)}" is not an NMEA address`, tag };
  }
  const t0 = line.charCodeAt(start + 1);
  const t1 = line.charCodeAt(start + 2);
  if (!(t0 >= 65 && t0 <= 90 && t1 >= 65 && t1 <= 90)) {
    return { kind: 'reject', reason: 'sentence_malformed', detail: `talker "${line.slice(start + 1, start + 3)}" is not two capital letters`, tag };
  }

  // One pass from the address to '*': checksum, comma positions and the payload's de-armouring
  // together. This scan is most of the framing cost, and reading the payload a second time to
  // de-armour it cost as much again; separate indexOf calls per field were slower still.
  // The address (talker and VDM/VDO, checked above: letters, never ',' or '*') goes straight
  // into the checksum; the scan starts after it.
  let x = t0 ^ t1 ^ f0 ^ f1 ^ f2;
  let commas = 0;
  let c1 = -1;
  let c2 = -1;
  let c3 = -1;
  let c4 = -1;
  let c5 = -1;
  let c6 = -1;
  let star = start + 6;
  // count, number, sequence id, channel: up to and including the fifth comma
  for (; star < end; star++) {
    const c = line.charCodeAt(star);
    if (c === 42) break;
    x ^= c;
    if (c === 44) {
      commas++;
      if (commas === 1) c1 = star;
      else if (commas === 2) c2 = star;
      else if (commas === 3) c3 = star;
      else if (commas === 4) c4 = star;
      else {
        c5 = star++;
        break;
      }
    }
  }
  // the payload, de-armoured into `bits` on the way; invalid characters map to 255, and OR-ing
  // every value keeps the loop free of a branch for them (found again below only if one was seen)
  let armor = 0;
  if (c5 >= 0) {
    const sym = bits.reserve(end - star);
    let i = 0;
    for (; star < end; star++) {
      const c = line.charCodeAt(star);
      if (c === 42 || c === 44) break;
      x ^= c;
      const v = ARMOR_VALUE[c]!;
      armor |= v;
      sym[i++] = v;
    }
  }
  // fill bits and anything else up to '*' (more commas here make the sentence malformed)
  for (; star < end; star++) {
    const c = line.charCodeAt(star);
    if (c === 42) break;
    x ^= c;
    if (c === 44) {
      commas++;
      if (commas === 6) c6 = star;
    }
  }
  if (star >= end) return { kind: 'reject', reason: 'checksum_missing', detail: 'sentence has no *hh checksum', tag };
  const want = hexByte(line, star + 1);
  if (want < 0 || star + 3 > end) {
    return { kind: 'reject', reason: 'checksum_missing', detail: `"*${line.slice(star + 1, Math.min(end, star + 3))}" is not a two-digit hex checksum`, tag };
  }
  const got = x & 0xff;
  if (got !== want) return { kind: 'reject', reason: 'checksum_mismatch', detail: `checksum is ${hex2(want)}, computed ${hex2(got)}`, tag };

  // Fields: address, count, num, seq, channel, payload, fill (exactly six commas before '*').
  if (commas !== 6 || c1 !== start + 6) {
    return { kind: 'reject', reason: 'sentence_malformed', detail: `expected 7 comma-separated fields before the checksum, found ${commas + 1}`, tag };
  }
  const count = c2 === c1 + 2 ? line.charCodeAt(c1 + 1) - 48 : -1;
  const num = c3 === c2 + 2 ? line.charCodeAt(c2 + 1) - 48 : -1;
  if (count < 1 || count > 9 || num < 1 || num > count) {
    return { kind: 'reject', reason: 'sentence_malformed', detail: `fragment "${line.slice(c2 + 1, c3)}" of "${line.slice(c1 + 1, c2)}" is not 1-9 of 1-9`, tag };
  }
  const fillCode = c6 + 2 === star ? line.charCodeAt(c6 + 1) - 48 : -1;
  // The spec allows 0-5; 6 (the whole last character is padding) comes from real receivers
  // (AISHub capture) and is harmless, so it is accepted, as gpsd does.
  if (fillCode < 0 || fillCode > 6) return { kind: 'reject', reason: 'bad_fill_bits', detail: `fill bits "${line.slice(c6 + 1, star)}" is not 0-6`, tag };
  if (c5 - c4 > 3) return { kind: 'reject', reason: 'sentence_malformed', detail: `channel "${line.slice(c4 + 1, c5)}" is too long`, tag };
  if (c4 - c3 > 3) return { kind: 'reject', reason: 'sentence_malformed', detail: `sequence id "${line.slice(c3 + 1, c4)}" is too long`, tag };

  const payload = line.slice(c5 + 1, c6);
  bits.loaded(payload.length, fillCode);

  let receiver: string | null = null;
  let trailerTime: number | null = null;
  if (star + 3 < end) {
    // USCG-style trailer: ",b003669794,1272412827" (receiver id, unix time), sometimes more
    // fields (d-97,S1234,t...,T...). Recognised fields are used, others ignored. Text after the
    // checksum is outside the sentence the checksum vouches for, so anything else there (e.g.
    // a literal "\x0d\x0a" in gpsd-sample.aivdm) is ignored too, as gpsd does.
    let p = line.charCodeAt(star + 3) === 44 ? star + 4 : end + 1;
    while (p <= end) {
      let comma = line.indexOf(',', p);
      if (comma < 0 || comma > end) comma = end;
      const field = line.slice(p, comma);
      if (receiver === null && isReceiverId(field)) receiver = field;
      else if (trailerTime === null && field.length === 10 && isDigits(field)) trailerTime = tagTimeToMs(Number(field));
      p = comma + 1;
    }
  }

  return {
    kind: 'sentence',
    talker: talkerOf(t0, t1),
    formatter: f2 === 77 ? 'VDM' : 'VDO',
    count,
    num,
    seqId: c4 === c3 + 1 ? '' : line.slice(c3 + 1, c4),
    channel: c5 === c4 + 2 ? channelOf(line.charCodeAt(c4 + 1)) : c5 === c4 + 1 ? '' : line.slice(c4 + 1, c5),
    payload,
    fill: fillCode,
    armorError: armor > 63 ? firstNonArmor(payload) : -1,
    tag,
    receiver,
    trailerTime,
  };
}
