import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../telemetry/logger.js';
import type { DecodedBatch } from './decode-protocol.js';
import { SourceDecoder } from './source-decoder.js';

const settings = { sourceId: 'w', partitions: 4, maxLineBytes: 4096, fragmentTimeoutMs: 5000 };

describe('SourceDecoder (a real worker thread)', () => {
  let decoder: SourceDecoder | undefined;
  afterEach(async () => {
    await decoder?.close();
    decoder = undefined;
  });

  it('decodes in the worker, answers every message in order, and pauses at its window', async () => {
    const events: boolean[] = [];
    decoder = new SourceDecoder({ sourceId: 'w', maxInflight: 4, onBackpressure: (full) => events.push(full), logger: createLogger({ name: 'test', level: 'silent' }) });
    const batches: DecodedBatch[] = [];
    const h = decoder.open(settings, (b) => batches.push(b));
    const capture = readFileSync('pipeline/data/ais/kystverket-tagblock.nmea');
    const step = Math.ceil(capture.length / 6);
    for (let i = 0; i < 6; i++) decoder.chunk(h, 1000 + i, capture.subarray(i * step, (i + 1) * step));
    decoder.send({ op: 'end', h, now: 2000 });
    expect(decoder.pending).toBe(7);
    expect(events).toEqual([true]); // 4 in flight: the source was asked to pause
    await decoder.idle();
    expect(decoder.pending).toBe(0);
    expect(events).toEqual([true, false]);
    expect(batches.map((b) => b.now)).toEqual([1000, 1001, 1002, 1003, 1004, 1005, 2000]);
    expect(batches.at(-1)!.ended).toBe(true);
    const records = batches.reduce((n, b) => n + b.records, 0);
    const lines = batches.reduce((n, b) => n + b.lines, 0);
    expect(records).toBeGreaterThan(100);
    expect(lines).toBe(capture.toString('latin1').trimEnd().split('\n').length);
  });
});
