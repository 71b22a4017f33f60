import { describe, expect, it } from 'vitest';
import { ManualClock } from '../shared/clock.js';
import { createDecoder } from './decoder.js';
import type { AisMessage } from './types.js';

/**
 * One real sentence (or group) per message type and variant, from the bundled captures
 * (mostly gpsd-sample.aivdm, whose comments give the values decoded by other tools). The
 * expected values were checked by hand against those comments, gpsd's `gpsdecode -j` and
 * ITU-R M.1371-5; numbers compare to 6 decimals.
 */
const cases: Array<[name: string, lines: string[], expected: Record<string, unknown>]> = [
  ['type 1 (fast left turn, no heading)', ['!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A'], { type: 1, mmsi: 371798000, status: 0, turn: null, turnRaw: -127, speed: 12.3, accuracy: true, lon: -123.395383, lat: 48.381633, course: 224, heading: 215, second: 33, maneuver: 0, raim: false, radio: 34017 }],
  ['type 1 (n/a heading, no ROT)', ['!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23'], { type: 1, mmsi: 227006760, turn: null, turnRaw: null, speed: 0, lon: 0.13138, lat: 49.475577, course: 36.7, heading: null, second: 14, radio: 22136 }],
  ['type 2', ['!AIVDM,1,1,,B,25Cjtd0Oj;Jp7ilG7=UkKBoB0<06,0*60'], { type: 2, mmsi: 356302000, turnRaw: 127, speed: 13.9, lon: -71.626143, lat: 40.392358, course: 87.7, heading: 91, second: 41 }],
  ['type 3 (moored)', ['!AIVDM,1,1,,A,38Id705000rRVJhE7cl9n;160000,0*40'], { type: 3, mmsi: 563808000, status: 5, turn: 0, turnRaw: 0, speed: 0, lon: -76.327533, lat: 36.91, course: 252, heading: 352 }],
  ['type 4', ['!AIVDM,1,1,,A,403OviQuMGCqWrRO9>E6fE700@GO,0*4D'], { type: 4, mmsi: 3669702, year: 2007, month: 5, day: 14, hour: 19, minute: 57, second: 39, accuracy: true, lon: -76.352362, lat: 36.883767, epfd: 7, radio: 67039 }],
  [
    'type 5 (two sentences)',
    ['!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C', '!AIVDM,2,2,1,A,88888888880,2*25'],
    { type: 5, mmsi: 351759000, aisVersion: 0, imo: 9134270, callsign: '3FOF8', shipName: 'EVER DIADEM', shipType: 70, toBow: 225, toStern: 70, toPort: 1, toStarboard: 31, epfd: 1, eta: { month: 5, day: 15, hour: 14, minute: 0 }, draught: 12.2, destination: 'NEW YORK', dte: 0 },
  ],
  ['type 6 (unknown application: hex only)', ['!AIVDM,1,1,,B,6B?n;be:cbapalgc;i6?Ow4,2*4A'], { type: 6, repeat: 1, mmsi: 150834090, seqno: 3, destMmsi: 313240222, retransmit: false, dac: 669, fid: 11, data: 'eb2f118f7ff1', dataBits: 48 }],
  [
    'type 6 DAC 235 FID 10 aid-to-navigation monitoring',
    ['!AIVDM,1,1,4,B,6>jR0600V:C0>da4P106P00,2*02'],
    { type: 6, mmsi: 992509976, destMmsi: 2500912, dac: 235, fid: 10, anaInt: 13.7, anaExt1: 0.05, anaExt2: 0.05, racon: 2, light: 2, alarm: false, statExt: 0, offPos: false },
  ],
  ['type 7', ['!AIVDM,1,1,,A,702R5`hwCjq8,0*6B'], { type: 7, mmsi: 2655651, mmsi1: 265538450, mmsiseq1: 0, mmsi2: null, mmsi4: null }],
  [
    'type 8 DAC 1 FID 31 meteo/hydro (all sensors n/a)',
    ['!AIVDO,1,1,5,A,8>jR06@0Gwli:QQUP3en?wvlFR06EuOwgwl?wnSwe7wvlOwwsAwwnSGmwvh0,0*51'],
    { type: 8, mmsi: 992509977, dac: 1, fid: 31, dataBits: 304, lon: -6.134067, lat: 53.294933, accuracy: false, day: 29, hour: 23, minute: 24, wspeed: null, airtemp: null, pressure: null, visgreater: false, waterlevel: null, seastate: null, ice: null },
  ],
  [
    'type 8 DAC 1 FID 11 meteo/hydro (IMO SN/Circ.236; values from the Kanaton decoder in gpsd-sample.aivdm)',
    ['!AIVDO,1,1,4,B,8>jR06@0Bk3:wOli;<`WPhh<1rqVBQf2V@Pdt0J82avIM2b<<Rv1t<ot=@1,2*54'],
    { type: 8, mmsi: 992509977, dac: 1, fid: 11, lat: 53.294883, lon: -6.133983, day: 18, hour: 17, minute: 15, wspeed: 3, wgust: 6, wdir: 12, wgustdir: 15, airtemp: 14.2, humidity: 50, dewpoint: 12.3, pressure: 1024, visibility: 15.3, waterlevel: -8.4, waveheight: 4.2, seastate: 3, watertemp: 12.3, salinity: 5.3, ice: 0 },
  ],
  [
    'type 8 DAC 200 FID 10 inland static',
    ['!AIVDM,1,1,,B,83aDChPj2d<dL<uM=hhhI?a@6HP0,0*40'],
    { type: 8, mmsi: 244650946, dac: 200, fid: 10, vin: '02103547', length: 39, beam: 5, eriShipType: 8010, hazard: 0, draught: 2.04, loaded: 1, speedQ: false },
  ],
  ['type 8 (unknown application)', ['!AIVDM,1,1,,A,85Mwp`1Kf3aCnsNvBWLi=wQuNhA5t43N`5nCuI=p<IBfVqnMgPGs,0*47'], { type: 8, mmsi: 366999712, dac: 366, fid: 56, dataBits: 256, data: '3a53dbb7be4a773137f87d7b0445f040dea05d93f593783194ae9b9d9dbe05fb' }],
  ['type 9', ['!AIVDM,1,1,,A,91b77=h3h00nHt0Q3r@@07000<0b,0*69'], { type: 9, mmsi: 111265591, alt: 15, speed: 0, lon: 11.8816, lat: 57.778455, course: 0, second: 28, assigned: false, radio: 49194 }],
  ['type 10', ['!AIVDM,1,1,,B,:5MlU41GMK6@,0*6C'], { type: 10, mmsi: 366814480, destMmsi: 366832740 }],
  ['type 11 (USCG trailer)', ['!AIVDM,1,1,,B,;4R33:1uUK2F`q?mOt@@GoQ00000,0*5D,s28089,d-103,T39.44353985,x147521,r08TPHI1,1242958962'], { type: 11, mmsi: 304137000, year: 2009, month: 5, day: 22, hour: 2, minute: 22, second: 40, lon: -94.407683, lat: 28.409117 }],
  ['type 12', ['!AIVDM,1,1,,A,<02:oP0kKcv0@<51C5PB5@?BDPD?P:?2?EB7PDB16693P381>>5<PikP,0*37'], { type: 12, mmsi: 2275200, seqno: 0, destMmsi: 215724000, retransmit: false, text: 'PLEASE REPORT TO JOBOURG TRAFFIC CHANNEL 13' }],
  ['type 13', ['!AIVDM,1,1,,A,=39UOj0jFs9R,0*65'], { type: 13, mmsi: 211378120, mmsi1: 211217560, mmsiseq1: 2, mmsi2: null }],
  ['type 14', ['!AIVDM,1,1,,A,>5?Per18=HB1U:1@E=B0m<L,2*51'], { type: 14, mmsi: 351809000, text: 'RCVD YR TEST MSG' }],
  ['type 15 (one station, one request)', ['!AIVDM,1,1,,A,?5OP=l00052HD00,2*5B'], { type: 15, mmsi: 368578000, mmsi1: 5158, type1_1: 5, offset1_1: 0, type1_2: null, mmsi2: null }],
  ['type 16 (one station, 96 bits)', ['!AIVDM,1,1,,A,@01uEO@mMk7P<P00,0*18'], { type: 16, mmsi: 2053501, mmsi1: 224251000, offset1: 200, increment1: 0, mmsi2: null, offset2: null }],
  [
    'type 17 (two sentences)',
    ['!AIVDM,2,1,5,A,A02VqLPA4I6C07h5Ed1h<OrsuBTTwS?r:C?w`?la<gno1RTRwSP9:BcurA8a,0*3A', '!AIVDM,2,2,5,A,:Oko02TSwu8<:Jbb,0*11'],
    { type: 17, mmsi: 2734450, lon: 29.13, lat: 59.986667, dataBits: 376 },
  ],
  ['type 18', ['!AIVDM,1,1,,A,B52K>;h00Fc>jpUlNV@ikwpUoP06,0*4C'], { type: 18, mmsi: 338087471, reserved: 0, speed: 0.1, lon: -74.072132, lat: 40.68454, course: 79.6, heading: null, second: 49, cs: true, display: false, dsc: true, band: true, msg22: true, assigned: false, raim: true, radio: 917510 }],
  ['type 19', ['!AIVDM,1,1,,B,C5N3SRgPEnJGEBT>NhWAwwo862PaLELTBJ:V00000000S0D:R220,0*0B'], { type: 19, mmsi: 367059850, reserved: 248, speed: 8.7, lon: -88.810392, lat: 29.543695, course: 335.9, heading: null, second: 46, regional: 4, shipName: 'CAPT.J.RIMES', shipType: 70, toBow: 5, toStern: 21, toPort: 4, toStarboard: 4, epfd: 1 }],
  ['type 20 (one reservation)', ['!AIVDM,1,1,,A,Dh3OvjB8IN>4,0*1D'], { type: 20, repeat: 3, mmsi: 3669705, offset1: 2182, number1: 5, timeout1: 7, increment1: 225, offset2: null, increment4: null }],
  [
    'type 21 (name extension)',
    ['!AIVDM,2,1,5,B,E1mg=5J1T4W0h97aRh6ba84<h2d;W:Te=eLvH50```q,0*46', '!AIVDM,2,2,5,B,:D44QDlp0C1DU00,2*36'],
    { type: 21, mmsi: 123456789, aidType: 20, name: 'CHINA ROSE MURPHY EX', nameExtension: 'PRESS ALERT', lon: -122.698592, lat: 47.920618, toBow: 5, epfd: 1, second: 50, regional: 165, virtualAid: false },
  ],
  ['type 22 (area)', ['!AIVDM,1,1,,A,F030ot22N2P6aoQbhe4736L20000,0*1A'], { type: 22, mmsi: 3160048, channelA: 2087, channelB: 2088, txrx: 0, power: false, neLon: -73.5, neLat: 45.55, swLon: -80.166667, swLat: 42.333333, addressed: false, zonesize: 4 }],
  ['type 22 (addressed)', ['!AIVDM,1,1,,A,F@@W>gOP00PH=JrN9l000?wB2HH;,0*44'], { type: 22, mmsi: 17419965, dest1: 28144881, dest2: 268435519, addressed: true, power: true }],
  ['type 23', ['!AIVDM,1,1,,B,G02:Kn01R`sn@291nj600000900,2*12'], { type: 23, mmsi: 2268120, neLon: 2.63, neLat: 51.07, swLon: 1.826667, swLat: 50.68, stationType: 6, shipType: null, interval: 9, quiet: 0 }],
  ['type 24 part A', ['!AIVDM,1,1,,A,H42O55i18tMET00000000000000,2*6D'], { type: 24, mmsi: 271041815, partno: 0, shipName: 'PROGUY' }],
  ['type 24 part B', ['!AIVDM,1,1,,A,H42O55lti4hhhilD3nink000?050,0*40'], { type: 24, mmsi: 271041815, partno: 1, shipType: 60, vendorId: '1D0', model: 12, serial: 199796, callsign: 'TC6163', toBow: 0, toStern: 15, toPort: 0, toStarboard: 5 }],
  ['type 25 (addressed, unstructured)', ['!AIVDM,1,1,,A,I6SWo?8P00a3PKpEKEVj0?vNP<65,0*73'], { type: 25, mmsi: 440006460, addressed: true, structured: false, destMmsi: 134218384, dataBits: 98, data: 'e06f855b566c803fe7a0306140' }],
  ['type 25 (broadcast, structured)', ['!AIVDM,1,1,,A,I8IRGB40QPPa0:<HP::V=gwv0l48,0*0E'], { type: 25, mmsi: 563648328, addressed: false, structured: true, appId: 134, dataBits: 112 }],
  ['type 26 (radio status at the end)', ['!AIVDM,1,1,,B,JaL0mr5P000DtRDMddr@0?vF06iD,0*75'], { type: 26, repeat: 2, mmsi: 633353704, structured: true, appId: 24576, data: '0014f2251db2ce9000ff9600', dataBits: 92, radio: 27732 }],
  ['type 27', ['!AIVDM,1,1,,A,KCQ9r=hrFUnH7P00,0*41'], { type: 27, repeat: 1, mmsi: 236091959, accuracy: false, raim: false, status: 3, lon: -154.201667, lat: 87.065, speed: 0, course: 0, gnss: false }],
];

function decodeAll(lines: string[]): AisMessage {
  const decoder = createDecoder({ clock: new ManualClock(0) });
  const outcomes = lines.map((l) => decoder.decode(l));
  const last = outcomes[outcomes.length - 1]!;
  expect(outcomes.slice(0, -1).every((o) => o.kind === 'fragment')).toBe(true);
  if (last.kind !== 'message') throw new Error(`expected a message, got ${JSON.stringify(last)}`);
  return last.message;
}

describe('message types 1-27', () => {
  it.each(cases)('%s', (_name, lines, expected) => {
    const message = decodeAll(lines);
    for (const [key, want] of Object.entries(expected)) {
      const got = message[key];
      if (typeof want === 'number' && !Number.isInteger(want)) expect(got, key).toBeCloseTo(want, 6);
      else expect(got, key).toEqual(want);
    }
  });

  it('covers every message type 1-27', () => {
    const types = new Set(cases.map(([, , e]) => e.type));
    expect([...types].sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 27 }, (_, i) => i + 1));
  });

  it('reports the rate of turn in degrees per minute with its sign', () => {
    // ROT_AIS -5 (AISHub capture): (5 / 4.733)^2 = 1.116 degrees/min, to port
    const message = decodeAll(['!AIVDM,1,1,,A,13:jTr0vjvP6<v@M9f@8c6qp0d7<,0*05']);
    expect(message).toMatchObject({ mmsi: 212641000, turnRaw: -5, turn: -1.1, second: null });
  });
});
