/**
 * A vessel identity the `vessels` table accepts: an MMSI of at most nine digits, not 0
 * (ITU-R M.585). Fusion accepts any 30-bit value (receivers do hear 0, the factory default of
 * unconfigured transponders, and ten-digit garbage), and keeps their reports in the history;
 * but many unrelated transmitters share such a number, so one `vessels` row for it would merge
 * them. The history store leaves their upserts out and counts them
 * (`HistoryWriteResult.vesselsRejected`).
 */
export function isValidMmsi(mmsi: number): boolean {
  return Number.isInteger(mmsi) && mmsi >= 1 && mmsi <= 999_999_999;
}
