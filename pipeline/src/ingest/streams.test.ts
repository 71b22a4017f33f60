import { describe, expect, it } from 'vitest';
import { recordStreamConfig, streamDiff } from './streams.js';

const names = { stream: 'AIS', dlqStream: 'AIS_DLQ', prefix: 'ais' };
const limits = { maxAgeS: 86_400, maxBytes: 1 << 30, duplicateWindowS: 120, replicas: 1 };

describe('streamDiff', () => {
  const desired = recordStreamConfig(names, limits, 16);
  it('is empty for the same settings, whatever the subject order or extra server fields', () => {
    expect(streamDiff({ ...desired, subjects: [...desired.subjects!].reverse() }, desired)).toEqual([]);
    expect(streamDiff({ ...desired, ...({ max_msgs: -1, sealed: false } as object) }, desired)).toEqual([]);
  });
  it.each([
    ['max_age', recordStreamConfig(names, { ...limits, maxAgeS: 60 }, 16)],
    ['duplicate_window', recordStreamConfig(names, { ...limits, duplicateWindowS: 30 }, 16)],
    ['num_replicas', recordStreamConfig(names, { ...limits, replicas: 3 }, 16)],
    ['subjects', recordStreamConfig({ ...names, prefix: 'x' }, limits, 16)],
    ['description', recordStreamConfig(names, limits, 64)],
  ])('names %s when it differs', (field, other) => {
    expect(streamDiff(desired, other)).toEqual([field]);
  });
  it('subjects are the partition wildcard of the prefix', () => {
    expect(desired.subjects).toEqual(['ais.msg.>']);
  });
});
