import type { FieldSpec } from '../../pipeline/src/ais/fields.js';
import { applications } from '../../pipeline/src/ais/messages/applications.js';
import { MESSAGE_SPECS } from '../../pipeline/src/ais/registry.js';
import type { AisMessage } from '../../pipeline/src/ais/types.js';

/**
 * Field-by-field comparison of one aisflow message with one `gpsdecode -j -s` object.
 *
 * gpsd's names are snake_case (`to_bow`), ours camelCase (`toBow`); most map by that rule,
 * the rest through RENAMES. Numbers are equal when they agree within the precision gpsd printed
 * (its text is kept for that). A "not available" value is equal when ours is null and gpsd's is
 * the field's sentinel, found in our own field tables (so the tables are checked too).
 *
 * Every other known difference is in ALLOWED below, one entry per reason. A difference that no
 * entry explains fails the golden test.
 */

/** Deliberate, explained differences between aisflow and gpsd 3.22. Keys are counted in the report. */
export const ALLOWED = {
  labels: 'gpsd adds *_text labels for codes (status_text, shiptype_text, ...); aisflow emits the codes only and leaves wording to consumers',
  envelope: 'gpsd wraps messages in class/device/scaled fields that describe its own output, not the message',
  turnSign: 'gpsd 3.22 prints the rate of turn as (ROT/4.733)^2 without its sign; aisflow keeps the sign (turn) and the raw indicator (turnRaw), so gpsd\'s value is compared with |turn|',
  turnWords: 'gpsd prints "nan"/"fastleft"/"fastright" for ROT -128/-127/127; aisflow gives turnRaw null/-127/127 and turn null (no rate is known)',
  nanWords: 'gpsd prints the string "nan" where aisflow gives null, and "fast" where aisflow gives the top value (102.2 kn, 1022 kn for aircraft: "this or more")',
  fillBitsIgnored: 'when a fill-bit count cuts a fixed-length message short (163-bit type 1 with fill 5), aisflow reads the fields from the whole characters; gpsd decodes the short bit string, so its 19-bit radio field comes out shifted right',
  emptyText: 'gpsd prints "" for text that is all "@" padding; aisflow gives null ("not available")',
  absentOptional: 'for the optional trailing groups a short type 7/13/15/16/20 leaves out, gpsd prints 0 or, reading past the end of the message, bits left over from an earlier one; aisflow gives null (they were not sent)',
  binaryFlags: 'gpsd prints dest_mmsi/app_id 0 for type 25/26 messages whose addressed/structured flags say there is none; aisflow leaves them out',
  timestamp: 'gpsd prints the type 4/11 date and time (and the 8/1/31 day/hour/minute) as one string, sentinels included; aisflow gives separate fields with null for "not available"',
  eta: 'gpsd prints the type 5 ETA as "MM-DDTHH:MMZ" with sentinels; aisflow gives {month, day, hour, minute} with nulls, or null when all four are not available',
  dataHex: 'gpsd prints binary payloads as "<bits>:<hex>"; aisflow splits them into data (hex) and dataBits; the last hex digit is compared on its payload bits only (gpsd pads type 26 data with the radio bits that follow, aisflow with zeros)',
  radio26: 'gpsd 3.22 prints radio 0 for every type 26 (it never decodes the field); aisflow decodes the 20-bit communication state at the end of the message',
  nameExtension: 'gpsd appends the type 21 name extension to name; aisflow keeps it apart in nameExtension (both ignore the extension bits when the 20-character name is not full)',
  vendorId: 'gpsd 3.22 prints the whole 42-bit vendor id as 7 characters (M.1371-3); aisflow gives the 3-character manufacturer id of M.1371-5 beside model and serial (which gpsd also prints)',
  part24: 'gpsd -s prints the type 24 part as "A"/"B"; aisflow gives partno 0/1 as sent',
  status27: 'gpsd prints the type 27 navigation status as text; aisflow gives the code, as for types 1-3',
  enumWords: 'gpsd prints 8/1/31 and 8/1/11 pressure and water-level trends, ice and precipitation as words (or "N/A"); aisflow gives the codes with null for "not available"',
  inlandUnits: 'gpsd prints 8/200/10 length and beam in decimetres and draught in centimetres; aisflow converts to metres, like every other dimension',
  eriShipType: 'gpsd names the 8/200/10 ERI ship type "shiptype"; aisflow calls it eriShipType so it is never mistaken for the ITU ship type of types 5/19/24',
  unknownApplication: 'gpsd decodes some type 6/8 application payloads aisflow keeps as hex only (DAC 1 FID 12/14/18/30/32, ...)',
  merged24: 'gpsd -s also prints a merged type 24 record once it has seen both parts; aisflow emits each part as received',
} as const;

export type AllowedKey = keyof typeof ALLOWED;

export type Verdict = { equal: true; allowed?: AllowedKey } | { equal: false; allowed?: AllowedKey; why: string };

const RENAMES: Record<string, string> = {
  shipname: 'shipName',
  shiptype: 'shipType',
  vendorid: 'vendorId',
  stationtype: 'stationType',
};

export const camel = (k: string): string => RENAMES[k] ?? k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

/** (type, our field name) -> the field spec that produced it, from the same tables the decoder uses. */
const specIndex = new Map<string, FieldSpec>();
const addFields = (prefix: string, fields: readonly FieldSpec[]) => {
  for (const f of fields) {
    if (f.kind === 'group') addFields(prefix, f.fields ?? []);
    else if (f.name) specIndex.set(`${prefix}:${f.name}`, f);
  }
};
for (const [type, spec] of Object.entries(MESSAGE_SPECS)) for (const l of spec.layouts) addFields(type, l.fields);
for (const app of applications) for (const t of app.types) addFields(`${t}/${app.dac}/${app.fid}`, app.layout.fields);

export function specOf(msg: AisMessage, name: string): FieldSpec | undefined {
  if (msg.type === 6 || msg.type === 8) {
    const app = specIndex.get(`${msg.type}/${String(msg.dac)}/${String(msg.fid)}:${name}`);
    if (app) return app;
  }
  return specIndex.get(`${msg.type}:${name}`);
}

/** Decimal places gpsd printed for each numeric key of a JSON line (numbers and numeric strings). */
export function printedDecimals(line: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of line.matchAll(/"([a-z_0-9]+)":"?(-?\d+)(?:\.(\d+))?"?[,}]/g)) out.set(m[1]!, m[3]?.length ?? 0);
  return out;
}

const pad = (n: number | null | undefined, width: number, na: number): string => String(n ?? na).padStart(width, '0');
const EQUAL: Verdict = { equal: true };
const ok = (allowed: AllowedKey): Verdict => ({ equal: true, allowed });
const diff = (why: string, allowed?: AllowedKey): Verdict => (allowed ? { equal: false, why, allowed } : { equal: false, why });

/** Is our null gpsd's printed sentinel for this field? */
function isSentinel(spec: FieldSpec | undefined, g: number, decimals: number): boolean {
  if (!spec) return false;
  const div = spec.div ?? 1;
  const add = spec.add ?? 0;
  const half = 0.5 * 10 ** -decimals;
  if (spec.na !== undefined && Math.abs((spec.na + add) / div - g) <= half + 1e-9) return true;
  if (spec.naFrom !== undefined && (g + half) * div - add >= spec.naFrom - 1e-6) return true;
  return false;
}

function numbersAgree(ours: number, g: number, decimals: number): boolean {
  return Math.abs(ours - g) <= 0.5 * 10 ** -decimals + 1e-9;
}

/** Equal in their first `bits` bits (the padding of the last hex digit may differ). */
function hexBitsEqual(a: string, b: string, bits: number): boolean {
  const digits = Math.ceil(bits / 4);
  if (a.slice(0, digits - 1) !== b.slice(0, digits - 1)) return false;
  const keep = bits - (digits - 1) * 4; // payload bits in the last digit
  const mask = (0xf << (4 - keep)) & 0xf;
  return (parseInt(a[digits - 1] ?? '0', 16) & mask) === (parseInt(b[digits - 1] ?? '0', 16) & mask);
}

/** gpsd's navigation status wording -> the codes it stands for ("Reserved" covers several). */
const NAV_STATUS_TEXT = new Map<string, Set<number>>();
/** Learn gpsd's wording from types 1-3, which print both code and text (used for type 27's text-only status). */
export function learnStatusText(g: Record<string, unknown>): void {
  if (typeof g.status_text === 'string' && typeof g.status === 'number') {
    const codes = NAV_STATUS_TEXT.get(g.status_text) ?? new Set<number>();
    codes.add(g.status);
    NAV_STATUS_TEXT.set(g.status_text, codes);
  }
}

/** gpsd's words for the trend codes: SN.1/Circ.289 (FID 31) and SN/Circ.236 (FID 11) order them differently. */
const TREND: Record<number, string[]> = { 31: ['steady', 'decreasing', 'increasing'], 11: ['steady', 'increasing', 'decreasing'] };

/** Compare one gpsd key of a message with ours. */
export function compareField(key: string, g: Record<string, unknown>, ours: AisMessage, decimals: Map<string, number>): Verdict {
  const gv = g[key];
  const type = ours.type;
  if (key === 'class' || key === 'device' || key === 'scaled') return ok('envelope');
  if (key.endsWith('_text')) return ok('labels');

  // keys whose representation differs on purpose
  if (key === 'turn') {
    if (gv === 'nan') return ours.turnRaw === null ? ok('turnWords') : diff(`gpsd nan, ours turnRaw ${String(ours.turnRaw)}`);
    if (gv === 'fastleft') return ours.turnRaw === -127 ? ok('turnWords') : diff(`gpsd fastleft, ours ${String(ours.turnRaw)}`);
    if (gv === 'fastright') return ours.turnRaw === 127 ? ok('turnWords') : diff(`gpsd fastright, ours ${String(ours.turnRaw)}`);
    const t = ours.turn as number | null;
    // gpsd rounds (ROT/4.733)^2 to a whole number; ours has 0.1 resolution
    return t !== null && numbersAgree(Math.abs(t), gv as number, 0) ? ok('turnSign') : diff(`gpsd ${String(gv)}, ours ${String(t)}`, 'turnSign');
  }
  if (key === 'timestamp') {
    if (type === 4 || type === 11) {
      const sec = ours.second as number | null;
      const want = `${pad(ours.year as number, 4, 0)}-${pad(ours.month as number, 2, 0)}-${pad(ours.day as number, 2, 0)}T${pad(ours.hour as number, 2, 24)}:${pad(ours.minute as number, 2, 60)}:`;
      const gs = String(gv);
      const gSec = Number(gs.slice(want.length, want.length + 2));
      return gs.startsWith(want) && (sec === null ? gSec >= 60 : gSec === sec) ? ok('timestamp') : diff(`gpsd ${gs}, ours ${want}${String(sec)}`);
    }
    if (!('day' in ours)) return ok('unknownApplication');
    const want = `${pad(ours.day as number, 2, 0)}T${pad(ours.hour as number, 2, 24)}:${pad(ours.minute as number, 2, 60)}Z`;
    return gv === want ? ok('timestamp') : diff(`gpsd ${String(gv)}, ours ${want}`);
  }
  if (key === 'eta' && type === 5) {
    const e = (ours.eta ?? {}) as { month?: number; day?: number; hour?: number; minute?: number };
    const want = `${pad(e.month, 2, 0)}-${pad(e.day, 2, 0)}T${pad(e.hour, 2, 24)}:${pad(e.minute, 2, 60)}Z`;
    return gv === want ? ok('eta') : diff(`gpsd ${String(gv)}, ours ${want}`);
  }
  if (key === 'data') {
    if (ours.data === undefined) return diff('ours has no data');
    const want = `${String(ours.dataBits)}:${String(ours.data)}`;
    const [bits, hex] = String(gv).split(':');
    return Number(bits) === ours.dataBits && hexBitsEqual(hex ?? '', ours.data as string, ours.dataBits as number)
      ? ok('dataHex')
      : diff(`gpsd ${String(gv)}, ours ${want}`);
  }
  if (key === 'name' && type === 21) {
    const name = (ours.name as string | null) ?? '';
    const ext = (ours.nameExtension as string | null) ?? '';
    const gs = String(gv);
    // gpsd keeps the name's trailing spaces when an extension follows; ours trims them
    const equal = gs === name + ext || (ext !== '' && gs.startsWith(name) && gs.slice(name.length, 20).trim() === '' && gs.slice(20) === ext);
    return equal ? ok('nameExtension') : diff(`gpsd ${JSON.stringify(gv)}, ours ${JSON.stringify(name)} + ${JSON.stringify(ext)}`);
  }
  if (key === 'radio' && type === 26) return gv === 0 ? ok('radio26') : diff(`gpsd ${String(gv)}, ours ${String(ours.radio)}`);
  if (key === 'vendorid') {
    const v = (ours.vendorId as string | null) ?? '';
    return String(gv).startsWith(v) ? ok('vendorId') : diff(`gpsd ${String(gv)}, ours ${v}`);
  }
  if (key === 'part' && type === 24) return (gv === 'A' ? 0 : 1) === ours.partno ? ok('part24') : diff(`gpsd part ${String(gv)}, ours ${String(ours.partno)}`);
  if (key === 'status' && type === 27) {
    const codes = NAV_STATUS_TEXT.get(String(gv));
    return codes?.has(ours.status as number) ? ok('status27') : diff(`gpsd ${String(gv)}, ours ${String(ours.status)}`);
  }
  if (type === 8 && ours.dac === 1 && (ours.fid === 31 || ours.fid === 11) && 'day' in ours) {
    if (key === 'pressuretend' || key === 'leveltrend') {
      const o = ours[key] as number | null;
      return (o === null ? gv === 'N/A' : TREND[ours.fid]![o] === gv) ? ok('enumWords') : diff(`gpsd ${String(gv)}, ours ${String(o)}`);
    }
    if ((key === 'ice' || key === 'preciptype') && gv === 'N/A') return ours[key] === null ? ok('enumWords') : diff(`gpsd N/A, ours ${String(ours[key])}`);
  }
  if (type === 8 && ours.dac === 200 && ours.fid === 10) {
    if (key === 'shiptype') return gv === (ours.eriShipType ?? 0) ? ok('eriShipType') : diff(`gpsd ${String(gv)}, ours ${String(ours.eriShipType)}`);
    const factor = key === 'length' || key === 'beam' ? 10 : key === 'draught' ? 100 : 0;
    if (factor) {
      const o = ours[key] as number | null;
      return (o === null ? gv === 0 : Math.round(o * factor) === gv) ? ok('inlandUnits') : diff(`gpsd ${String(gv)}, ours ${String(o)}`);
    }
  }

  const name = camel(key);
  if ((type === 25 || type === 26) && (key === 'dest_mmsi' || key === 'app_id') && !(name in ours)) {
    return gv === 0 ? ok('binaryFlags') : diff(`gpsd ${String(gv)}, aisflow has no ${name}`);
  }
  if (!(name in ours)) {
    if ((type === 6 || type === 8) && ours.data !== undefined && g.data === undefined) return ok('unknownApplication');
    return diff(`aisflow has no ${name}`);
  }
  const ov = ours[name];
  const spec = specOf(ours, name);
  if (ov === null) {
    if (gv === 'nan') return ok('nanWords');
    if (gv === '') return ok('emptyText');
    if (spec?.optional) return ok('absentOptional');
    const gn = typeof gv === 'string' ? Number(gv) : gv;
    if (typeof gn === 'number' && isSentinel(spec, gn, decimals.get(key) ?? 0)) return EQUAL;
    return diff(`gpsd ${JSON.stringify(gv)}, ours null`);
  }
  if (typeof ov === 'number') {
    if (gv === 'fast' && (type === 9 ? ov === 1022 : ov === 102.2)) return ok('nanWords');
    if (key === 'radio' && type <= 3 && typeof gv === 'number' && gv !== ov) {
      for (let k = 1; k <= 5; k++) if (Math.floor(ov / 2 ** k) === gv) return ok('fillBitsIgnored');
    }
    const gn = typeof gv === 'string' ? Number(gv) : gv;
    if (typeof gn === 'number' && numbersAgree(ov, gn, decimals.get(key) ?? 0)) return EQUAL;
    if (typeof gv === 'boolean' && ov === (gv ? 1 : 0)) return EQUAL;
    return diff(`gpsd ${JSON.stringify(gv)}, ours ${ov}`);
  }
  if (typeof ov === 'boolean' && typeof gv === 'number') return ov === (gv === 1) ? EQUAL : diff(`gpsd ${gv}, ours ${String(ov)}`);
  return ov === gv ? EQUAL : diff(`gpsd ${JSON.stringify(gv)}, ours ${JSON.stringify(ov)}`);
}
