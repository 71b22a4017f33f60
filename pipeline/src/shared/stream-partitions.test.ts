import { describe, expect, it } from 'vitest';
import { declaredPartitions, recordStreamDescription } from './stream-partitions.js';

describe('record stream partition count', () => {
  it('round-trips through the description', () => {
    expect(declaredPartitions(recordStreamDescription(16))).toBe(16);
    expect(declaredPartitions(recordStreamDescription(4096))).toBe(4096);
  });
  it('is unknown for a description without it (a stream made before ingest wrote it) or none', () => {
    expect(declaredPartitions('aisflow AIS record batches (one JSON AisBatchV1 per message)')).toBeNull();
    expect(declaredPartitions(undefined)).toBeNull();
    expect(declaredPartitions('partitions=16 somewhere else')).toBeNull();
  });
});
