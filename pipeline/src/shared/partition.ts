/**
 * Partition of a vessel: FNV-1a (32-bit) of the MMSI's 4 little-endian bytes, mod P.
 * Ingest routes by it and fusion/API rely on it, so it must never change for a given P.
 * A hash rather than `mmsi % P`: MMSI digits carry country and station-type structure.
 */
export function partitionOf(mmsi: number, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < 4; i++) {
    hash ^= (mmsi >>> (i * 8)) & 0xff;
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}
