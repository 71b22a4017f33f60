// Field documentation generated from the message tables: units, scales and "not available" rules.
import { MESSAGE_SPECS } from './registry.js';
import { applications } from './messages/applications.js';
import type { FieldSpec, Layout } from './fields.js';

/** Units by field name, where a name always means the same quantity. */
const UNITS: Record<string, string> = {
  lat: 'degrees (WGS84, + north)', lon: 'degrees (WGS84, + east)', neLat: 'degrees',
  neLon: 'degrees', swLat: 'degrees', swLon: 'degrees', speed: 'knots', course: 'degrees true',
  heading: 'degrees true', turn: 'degrees/minute (+ starboard)', draught: 'metres',
  toBow: 'metres', toStern: 'metres', toPort: 'metres', toStarboard: 'metres', alt: 'metres',
  second: 'UTC second', length: 'metres', beam: 'metres', airtemp: '°C', dewpoint: '°C',
  watertemp: '°C', pressure: 'hPa', wspeed: 'knots', wgust: 'knots', wdir: 'degrees',
  wgustdir: 'degrees', visibility: 'nautical miles', waterlevel: 'metres', cspeed: 'knots',
  cspeed2: 'knots', cspeed3: 'knots', cdir: 'degrees', cdir2: 'degrees', cdir3: 'degrees',
  cdepth2: 'metres', cdepth3: 'metres', waveheight: 'metres', swellheight: 'metres',
  waveperiod: 'seconds', swellperiod: 'seconds', wavedir: 'degrees', swelldir: 'degrees',
  humidity: '%', salinity: '‰', seastate: 'Beaufort',
};
const rows = (f: FieldSpec): string[] => {
  if (f.kind === 'spare') return [];
  if (f.kind === 'rot') {
    return [
      '| `turn` | 8 | number \\| null | degrees/minute, signed (+ = starboard): (ROT/4.733)², 0.1 resolution | -128, ±127 (no rate known) |',
      '| `turnRaw` | (same 8 bits) | number \\| null | ROT indicator as sent, -127..127 (±127 = turning fast, no turn indicator) | -128 |',
    ];
  }
  if (f.kind === 'group') return [`| \`${f.name}\` | ${f.bits} | object \\| null | { ${(f.fields ?? []).map((g) => g.name).join(', ')} }, each null when not available | all four not available |`];
  const type = f.kind === 'bool' ? 'boolean' : f.kind === 'text' ? 'string' : f.kind === 'hex' ? 'string (hex)' : 'number';
  const nullable = f.optional || f.na !== undefined || f.naFrom !== undefined || f.kind === 'text' ? ' \\| null' : '';
  const add = f.add !== undefined ? ` ${f.add < 0 ? '-' : '+'} ${Math.abs(f.add)}` : '';
  const scale = f.div !== undefined || f.add !== undefined ? `raw${add}${f.div !== undefined ? ` / ${f.div}` : ''}` : '';
  const unit = [UNITS[f.name], scale].filter(Boolean).join('; ');
  const na = [
    f.na !== undefined ? `raw ${f.na}` : '',
    f.naFrom !== undefined ? `raw ≥ ${f.naFrom}` : '',
    f.kind === 'text' ? 'empty / all `@`' : '',
    f.optional ? 'absent (short message)' : '',
  ]
    .filter(Boolean)
    .join(', ');
  const bits = f.rest ? `≤ ${f.bits} (rest)` : String(f.bits);
  const rows = [`| \`${f.name}\` | ${bits} | ${type}${nullable} | ${unit} | ${na} |`];
  if (f.kind === 'hex') rows.push(`| \`${f.name}Bits\` | | number | bit count of \`${f.name}\` | |`);
  return rows;
};
const table = (l: Layout) => ['| field | bits | type | unit / scale | null when |', '| --- | --- | --- | --- | --- |', ...l.fields.flatMap(rows)].join('\n');
/**
 * The per-type field tables of docs/ais-fields.md, generated from the same tables the decoder
 * runs on (a unit test keeps the page in step; scripts/golden/ais-fields-doc.ts rewrites it).
 */
/** The line in docs/ais-fields.md after which everything is generated. */
export const GENERATED_MARKER = '<!-- generated below by scripts/golden/ais-fields-doc.ts: do not edit -->';

export function fieldTablesMarkdown(): string {
  const out: string[] = [];
  const groups = new Map<string, number[]>();
  // types that share their tables (1-3, 4/11, 7/13) get one section
  for (const [t, spec] of Object.entries(MESSAGE_SPECS)) {
    const k = spec.layouts.map((l) => l.name).join('|');
    groups.set(k, [...(groups.get(k) ?? []), Number(t)]);
  }
  for (const types of groups.values()) {
    const spec = MESSAGE_SPECS[types[0]!]!;
    out.push(`### Type${types.length > 1 ? 's' : ''} ${types.join(', ')}: ${spec.layouts[0]!.name.replace(/ \(.*/, '')}\n`);
    for (const l of spec.layouts) {
      if (spec.layouts.length > 1) out.push(`#### ${l.name}\n`);
      out.push(table(l) + '\n');
    }
  }
  for (const a of applications) {
    out.push(`### Type ${a.types.join('/')} DAC ${a.dac} FID ${a.fid}: ${a.layout.name.replace(/ \(.*/, '')}\n`);
    out.push('Added beside `dac`, `fid`, `data` and `dataBits` when the payload is long enough.\n');
    out.push(table(a.layout) + '\n');
  }
  return out.join('\n');
}
