import { bool, header, hexRest, spare, textRest, u, type FieldSpec, type Layout } from '../fields.js';

// Addressed and broadcast messaging, acknowledgements and interrogations. Source: ITU-R
// M.1371-5 Annex 8 §3.5-3.15 and §3.25-3.26; https://gpsd.gitlab.io/gpsd/AIVDM.html.

/** Type 6: addressed binary message (88-1008 bits); the payload is kept as hex. */
export const addressedBinary: Layout = {
  name: 'addressed binary message',
  fields: [
    ...header(),
    u('seqno', 2),
    u('destMmsi', 30),
    bool('retransmit'),
    spare(1),
    u('dac', 10),
    u('fid', 6),
    hexRest('data', 920),
  ],
};

/** Type 8: binary broadcast message (56-1008 bits). */
export const broadcastBinary: Layout = {
  name: 'binary broadcast message',
  fields: [...header(), spare(2), u('dac', 10), u('fid', 6), hexRest('data', 952)],
};

/** Types 7 and 13: binary / safety acknowledge, one to four MMSIs (72-168 bits). */
export const acknowledge: Layout = {
  name: 'acknowledge',
  fields: [
    ...header(),
    spare(2),
    u('mmsi1', 30),
    u('mmsiseq1', 2),
    u('mmsi2', 30, { optional: 'ack2' }),
    u('mmsiseq2', 2, { optional: 'ack2' }),
    u('mmsi3', 30, { optional: 'ack3' }),
    u('mmsiseq3', 2, { optional: 'ack3' }),
    u('mmsi4', 30, { optional: 'ack4' }),
    u('mmsiseq4', 2, { optional: 'ack4' }),
  ],
};

/** Type 10: UTC/date inquiry (72 bits). */
export const utcInquiry: Layout = {
  name: 'UTC inquiry',
  fields: [...header(), spare(2), u('destMmsi', 30), spare(2)],
};

/** Type 12: addressed safety-related message (72-1008 bits, up to 156 characters). */
export const addressedSafety: Layout = {
  name: 'addressed safety message',
  fields: [...header(), u('seqno', 2), u('destMmsi', 30), bool('retransmit'), spare(1), textRest('text', 936)],
};

/** Type 14: safety-related broadcast (40-1008 bits, up to 161 characters). */
export const broadcastSafety: Layout = {
  name: 'safety broadcast',
  fields: [...header(), spare(2), textRest('text', 966)],
};

/** Type 15: interrogation of one or two stations (88-160 bits). */
export const interrogation: Layout = {
  name: 'interrogation',
  fields: [
    ...header(),
    spare(2),
    u('mmsi1', 30),
    u('type1_1', 6),
    u('offset1_1', 12),
    spare(2),
    // second request to station 1 (110 bits, usually padded to 112)
    u('type1_2', 6, { optional: 'request2' }),
    u('offset1_2', 12, { optional: 'request2' }),
    spare(2, { optional: true }),
    // request to a second station (160 bits)
    u('mmsi2', 30, { optional: 'station2' }),
    u('type2_1', 6, { optional: 'station2' }),
    u('offset2_1', 12, { optional: 'station2' }),
    spare(2, { optional: true }),
  ],
};

/** Type 16: assignment mode command, one or two stations (96 or 144 bits). */
export const assignmentCommand: Layout = {
  name: 'assignment mode command',
  fields: [
    ...header(),
    spare(2),
    u('mmsi1', 30),
    u('offset1', 12),
    u('increment1', 10),
    // a second station: 144 bits (a 96-bit message has 4 spare bits instead)
    u('mmsi2', 30, { optional: 'station2' }),
    u('offset2', 12, { optional: 'station2' }),
    u('increment2', 10, { optional: 'station2' }),
  ],
};

const reservation = (i: number, optional: boolean): FieldSpec[] => {
  const opt = optional ? { optional: `reservation${i}` } : {};
  return [u(`offset${i}`, 12, opt), u(`number${i}`, 4, opt), u(`timeout${i}`, 3, opt), u(`increment${i}`, 11, opt)];
};

/** Type 20: data link management, one to four slot reservations (72-160 bits). */
export const dataLinkManagement: Layout = {
  name: 'data link management',
  fields: [...header(), spare(2), ...reservation(1, false), ...reservation(2, true), ...reservation(3, true), ...reservation(4, true)],
};

// Types 25 and 26: single- and multi-slot binary messages. Two flags choose among four layouts:
// addressed (a 30-bit destination MMSI follows) and structured (a 16-bit application id
// follows). No spare bits after the MMSI: gpsd, libais and pyais agree on that reading.
const binaryHead = (addressed: boolean, structured: boolean): FieldSpec[] => [
  ...header(),
  bool('addressed'),
  bool('structured'),
  ...(addressed ? [u('destMmsi', 30)] : []),
  ...(structured ? [u('appId', 16)] : []),
];

const variants = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const;

/** Type 25 layouts, indexed by addressed * 2 + structured. */
export const singleSlotBinary: Layout[] = variants.map(([a, st]) => ({
  name: `single slot binary message (addressed ${a}, structured ${st})`,
  // 168 bits at most in one slot
  fields: [...binaryHead(a, st), hexRest('data', 128 - (a ? 30 : 0) - (st ? 16 : 0))],
}));

/** Type 26 layouts, indexed by addressed * 2 + structured; the radio status is the last 20 bits. */
export const multiSlotBinary: Layout[] = variants.map(([a, st]) => ({
  name: `multiple slot binary message (addressed ${a}, structured ${st})`,
  // five slots: 1064 bits at most
  fields: [...binaryHead(a, st), hexRest('data', 1004 - (a ? 30 : 0) - (st ? 16 : 0)), u('radio', 20)],
}));
