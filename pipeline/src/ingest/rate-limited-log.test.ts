import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../telemetry/logger.js';
import { RateLimitedLog } from './rate-limited-log.js';

describe('RateLimitedLog', () => {
  it('logs once per key per interval and reports how many it held back', () => {
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
        done();
      },
    });
    let now = 0;
    const log = new RateLimitedLog(createLogger({ name: 't', destination }), 10_000, () => now);
    for (let i = 0; i < 5; i++) log.warn('a', { i }, 'bad line');
    log.warn('b', { i: 0 }, 'other');
    now = 10_000;
    log.warn('a', { i: 9 }, 'bad line');
    expect(lines.map((l) => [l.msg, l.i, l.suppressed])).toEqual([
      ['bad line', 0, undefined],
      ['other', 0, undefined],
      ['bad line', 9, 4],
    ]);
  });
});
