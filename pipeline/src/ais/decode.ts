import { readU, type Bits } from './armor.js';
import { appKey, COMPILED } from './registry.js';
import type { AisMessage, RejectReason } from './types.js';

export type BitsDecodeResult = { ok: true; message: AisMessage } | { ok: false; reason: RejectReason; detail: string };

/**
 * Length policy. Too short is always bad_bit_length. Longer than the table is tolerated for
 * fixed-length messages, as gpsd does: receivers and aggregators append junk (204-bit type 1s,
 * and a 4-sentence, 1284-bit "type 1" in the AISHub capture) and the fields sit in the first
 * bits. A variable-length message (its last field takes the rest) may exceed its table by at
 * most OVERLONG_SLACK_BITS (padding to whole armour characters); beyond that the variable field
 * would be swallowing junk, so it is rejected.
 */
export const OVERLONG_SLACK_BITS = 12;

/**
 * The one generic decode: pick the message's table by type (and by its variant bits), check the
 * length against the table, read every field. Application payloads of types 6/8 with a known
 * (DAC, FID) and enough bits are decoded too, their fields added beside the hex `data`.
 */
export function decodeBits(b: Bits): BitsDecodeResult {
  if (b.length < 38) return { ok: false, reason: 'bad_bit_length', detail: `${b.length} bits is shorter than the 38-bit message header` };
  const type = readU(b, 0, 6);
  const spec = COMPILED[type];
  if (spec === undefined) return { ok: false, reason: 'unknown_type', detail: `message type ${type} is not defined by ITU-R M.1371-5 (1-27)` };
  let index = 0;
  if (spec.select) {
    const chosen = spec.select(b);
    if (typeof chosen === 'string') return { ok: false, reason: 'unknown_type', detail: chosen };
    index = chosen;
  }
  const layout = spec.layouts[index]!;
  if (b.length < layout.minBits && !layout.variable && (b.armoredBits ?? 0) >= layout.minBits) {
    // A fill-bit count that cuts a fixed-length message short is a known transmitter bug (163-bit
    // type 1s with fill 5 in the AISHub capture); the characters carry the bits, so use them, as
    // gpsd does.
    b.length = b.armoredBits!;
  }
  const max = layout.variable ? layout.maxBits + OVERLONG_SLACK_BITS : Infinity;
  if (b.length < layout.minBits || b.length > max) {
    const want = layout.minBits === layout.maxBits ? `${layout.minBits}` : `${layout.minBits}-${layout.maxBits}`;
    return { ok: false, reason: 'bad_bit_length', detail: `${layout.name} (type ${type}) needs ${want} bits, got ${b.length}` };
  }
  const message = layout.read(b) as AisMessage;
  if (layout.finish) layout.finish(message, b);
  if (spec.apps !== undefined) {
    const app = spec.apps.get(appKey(message.dac as number, message.fid as number));
    // A payload shorter than its application table is left as hex only: better no fields than guessed ones.
    if (app !== undefined && b.length >= app.minBits && b.length <= app.maxBits + OVERLONG_SLACK_BITS) Object.assign(message, app.read(b));
  }
  return { ok: true, message };
}
