/**
 * 6-bit de-armouring (ITU-R M.1371-5 / IEC 61162-1 §8.2.3 "six-bit ASCII") and the bit reader
 * every field table is decoded with.
 *
 * Speed matters here (the decoder targets ≥ 1M sentences/s on one core): the payload is
 * de-armoured once into a reusable byte array of 6-bit symbols and fields are read by
 * whole symbols, never bit by bit. Values are accumulated with multiplication instead of
 * shifts so fields wider than 31 bits stay exact (up to 53 bits).
 */

/** A message's bits: `sym[i]` holds symbol i (6 bits); `length` is the bit count after fill bits. */
export interface Bits {
  sym: Uint8Array;
  length: number;
  /** bits in the armoured characters before fill bits are taken off (6 per character) */
  armoredBits?: number;
}

/**
 * char code -> 6-bit value, or 255 when the char is not a valid armour character. One entry for
 * every UTF-16 code unit (64 KB), so a lookup needs no range check first; only the first 256
 * entries are ever hot.
 */
export const ARMOR_VALUE = new Uint8Array(65536).fill(255);
for (let c = 48; c <= 87; c++) ARMOR_VALUE[c] = c - 48;
for (let c = 96; c <= 119; c++) ARMOR_VALUE[c] = c - 56;
const ARMOR = ARMOR_VALUE;

/** Index of the first character of `payload` that is not 6-bit armour, or -1. */
export function firstNonArmor(payload: string): number {
  for (let i = 0; i < payload.length; i++) {
    const c = payload.charCodeAt(i);
    if (ARMOR[c] === 255) return i;
  }
  return -1;
}

/** 6-bit text alphabet (M.1371-5 Table 47); '@' (0) means "no character". */
export const SIXBIT_ASCII = '@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_ !"#$%&\'()*+,-./0123456789:;<=>?';
const SIXBIT_CODES = Array.from(SIXBIT_ASCII, (c) => c.charCodeAt(0));

/**
 * A growable symbol buffer reused across messages. The symbols after the payload are zeroed
 * so a reader that runs a few bits past the end (optional trailing fields are checked first)
 * reads zeros, never garbage from the previous message.
 */
export class BitBuffer implements Bits {
  sym = new Uint8Array(256);
  length = 0;
  armoredBits = 0;

  /** De-armour `payload` less `fill` bits; returns the index of the first invalid character, or -1. */
  load(payload: string, fill: number): number {
    const n = payload.length;
    const sym = this.reserve(n);
    for (let i = 0; i < n; i++) {
      const c = payload.charCodeAt(i);
      const v = ARMOR[c]!;
      if (v === 255) return i;
      sym[i] = v;
    }
    this.loaded(n, fill);
    return -1;
  }

  /** Room for `chars` symbols and the zeroed ones after them; returns the array to write them to. */
  reserve(chars: number): Uint8Array {
    if (chars + 8 > this.sym.length) this.sym = new Uint8Array(Math.max(chars + 8, this.sym.length * 2));
    return this.sym;
  }

  /** `chars` symbols were written to `sym` (after `reserve(chars)`): zero the ones after them, set the lengths. */
  loaded(chars: number, fill: number): void {
    const sym = this.sym;
    for (let i = chars; i < chars + 8; i++) sym[i] = 0;
    this.armoredBits = chars * 6;
    this.length = chars * 6 - fill;
  }
}

/**
 * De-armour fragments whose non-final parts declare fill bits. The spec puts fill bits only
 * after the last fragment, but some senders pad every part; like gpsd, each fragment's fill
 * bits are dropped before the next fragment's bits follow. Rare, so done bit by bit. Returns
 * the index (in the concatenated payload) of the first invalid character, or -1.
 */
export function loadFragments(target: BitBuffer, payloads: readonly string[], fills: readonly number[]): number {
  const bits: number[] = [];
  let base = 0;
  for (let f = 0; f < payloads.length; f++) {
    const p = payloads[f]!;
    const keep = p.length * 6 - fills[f]!;
    for (let i = 0; i < p.length; i++) {
      const c = p.charCodeAt(i);
      const v = ARMOR[c]!;
      if (v === 255) return base + i;
      for (let k = 5; k >= 0 && i * 6 + (5 - k) < keep; k--) bits.push((v >> k) & 1);
    }
    base += p.length;
  }
  const chars = Math.ceil(bits.length / 6);
  if (chars + 8 > target.sym.length) target.sym = new Uint8Array(chars * 2 + 8);
  target.sym.fill(0, 0, chars + 8);
  for (let i = 0; i < bits.length; i++) target.sym[(i / 6) | 0] = target.sym[(i / 6) | 0]! | (bits[i]! << (5 - (i % 6)));
  target.length = bits.length;
  target.armoredBits = bits.length;
  return -1;
}

/** Unsigned `len`-bit field at bit `pos` (len 1..53). */
export function readU(b: Bits, pos: number, len: number): number {
  const sym = b.sym;
  let idx = (pos / 6) | 0;
  const avail = 6 - (pos - idx * 6);
  const first = sym[idx]! & ((1 << avail) - 1);
  if (len <= avail) return first >> (avail - len);
  let v = first;
  let remaining = len - avail;
  idx++;
  while (remaining >= 6) {
    v = v * 64 + sym[idx++]!;
    remaining -= 6;
  }
  if (remaining > 0) v = v * (1 << remaining) + (sym[idx]! >> (6 - remaining));
  return v;
}

/** 2^i for i in 0..53, so the signed reader does no exponentiation per call. */
const POW2 = Array.from({ length: 54 }, (_, i) => 2 ** i);

/** Two's-complement signed `len`-bit field at bit `pos`. */
export function readS(b: Bits, pos: number, len: number): number {
  const v = readU(b, pos, len);
  const half = POW2[len - 1]!;
  return v >= half ? v - half * 2 : v;
}

/**
 * 6-bit text of `chars` characters at `pos`. Like gpsd, the text ends at the first '@' (the
 * spec's padding / "not available" character) and trailing spaces are trimmed; an empty
 * result is "not available" and surfaces as null (docs/ais-fields.md).
 */
export function readText(b: Bits, pos: number, chars: number): string | null {
  let end = 0;
  const codes: number[] = [];
  for (let i = 0; i < chars; i++) {
    const v = readU(b, pos + i * 6, 6);
    if (v === 0) break;
    codes.push(SIXBIT_CODES[v]!);
    if (v !== 32) end = codes.length;
  }
  if (end === 0) return null;
  return String.fromCharCode.apply(null, codes.length === end ? codes : codes.slice(0, end));
}

const HEX = '0123456789abcdef';

/**
 * `len` bits at `pos` as lowercase hex, the last byte padded with zero bits (gpsd's convention
 * for binary payloads, so the two compare directly).
 */
export function readHex(b: Bits, pos: number, len: number): string {
  let out = '';
  let p = pos;
  const end = pos + len;
  while (p < end) {
    const take = Math.min(8, end - p);
    const byte = readU(b, p, take) << (8 - take);
    out += HEX[byte >> 4]! + HEX[byte & 15]!;
    p += take;
  }
  return out;
}
