import { bool, header, lat27, lon28, rot, spare, text, u, type Layout } from '../fields.js';

// Position reports. Source: ITU-R M.1371-5 Annex 8 §3.1 (types 1-3), §3.4 (type 4/11),
// §3.9 (type 9), §3.18-3.19 (types 18/19); https://gpsd.gitlab.io/gpsd/AIVDM.html.

/** speed over ground in 1/10 knot; 1023 = not available, 1022 = 102.2 knots or more */
const speed = () => u('speed', 10, { na: 1023, div: 10 });
/** course over ground in 1/10 degree; 3600 = not available */
const course = () => u('course', 12, { na: 3600, div: 10 });
/** true heading in degrees; 511 = not available */
const heading = () => u('heading', 9, { na: 511 });
/** UTC second of the report; 60 = not available, 61-63 = positioning system modes, not seconds */
const second = () => u('second', 6, { naFrom: 60 });

/** Types 1, 2, 3: Class A position report (168 bits). */
export const positionReportA: Layout = {
  name: 'class A position report',
  fields: [
    ...header(),
    u('status', 4), // navigation status; 15 = not defined (kept: it is a defined code)
    rot(),
    speed(),
    bool('accuracy'),
    lon28(),
    lat27(),
    course(),
    heading(),
    second(),
    u('maneuver', 2),
    spare(3),
    bool('raim'),
    u('radio', 19),
  ],
};

/** Types 4 (base station) and 11 (UTC/date response): 168 bits. */
export const baseStationReport: Layout = {
  name: 'base station report',
  fields: [
    ...header(),
    u('year', 14, { na: 0 }),
    u('month', 4, { na: 0 }),
    u('day', 5, { na: 0 }),
    u('hour', 5, { na: 24 }),
    u('minute', 6, { na: 60 }),
    second(),
    bool('accuracy'),
    lon28(),
    lat27(),
    u('epfd', 4), // 0 = undefined, 15 = internal GNSS; kept as sent
    spare(10),
    bool('raim'),
    u('radio', 19),
  ],
};

/** Type 9: standard SAR aircraft position report (168 bits). */
export const sarAircraftReport: Layout = {
  name: 'SAR aircraft position report',
  fields: [
    ...header(),
    u('alt', 12, { na: 4095 }), // metres; 4094 = 4094 m or higher
    u('speed', 10, { na: 1023 }), // whole knots for aircraft; 1022 = 1022 knots or more
    bool('accuracy'),
    lon28(),
    lat27(),
    course(),
    second(),
    u('regional', 8),
    u('dte', 1), // 0 = data terminal ready
    spare(3),
    bool('assigned'),
    bool('raim'),
    u('radio', 20),
  ],
};

const classBPosition = () => [
  ...header(),
  u('reserved', 8),
  speed(),
  bool('accuracy'),
  lon28(),
  lat27(),
  course(),
  heading(),
  second(),
];

/** Type 18: standard Class B position report (168 bits). */
export const positionReportB: Layout = {
  name: 'class B position report',
  fields: [
    ...classBPosition(),
    u('regional', 2),
    bool('cs'),
    bool('display'),
    bool('dsc'),
    bool('band'),
    bool('msg22'),
    bool('assigned'),
    bool('raim'),
    u('radio', 20),
  ],
};

/** Type 19: extended Class B position report (312 bits). */
export const extendedReportB: Layout = {
  name: 'extended class B position report',
  fields: [
    ...classBPosition(),
    u('regional', 4),
    text('shipName', 120),
    u('shipType', 8, { na: 0 }),
    ...dimensions(),
    u('epfd', 4),
    bool('raim'),
    u('dte', 1),
    bool('assigned'),
    spare(4),
  ],
};

/**
 * Reference point for the reported position, metres (M.1371-5 Fig. 42). A 0 is kept as 0:
 * the spec uses all four zero for "not available", but one zero alone is a real distance
 * (antenna at the port edge, say).
 */
export function dimensions() {
  return [u('toBow', 9), u('toStern', 9), u('toPort', 6), u('toStarboard', 6)];
}
