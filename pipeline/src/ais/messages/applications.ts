import { bool, s, spare, text, u, type Layout } from '../fields.js';

// Application-specific payloads of types 6 and 8, keyed by (DAC, FID). Offsets start at the
// application data (bit 56 of type 8, bit 88 of type 6). Sources: IMO SN.1/Circ.289
// (international DAC 1), CCNR inland AIS standard (DAC 200); https://gpsd.gitlab.io/gpsd/AIVDM.html.

export interface ApplicationSpec {
  dac: number;
  fid: number;
  /** the message types that carry it (6 addressed, 8 broadcast) */
  types: readonly number[];
  layout: Layout;
}

/**
 * Surface current, second and third current, waves, swell and sea state: the same 111 bits in
 * FID 31 and its predecessor FID 11.
 */
const currentsWavesAndSea = [
  u('cspeed', 8, { naFrom: 251, div: 10 }), // knots
  u('cdir', 9, { naFrom: 360 }),
  u('cspeed2', 8, { naFrom: 251, div: 10 }),
  u('cdir2', 9, { naFrom: 360 }),
  u('cdepth2', 5, { naFrom: 31 }), // metres
  u('cspeed3', 8, { naFrom: 251, div: 10 }),
  u('cdir3', 9, { naFrom: 360 }),
  u('cdepth3', 5, { naFrom: 31 }),
  u('waveheight', 8, { naFrom: 251, div: 10 }), // metres
  u('waveperiod', 6, { naFrom: 61 }), // seconds
  u('wavedir', 9, { naFrom: 360 }),
  u('swellheight', 8, { naFrom: 251, div: 10 }),
  u('swellperiod', 6, { naFrom: 61 }),
  u('swelldir', 9, { naFrom: 360 }),
  u('seastate', 4, { naFrom: 13 }), // Beaufort
];

/** DAC 1 FID 31: meteorological and hydrographic data (304 bits after the type-8 header). */
export const meteoHydro: ApplicationSpec = {
  dac: 1,
  fid: 31,
  types: [8],
  layout: {
    name: 'meteorological and hydrographic data (DAC 1, FID 31)',
    fields: [
      s('lon', 25, { na: 181 * 60000, div: 60000 }), // 1/1000 minute
      s('lat', 24, { na: 91 * 60000, div: 60000 }),
      bool('accuracy'),
      u('day', 5, { na: 0 }),
      u('hour', 5, { na: 24 }),
      u('minute', 6, { na: 60 }),
      u('wspeed', 7, { naFrom: 127 }), // knots, 126 = 126 or more
      u('wgust', 7, { naFrom: 127 }),
      u('wdir', 9, { naFrom: 360 }), // degrees
      u('wgustdir', 9, { naFrom: 360 }),
      s('airtemp', 11, { na: -1024, div: 10 }), // °C
      u('humidity', 7, { naFrom: 101 }), // %
      s('dewpoint', 10, { na: 501, div: 10 }), // °C
      u('pressure', 9, { naFrom: 403, add: 799 }), // hPa: 0 = 799 or less, 402 = 1201 or more
      u('pressuretend', 2, { na: 3 }), // 0 steady, 1 decreasing, 2 increasing
      bool('visgreater'), // visibility is greater than the value given
      u('visibility', 7, { naFrom: 127, div: 10 }), // nautical miles
      u('waterlevel', 12, { naFrom: 4001, add: -1000, div: 100 }), // metres, -10.00..+30.00
      u('leveltrend', 2, { na: 3 }),
      ...currentsWavesAndSea,
      s('watertemp', 10, { na: 501, div: 10 }), // °C
      u('preciptype', 3, { na: 7 }),
      u('salinity', 9, { naFrom: 501, div: 10 }), // ‰; 510 n/a, 511 sensor not available
      u('ice', 2, { na: 3 }),
      spare(10),
    ],
  },
};

/**
 * DAC 1 FID 11: meteorological and hydrographic data of IMO SN/Circ.236, superseded by FID 31
 * but still on the air (352 bits in type 8). Unlike FID 31 latitude comes first and several
 * values are sent with an offset (air temperature +60 °C, dew point +20 °C, water level +10 m,
 * water temperature +10 °C, pressure -800 hPa).
 */
export const meteoHydroLegacy: ApplicationSpec = {
  dac: 1,
  fid: 11,
  types: [8],
  layout: {
    name: 'meteorological and hydrographic data (DAC 1, FID 11, IMO SN/Circ.236)',
    fields: [
      s('lat', 24, { na: 91 * 60000, div: 60000 }), // 1/1000 minute
      s('lon', 25, { na: 181 * 60000, div: 60000 }),
      u('day', 5, { na: 0 }),
      u('hour', 5, { na: 24 }),
      u('minute', 6, { na: 60 }),
      u('wspeed', 7, { naFrom: 127 }), // knots
      u('wgust', 7, { naFrom: 127 }),
      u('wdir', 9, { naFrom: 360 }), // degrees
      u('wgustdir', 9, { naFrom: 360 }),
      u('airtemp', 11, { naFrom: 1201, add: -600, div: 10 }), // °C, -60.0..+60.0
      u('humidity', 7, { naFrom: 101 }), // %
      u('dewpoint', 10, { naFrom: 701, add: -200, div: 10 }), // °C, -20.0..+50.0
      u('pressure', 9, { naFrom: 402, add: 800 }), // hPa, 800..1200
      u('pressuretend', 2, { na: 3 }),
      u('visibility', 8, { naFrom: 251, div: 10 }), // nautical miles
      u('waterlevel', 9, { naFrom: 401, add: -100, div: 10 }), // metres, -10.0..+30.0
      u('leveltrend', 2, { na: 3 }),
      ...currentsWavesAndSea,
      u('watertemp', 10, { naFrom: 601, add: -100, div: 10 }), // °C, -10.0..+50.0
      u('preciptype', 3, { na: 7 }),
      u('salinity', 9, { naFrom: 501, div: 10 }), // ‰
      u('ice', 2, { na: 3 }),
      spare(6),
    ],
  },
};

/** DAC 200 FID 10: inland ship static and voyage data (112 bits after the type-8 header). */
export const inlandStatic: ApplicationSpec = {
  dac: 200,
  fid: 10,
  types: [8],
  layout: {
    name: 'inland ship static and voyage data (DAC 200, FID 10)',
    fields: [
      text('vin', 48), // European vessel identification number (ENI)
      u('length', 13, { na: 0, div: 10 }), // metres
      u('beam', 10, { na: 0, div: 10 }), // metres
      u('eriShipType', 14, { na: 0 }), // ERI ship type code, not the ITU ship type of type 5
      u('hazard', 3, { na: 5 }), // blue cones; 5 = unknown
      u('draught', 11, { na: 0, div: 100 }), // metres
      u('loaded', 2, { na: 0 }), // 1 loaded, 2 unloaded
      bool('speedQ'),
      bool('courseQ'),
      bool('headingQ'),
      spare(8),
    ],
  },
};

/**
 * DAC 235 (UK) and 250 (Ireland) FID 10: aid-to-navigation monitoring data, sent addressed
 * (type 6) by lighthouse and buoy AIS stations (48 bits after the type-6 header).
 */
const atonMonitoring = (dac: number): ApplicationSpec => ({
  dac,
  fid: 10,
  types: [6],
  layout: {
    name: `aid-to-navigation monitoring (DAC ${dac}, FID 10)`,
    fields: [
      u('anaInt', 10, { div: 20 }), // volts, 0.05 V steps: internal supply
      u('anaExt1', 10, { div: 20 }), // volts: external analogue 1
      u('anaExt2', 10, { div: 20 }), // volts: external analogue 2
      u('racon', 2), // 0 none, 1 not monitored, 2 operational, 3 error
      u('light', 2), // 0 none, 1 on, 2 off, 3 error
      bool('alarm'),
      u('statExt', 8), // external digital inputs, one bit each
      bool('offPos'),
      spare(4),
    ],
  },
});

export const applications: readonly ApplicationSpec[] = [meteoHydro, meteoHydroLegacy, inlandStatic, atonMonitoring(235), atonMonitoring(250)];
