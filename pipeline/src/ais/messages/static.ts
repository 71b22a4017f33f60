import { group, header, spare, text, u, type Layout } from '../fields.js';
import { dimensions } from './position.js';

// Static and voyage data. Source: ITU-R M.1371-5 Annex 8 §3.3 (type 5), §3.23 (type 24);
// https://gpsd.gitlab.io/gpsd/AIVDM.html.

/** ETA month/day/hour/minute as sent (no year in AIS); the object is null when all four are n/a. */
const eta = () =>
  group('eta', [u('month', 4, { na: 0 }), u('day', 5, { na: 0 }), u('hour', 5, { na: 24 }), u('minute', 6, { na: 60 })]);

/** Type 5: static and voyage related data (424 bits). */
export const staticVoyage: Layout = {
  name: 'static and voyage data',
  fields: [
    ...header(),
    u('aisVersion', 2),
    u('imo', 30, { na: 0 }),
    text('callsign', 42),
    text('shipName', 120),
    u('shipType', 8, { na: 0 }),
    ...dimensions(),
    u('epfd', 4),
    eta(),
    u('draught', 8, { na: 0, div: 10 }), // metres, 1/10 m; 25.5 = 25.5 m or more
    text('destination', 120),
    u('dte', 1),
    spare(1),
  ],
};

/** Type 24 part A: the name (160 bits; some transmitters add 8 spare bits). */
export const staticReportA: Layout = {
  name: 'type 24 part A',
  fields: [...header(), u('partno', 2), text('shipName', 120), spare(8, { optional: true })],
};

const partBHead = () => [
  ...header(),
  u('partno', 2),
  u('shipType', 8, { na: 0 }),
  text('vendorId', 18), // manufacturer id (3 chars) ...
  u('model', 4), // ... unit model code ...
  u('serial', 20), // ... and serial number: the 42-bit "vendor id" of M.1371-5
  text('callsign', 42),
];

/** Type 24 part B: ship type, vendor, call sign, dimensions (168 bits). */
export const staticReportB: Layout = {
  name: 'type 24 part B',
  fields: [...partBHead(), ...dimensions(), spare(6)],
};

/** Type 24 part B from an auxiliary craft (MMSI 98xxxyyyy): the mother ship's MMSI replaces the dimensions. */
export const staticReportBAuxiliary: Layout = {
  name: 'type 24 part B (auxiliary craft)',
  fields: [...partBHead(), u('mothershipMmsi', 30), spare(6)],
};
