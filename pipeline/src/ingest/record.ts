import type { AisMessage, SentenceMeta } from '../ais/types.js';
import type { AisRecordV1 } from '../shared/ais-record.js';

/**
 * FNV-1a 64-bit of a latin1/ASCII string, as 16 hex digits. Computed in two 32-bit halves:
 * BigInt arithmetic is ~20x slower and crypto sha1 costs a native call per record
 * (scripts/bench/ingest.ts prints both). Not cryptographic: the key only has to be stable and
 * collide rarely among reports heard within minutes of each other.
 */
export function fnv1a64(text: string): string {
  return fnvHex(fnvAdd(FNV_HI, FNV_LO, text));
}

const FNV_HI = 0xcbf29ce4;
const FNV_LO = 0x84222325;
/** running FNV state: the two halves, updated in place so hashing several parts allocates nothing */
const state = { hi: 0, lo: 0 };

function fnvAdd(hi: number, lo: number, text: string): typeof state {
  for (let i = 0; i < text.length; i++) {
    lo = (lo ^ (text.charCodeAt(i) & 0xff)) >>> 0;
    // h * 0x100000001b3 mod 2^64 = h * 0x1b3 + (h << 40)
    const tlo = lo * 0x1b3; // < 2^41: exact in a double
    const low = tlo >>> 0;
    const carry = (tlo - low) * 2.3283064365386963e-10; // exact: a multiple of 2^32 times 2^-32
    hi = (hi * 0x1b3 + carry + ((lo << 8) >>> 0)) >>> 0;
    lo = low;
  }
  state.hi = hi;
  state.lo = lo;
  return state;
}

/** two hex digits per byte value: Number#toString(16) goes through V8's generic radix conversion, ~3x slower */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function fnvHex(s: typeof state): string {
  const { hi, lo } = s;
  return (
    HEX[hi >>> 24]! + HEX[(hi >>> 16) & 255]! + HEX[(hi >>> 8) & 255]! + HEX[hi & 255]! +
    HEX[lo >>> 24]! + HEX[(lo >>> 16) & 255]! + HEX[(lo >>> 8) & 255]! + HEX[lo & 255]!
  );
}

/**
 * Stable id of one radio report: the same for every receiver that heard it, because it depends
 * only on the armoured payload and the fill bits (not on tag blocks, channel or sequence ids).
 */
export function recordKey(payload: string, fillBits: number): string {
  // Same hash as fnv1a64(`${payload},${fillBits}`), without building (and flattening) that string per record.
  const s = fnvAdd(FNV_HI, FNV_LO, payload);
  return fnvHex(fnvAdd(s.hi, s.lo, fillBits >= 0 && fillBits <= 9 && fillBits === (fillBits | 0) ? FILL[fillBits]! : `,${fillBits}`));
}

const FILL = Array.from({ length: 10 }, (_, i) => `,${i}`);

export function toRecord(message: AisMessage, meta: SentenceMeta): AisRecordV1 {
  return {
    v: 1,
    key: recordKey(meta.payload, meta.fillBits),
    src: meta.source,
    rx: meta.receivedAt,
    mmsi: message.mmsi,
    type: message.type,
    msg: message,
  };
}
