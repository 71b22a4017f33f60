import { readU } from '../armor.js';
import { bool, header, hexRest, lat17, lat27, lon18, lon28, spare, text, textRest, u, type Layout } from '../fields.js';
import { dimensions } from './position.js';

// Navigation infrastructure: DGNSS, aids to navigation, channel and group management,
// long-range. Source: ITU-R M.1371-5 Annex 8 §3.17, §3.21-3.24, §3.27;
// https://gpsd.gitlab.io/gpsd/AIVDM.html.

/** Type 17: DGNSS broadcast binary message (80-816 bits); the correction data is kept as hex. */
export const dgnssBroadcast: Layout = {
  name: 'DGNSS broadcast',
  fields: [...header(), spare(2), lon18(), lat17(), spare(5), hexRest('data', 736)],
};

/** Type 21: aid-to-navigation report (272-360 bits); a name longer than 20 characters continues in `nameExtension`. */
export const aidToNavigation: Layout = {
  name: 'aid-to-navigation report',
  fields: [
    ...header(),
    u('aidType', 5),
    text('name', 120),
    bool('accuracy'),
    lon28(),
    lat27(),
    ...dimensions(),
    u('epfd', 4),
    u('second', 6, { naFrom: 60 }),
    bool('offPosition'),
    // Some aids to navigation send 266-271 bits (AISHub capture); what is cut off reads as null.
    u('regional', 8, { optional: true }),
    bool('raim', { optional: true }),
    bool('virtualAid', { optional: true }),
    bool('assigned', { optional: true }),
    spare(1, { optional: true }),
    textRest('nameExtension', 88),
  ],
  // The extension continues a name that fills all 20 characters; after a shorter ('@'-padded)
  // name the bits are padding, whatever they decode to.
  finish: (m, b) => {
    if (m.nameExtension !== null && readU(b, 43 + 19 * 6, 6) === 0) m.nameExtension = null;
  },
};

const channelHead = () => [...header(), spare(2), u('channelA', 12), u('channelB', 12), u('txrx', 4), bool('power')];
const channelTail = () => [bool('addressed'), bool('bandA'), bool('bandB'), u('zonesize', 3), spare(23)];

/** Type 22 broadcast: the area is given by its NE and SW corners in 1/10 minute (168 bits). */
export const channelManagementArea: Layout = {
  name: 'channel management (area)',
  fields: [...channelHead(), lon18('neLon'), lat17('neLat'), lon18('swLon'), lat17('swLat'), ...channelTail()],
};

/** Type 22 addressed: two destination MMSIs instead of the area (168 bits). */
export const channelManagementAddressed: Layout = {
  name: 'channel management (addressed)',
  fields: [...channelHead(), u('dest1', 30), spare(5), u('dest2', 30), spare(5), ...channelTail()],
};

/** Type 23: group assignment command (160 bits). */
export const groupAssignment: Layout = {
  name: 'group assignment command',
  fields: [
    ...header(),
    spare(2),
    lon18('neLon'),
    lat17('neLat'),
    lon18('swLon'),
    lat17('swLat'),
    u('stationType', 4),
    u('shipType', 8, { na: 0 }),
    spare(22),
    u('txrx', 2),
    u('interval', 4),
    u('quiet', 4),
    spare(6),
  ],
};

/** Type 27: long-range broadcast (96 bits): position in 1/10 minute, whole knots and degrees. */
export const longRange: Layout = {
  name: 'long-range position report',
  fields: [
    ...header(),
    bool('accuracy'),
    bool('raim'),
    u('status', 4),
    lon18(),
    lat17(),
    u('speed', 6, { na: 63 }), // knots; 62 = 62 knots or more
    u('course', 9, { na: 511 }), // degrees
    bool('gnss'), // false = current GNSS position, true = not a GNSS position
    spare(1),
  ],
};
