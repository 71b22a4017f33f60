import { readU, type Bits } from './armor.js';
import { compileLayout, type CompiledLayout, type Layout } from './fields.js';
import { applications } from './messages/applications.js';
import { acknowledge, addressedBinary, addressedSafety, assignmentCommand, broadcastBinary, broadcastSafety, dataLinkManagement, interrogation, multiSlotBinary, singleSlotBinary, utcInquiry } from './messages/messaging.js';
import { aidToNavigation, channelManagementAddressed, channelManagementArea, dgnssBroadcast, groupAssignment, longRange } from './messages/navigation.js';
import { baseStationReport, extendedReportB, positionReportA, positionReportB, sarAircraftReport } from './messages/position.js';
import { staticReportA, staticReportB, staticReportBAuxiliary, staticVoyage } from './messages/static.js';

/**
 * Message type -> its layouts. Most types have one; the rest pick one from bits they carry
 * (type 22 addressed flag, type 24 part number, type 25/26 flags). `select` returns an index
 * into `layouts`, or a string explaining why no layout fits.
 */
export interface MessageSpec {
  readonly layouts: readonly Layout[];
  readonly select?: (b: Bits) => number | string;
  /** bit offset of the application data (types 6 and 8), where (DAC, FID) tables apply */
  readonly appOffset?: number;
}

export const MESSAGE_SPECS: Readonly<Record<number, MessageSpec>> = {
  1: { layouts: [positionReportA] },
  2: { layouts: [positionReportA] },
  3: { layouts: [positionReportA] },
  4: { layouts: [baseStationReport] },
  5: { layouts: [staticVoyage] },
  6: { layouts: [addressedBinary], appOffset: 88 },
  7: { layouts: [acknowledge] },
  8: { layouts: [broadcastBinary], appOffset: 56 },
  9: { layouts: [sarAircraftReport] },
  10: { layouts: [utcInquiry] },
  11: { layouts: [baseStationReport] },
  12: { layouts: [addressedSafety] },
  13: { layouts: [acknowledge] },
  14: { layouts: [broadcastSafety] },
  15: { layouts: [interrogation] },
  16: { layouts: [assignmentCommand] },
  17: { layouts: [dgnssBroadcast] },
  18: { layouts: [positionReportB] },
  19: { layouts: [extendedReportB] },
  20: { layouts: [dataLinkManagement] },
  21: { layouts: [aidToNavigation] },
  // bit 139 is the "addressed" flag; it decides what bits 69-138 mean
  22: { layouts: [channelManagementArea, channelManagementAddressed], select: (b) => (b.length > 139 ? readU(b, 139, 1) : 0) },
  23: { layouts: [groupAssignment] },
  24: {
    layouts: [staticReportA, staticReportB, staticReportBAuxiliary],
    select: (b) => {
      const part = b.length >= 40 ? readU(b, 38, 2) : -1;
      if (part === 0) return 0;
      // auxiliary craft (MMSI 98xxxyyyy) give their mother ship's MMSI instead of dimensions
      if (part === 1) return Math.floor(readU(b, 8, 30) / 10_000_000) === 98 ? 2 : 1;
      return `type 24 part number ${part} is not defined (only 0 = A and 1 = B)`;
    },
  },
  25: { layouts: singleSlotBinary, select: (b) => (b.length >= 40 ? readU(b, 38, 2) : 0) },
  26: { layouts: multiSlotBinary, select: (b) => (b.length >= 40 ? readU(b, 38, 2) : 0) },
  27: { layouts: [longRange] },
};

export interface CompiledSpec {
  readonly layouts: readonly CompiledLayout[];
  readonly select?: (b: Bits) => number | string;
  readonly apps?: ReadonlyMap<number, CompiledLayout>;
}

/** dac (10 bits) and fid (6 bits) as one key */
export const appKey = (dac: number, fid: number): number => dac * 64 + fid;

/** Every table compiled once, at module load, indexed by message type (0 and 28+ are undefined). */
export const COMPILED: readonly (CompiledSpec | undefined)[] = (() => {
  const out: (CompiledSpec | undefined)[] = new Array(64).fill(undefined);
  for (const [type, spec] of Object.entries(MESSAGE_SPECS)) {
    let apps: Map<number, CompiledLayout> | undefined;
    if (spec.appOffset !== undefined) {
      apps = new Map();
      for (const app of applications) {
        if (app.types.includes(Number(type))) apps.set(appKey(app.dac, app.fid), compileLayout(app.layout, spec.appOffset));
      }
    }
    out[Number(type)] = { layouts: spec.layouts.map((l) => compileLayout(l)), ...(spec.select ? { select: spec.select } : {}), ...(apps ? { apps } : {}) };
  }
  return out;
})();
