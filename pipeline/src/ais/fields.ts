import { readHex, readS, readText, readU, type Bits } from './armor.js';

/**
 * Field specs: an AIS message is described as data (pyais `bit_field`, gpsd `devtools/ais.py`),
 * offsets follow from field order, and one compiler turns each table into a reader.
 *
 * Value of a numeric field = (raw + add) / div, or null when raw is the field's "not available"
 * sentinel (`na`) or at/above `naFrom` (e.g. seconds 60-63 are special values, not seconds).
 */
export type FieldKind = 'u' | 's' | 'bool' | 'text' | 'hex' | 'spare' | 'rot' | 'group';

export interface FieldOptions {
  /** raw value meaning "not available" -> null */
  na?: number;
  /** raw values at or above this are not a measurement -> null */
  naFrom?: number;
  /** divisor applied after `add` (e.g. 10 for 1/10 knot, 600000 for 1/10000 minute) */
  div?: number;
  /** offset added to the raw value before dividing (e.g. pressure is sent as hPa - 799) */
  add?: number;
  /**
   * A trailing field a shorter message may leave out (then null). A string names a group of
   * fields that are present together or not at all (type 16's second station is three fields;
   * a 128-bit type 16 has no second station, not half of one).
   */
  optional?: boolean | string;
}

export interface FieldSpec extends FieldOptions {
  readonly kind: FieldKind;
  /** output name ('' for spare bits) */
  readonly name: string;
  /** width in bits; for `rest` fields the maximum width */
  readonly bits: number;
  /** variable length: takes the bits that remain (up to `bits`, less any fields after it) */
  readonly rest?: boolean;
  /** `group`: an object made of these fields, null when every one of them is null */
  readonly fields?: readonly FieldSpec[];
}

export const u = (name: string, bits: number, opts: FieldOptions = {}): FieldSpec => ({ kind: 'u', name, bits, ...opts });
export const s = (name: string, bits: number, opts: FieldOptions = {}): FieldSpec => ({ kind: 's', name, bits, ...opts });
export const bool = (name: string, opts: FieldOptions = {}): FieldSpec => ({ kind: 'bool', name, bits: 1, ...opts });
export const spare = (bits: number, opts: FieldOptions = {}): FieldSpec => ({ kind: 'spare', name: '', bits, ...opts });
/** 6-bit text of `bits / 6` characters. */
export const text = (name: string, bits: number, opts: FieldOptions = {}): FieldSpec => ({ kind: 'text', name, bits, ...opts });
/** Variable-length 6-bit text taking the rest of the message, at most `maxBits`. */
export const textRest = (name: string, maxBits: number): FieldSpec => ({ kind: 'text', name, bits: maxBits, rest: true });
/** Binary payload taking the rest of the message: emits `<name>` (hex) and `<name>Bits` (bit count). */
export const hexRest = (name: string, maxBits: number): FieldSpec => ({ kind: 'hex', name, bits: maxBits, rest: true });
/**
 * Rate of turn (M.1371-5 Table 46, 8 bits signed): emits `turn` in degrees per minute, signed
 * (ROT = (ROT_AIS / 4.733)^2, 0.1 resolution) and `turnRaw`, the indicator as sent. -128 is "not
 * available" (both null); ±127 means "turning faster than 5°/30 s, no turn indicator": `turn`
 * null (no rate is known), `turnRaw` ±127.
 */
export const rot = (): FieldSpec => ({ kind: 'rot', name: 'turn', bits: 8 });
export const group = (name: string, fields: FieldSpec[]): FieldSpec => ({
  kind: 'group',
  name,
  bits: fields.reduce((n, f) => n + f.bits, 0),
  fields,
});

// Positions used by several tables (M.1371-5 §3.1 Table 46 conventions).
/** longitude in 1/10000 minute, 181° = not available */
export const lon28 = (name = 'lon'): FieldSpec => s(name, 28, { na: 181 * 600000, div: 600000 });
/** latitude in 1/10000 minute, 91° = not available */
export const lat27 = (name = 'lat'): FieldSpec => s(name, 27, { na: 91 * 600000, div: 600000 });
/** longitude in 1/10 minute (types 17, 22, 23, 27) */
export const lon18 = (name = 'lon', opts: FieldOptions = {}): FieldSpec => s(name, 18, { na: 181 * 600, div: 600, ...opts });
export const lat17 = (name = 'lat', opts: FieldOptions = {}): FieldSpec => s(name, 17, { na: 91 * 600, div: 600, ...opts });

/** The common message header: type, repeat indicator, source MMSI. */
export const header = (): FieldSpec[] => [u('type', 6), u('repeat', 2), u('mmsi', 30)];

/** One decodable shape of a message. */
export interface Layout {
  /** what the layout is, for error details ('type 24 part B') */
  readonly name: string;
  readonly fields: readonly FieldSpec[];
  /** a rule between fields that a table cannot say (type 21's name extension), applied after reading */
  readonly finish?: (message: Record<string, unknown>, b: Bits) => void;
}

export interface CompiledLayout {
  readonly name: string;
  readonly fields: readonly FieldSpec[];
  /** fewest bits the layout accepts: the end of its last required field */
  readonly minBits: number;
  /** most bits the layout describes (spare and variable parts at their maximum) */
  readonly maxBits: number;
  /** true when a field takes the rest of the message (its length bounds the message) */
  readonly variable: boolean;
  /** read every field; the caller has checked `minBits <= b.length` */
  readonly read: (b: Bits) => Record<string, unknown>;
  readonly finish?: (message: Record<string, unknown>, b: Bits) => void;
}

/** Degrees per minute from the ROT_AIS indicator (see `rot`). */
export function rateOfTurn(raw: number): number | null {
  if (raw === -128 || raw === 127 || raw === -127) return null;
  const r = raw / 4.733;
  return (raw < 0 ? -Math.round(r * r * 10) : Math.round(r * r * 10)) / 10;
}

/** The spec width of a table: the sum of its fields at their maximum width. */
export function layoutBits(fields: readonly FieldSpec[]): number {
  return fields.reduce((n, f) => n + f.bits, 0);
}

const runtime = { u: readU, s: readS, t: readText, h: readHex, rot: rateOfTurn };

/**
 * `readU` unrolled for a constant offset and width: the same arithmetic as `readU` (first
 * symbol masked, whole symbols times 64, the last one shifted), with every index, mask and
 * shift worked out here instead of per message. `y` is the reader's `b.sym`.
 */
function inlineU(pos: number, len: number): string {
  let idx = Math.floor(pos / 6);
  const avail = 6 - (pos - idx * 6);
  const first = `(y[${idx}] & ${(1 << avail) - 1})`;
  if (len <= avail) return `(${first} >> ${avail - len})`;
  let e = first;
  let remaining = len - avail;
  idx++;
  while (remaining >= 6) {
    e = `(${e} * 64 + y[${idx++}])`;
    remaining -= 6;
  }
  if (remaining > 0) e = `(${e} * ${1 << remaining} + (y[${idx}] >> ${6 - remaining}))`;
  return e;
}

/**
 * Compile a table into a specialised reader: the generated function reads each field at its
 * constant offset and builds the output object in one literal (one hidden class per layout),
 * which is what lets the generic decoder keep up with hand-written ones. Still table-driven:
 * the table is the only source of offsets, widths, sentinels and scales.
 *
 * `base` shifts every offset (application payloads of types 6 and 8 start inside the message).
 * Fields after a `rest` field are addressed from the end of the message (type 26's radio status).
 */
export function compileLayout(layout: Layout, base = 0): CompiledLayout {
  const decls: string[] = [];
  const props: string[] = [];
  let tmp = 0;
  const restIndex = layout.fields.findIndex((f) => f.rest);
  const tailBits = restIndex < 0 ? 0 : layoutBits(layout.fields.slice(restIndex + 1));
  let minBits = base;
  let off = base;
  let tailStart = 0;

  const numeric = (f: FieldSpec, rawExpr: string): string => {
    if (f.na === undefined && f.naFrom === undefined && f.div === undefined && f.add === undefined) return rawExpr;
    const v = `v${tmp++}`;
    decls.push(`const ${v} = ${rawExpr};`);
    const tests: string[] = [];
    if (f.na !== undefined) tests.push(`${v} === ${f.na}`);
    if (f.naFrom !== undefined) tests.push(`${v} >= ${f.naFrom}`);
    let value = v;
    if (f.add !== undefined) value = `(${value} + ${f.add})`;
    if (f.div !== undefined) value = `${value} / ${f.div}`;
    return tests.length ? `(${tests.join(' || ')} ? null : ${value})` : value;
  };

  // Fields at a constant offset (all but those after a variable-length field) are read inline.
  const constant = (at: string): boolean => /^\d+$/.test(at);
  const expr = (f: FieldSpec, at: string): string => {
    switch (f.kind) {
      case 'u':
        return numeric(f, constant(at) ? inlineU(Number(at), f.bits) : `u(b, ${at}, ${f.bits})`);
      case 's': {
        if (!constant(at)) return numeric(f, `s(b, ${at}, ${f.bits})`);
        // two's complement, as readS does
        const raw = `v${tmp++}`;
        const half = 2 ** (f.bits - 1);
        decls.push(`const ${raw} = ${inlineU(Number(at), f.bits)};`);
        return numeric(f, `(${raw} >= ${half} ? ${raw} - ${half * 2} : ${raw})`);
      }
      case 'bool':
        return constant(at) ? `${inlineU(Number(at), 1)} === 1` : `u(b, ${at}, 1) === 1`;
      case 'text':
        return `t(b, ${at}, ${f.bits / 6})`;
      default:
        throw new Error(`field kind ${f.kind} cannot be nested`);
    }
  };

  // End offset of each named optional group: its fields need the whole group to be present.
  const groupEnd = new Map<string, number>();
  {
    let o = base;
    for (const f of layout.fields) {
      o += f.bits;
      if (typeof f.optional === 'string') groupEnd.set(f.optional, o);
    }
  }
  const guard = (f: FieldSpec, end: string, e: string): string => {
    if (!f.optional) return e;
    const need = typeof f.optional === 'string' ? String(groupEnd.get(f.optional)) : end;
    return `(n >= ${need} ? ${e} : null)`;
  };

  layout.fields.forEach((f, i) => {
    const afterRest = restIndex >= 0 && i > restIndex;
    // Offsets after a variable-length field count back from the end of the message.
    const at = afterRest ? `(n - ${tailBits - (off - tailStart)})` : String(off);
    const end = afterRest ? 'n' : String(off + f.bits);
    if (f.kind === 'spare') {
      // spare bits are not output
    } else if (f.kind === 'rot') {
      const v = `v${tmp++}`;
      decls.push(`const ${v} = ${guard(f, end, `s(b, ${at}, 8)`)};`);
      props.push(`turn: ${v} === null ? null : rot(${v})`, `turnRaw: ${v} === -128 ? null : ${v}`);
    } else if (f.kind === 'group') {
      const parts: string[] = [];
      const names: string[] = [];
      let goff = 0;
      for (const g of f.fields ?? []) {
        const v = `v${tmp++}`;
        decls.push(`const ${v} = ${expr(g, String(off + goff))};`);
        parts.push(`${JSON.stringify(g.name)}: ${v}`);
        names.push(v);
        goff += g.bits;
      }
      const allNull = names.map((v) => `${v} === null`).join(' && ');
      props.push(`${JSON.stringify(f.name)}: ${guard(f, end, `(${allNull} ? null : { ${parts.join(', ')} })`)}`);
    } else if (f.rest) {
      const len = `Math.max(0, Math.min(${f.bits}, n - ${tailBits} - ${off}))`;
      if (f.kind === 'text') {
        props.push(`${JSON.stringify(f.name)}: t(b, ${off}, (${len} / 6) | 0)`);
      } else {
        const v = `v${tmp++}`;
        decls.push(`const ${v} = ${len};`);
        props.push(`${JSON.stringify(f.name)}: h(b, ${off}, ${v})`, `${JSON.stringify(f.name + 'Bits')}: ${v}`);
      }
    } else {
      props.push(`${JSON.stringify(f.name)}: ${guard(f, end, expr(f, at))}`);
    }
    if (afterRest) minBits += f.bits;
    else if (!f.optional && !f.rest && f.kind !== 'spare') minBits = Math.max(minBits, off + f.bits);
    off += f.bits;
    if (i === restIndex) tailStart = off;
  });

  const body = `"use strict";\nreturn function read(b) {\n  const n = b.length;\n  const y = b.sym;\n  ${decls.join('\n  ')}\n  return { ${props.join(', ')} };\n};`;
  const read = new Function('u', 's', 't', 'h', 'rot', body)(runtime.u, runtime.s, runtime.t, runtime.h, runtime.rot) as CompiledLayout['read'];
  return { name: layout.name, fields: layout.fields, minBits, maxBits: off, variable: restIndex >= 0, read, ...(layout.finish ? { finish: layout.finish } : {}) };
}
