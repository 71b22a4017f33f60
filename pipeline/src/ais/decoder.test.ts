import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../shared/clock.js';
import { createDecodeStream, createDecoder, decodeLines, LineSplitter } from './decoder.js';
import { REJECT_REASONS } from './reasons.js';
import { sentence, tagBlock } from './test-helpers.js';
import type { DecodeOutcome } from './types.js';

// A real two-part type 5 (gpsd-sample.aivdm), rebuilt per channel / sequence id with fresh checksums.
const P1 = '55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8';
const P2 = '88888888880';
const part = (n: 1 | 2, seq: string, channel: string) => sentence(`!AIVDM,2,${n},${seq},${channel},${n === 1 ? P1 : P2},${n === 1 ? 0 : 2}`);
// Another real two-part type 5 to interleave with it (AISHub capture, lines 19102-19103)
const OTHER1 = '!AIVDM,2,1,0,B,53c:Bh02@a6q09<f2219M>3OJ22222222222220o1H=334nh03S0EEiD,0*4F';
const OTHER2 = '!AIVDM,2,2,0,B,Skip88888888880,2*06';

const messages = (outcomes: DecodeOutcome[]) => outcomes.filter((o) => o.kind === 'message');

describe('multi-sentence assembly', () => {
  it('assembles a two-part message and keeps both raw lines and the joined payload', () => {
    const d = createDecoder({ clock: new ManualClock(0) });
    expect(d.decode(part(1, '1', 'A'))).toEqual({ kind: 'fragment' });
    expect(d.openFragments).toBe(1);
    const o = d.decode(part(2, '1', 'A'));
    expect(o).toMatchObject({ kind: 'message', message: { type: 5, mmsi: 351759000, shipName: 'EVER DIADEM' }, meta: { raw: [part(1, '1', 'A'), part(2, '1', 'A')], payload: P1 + P2, fillBits: 2 } });
    expect(d.openFragments).toBe(0);
  });

  it('assembles interleaved multipart messages from different channels, sequence ids and sources', () => {
    const d = createDecoder({ clock: new ManualClock(0) });
    const outcomes = [
      d.decode(part(1, '1', 'A'), { source: 'rx1' }),
      d.decode(part(1, '1', 'B'), { source: 'rx1' }), // same sequence id, other channel
      d.decode(part(1, '1', 'A'), { source: 'rx2' }), // same channel and id, other receiver
      d.decode(OTHER1, { source: 'rx1' }),
      d.decode(part(2, '1', 'B'), { source: 'rx1' }),
      d.decode(part(2, '1', 'A'), { source: 'rx2' }),
      d.decode(OTHER2, { source: 'rx1' }),
      d.decode(part(2, '1', 'A'), { source: 'rx1' }),
    ];
    const got = messages(outcomes).map((o) => (o.kind === 'message' ? `${o.meta.source}/${o.meta.channel}/${o.message.mmsi}` : ''));
    expect(got).toEqual(['rx1/B/351759000', 'rx2/A/351759000', 'rx1/B/246584000', 'rx1/A/351759000']);
    expect(outcomes.filter((o) => o.kind === 'reject')).toEqual([]);
  });

  it('assembles tag-block groups: parts 2..n carry only g: and inherit source and time from part 1', () => {
    // exactearth-tagblock.nmea, lines 1-2, interleaved with a second group
    const d = createDecoder({ clock: new ManualClock(0) });
    const a1 = '\\g:1-2-3985,s:rEV02,c:1334337317*2D\\!AIVDM,2,1,9,B,58KvN<42ACikUKW77F1H4hF0<PTp622222222216`0`cF5BF0RT13H0T,0*70';
    const a2 = '\\g:2-2-3985*5A\\!AIVDM,2,2,9,B,PFRC88888888880,2*29';
    const b1 = tagBlock('g:1-2-77,s:other,c:1334337300') + part(1, '9', 'B');
    const b2 = tagBlock('g:2-2-77') + part(2, '9', 'B');
    const outcomes = [d.decode(a1), d.decode(b1), d.decode(a2), d.decode(b2)];
    expect(outcomes[2]).toMatchObject({ kind: 'message', message: { type: 5 }, meta: { source: 'rEV02', receivedAt: 1_334_337_317_000, timeFromTagBlock: true } });
    expect(outcomes[3]).toMatchObject({ kind: 'message', message: { mmsi: 351759000 }, meta: { source: 'other', receivedAt: 1_334_337_300_000 } });
  });

  it('repairs sequence ids an aggregator renumbered between parts (AISHub capture)', () => {
    const d = createDecoder({ clock: new ManualClock(0) });
    expect(d.decode('!AIVDM,2,1,4,A,56@4OP02=uKT5DEH000l4h5HUT61ALDqAT00001;1@v884o@0:kRT`4RAh00,0*58')).toEqual({ kind: 'fragment' });
    expect(d.decode('!AIVDM,2,2,1,A,000000000000000,2*25')).toMatchObject({ kind: 'message', message: { type: 5, mmsi: 419504000 } });
  });

  it('times out a partial message with the injected clock and rejects its raw lines', () => {
    const clock = new ManualClock(1_000);
    const d = createDecoder({ clock, fragmentTimeoutMs: 5_000 });
    d.decode(part(1, '1', 'A'));
    clock.advance(5_000);
    expect(d.expire()).toEqual([]); // not yet: the timeout is exclusive
    clock.advance(1);
    expect(d.expire()).toEqual([{ kind: 'reject', reason: 'fragment_timeout', detail: 'timed out after 5001 ms waiting for part 2 of 2', raw: part(1, '1', 'A'), source: '', receivedAt: 1_000 }]);
    expect(d.openFragments).toBe(0);
    expect(d.decode(part(2, '1', 'A'))).toMatchObject({ kind: 'reject', reason: 'fragment_out_of_order' });
  });

  it('a late part 2 after the timeout does not complete the stale part 1', () => {
    const clock = new ManualClock(0);
    const d = createDecoder({ clock, fragmentTimeoutMs: 100 });
    d.decode(part(1, '1', 'A'));
    clock.advance(101);
    expect(d.decode(part(2, '1', 'A'))).toMatchObject({ kind: 'reject', reason: 'fragment_out_of_order' });
    expect(d.expire()).toMatchObject([{ kind: 'reject', reason: 'fragment_timeout' }]);
  });

  it('bounds open fragments: the oldest is evicted and reported', () => {
    const d = createDecoder({ clock: new ManualClock(0), maxOpenFragments: 3 });
    for (let seq = 0; seq < 5; seq++) d.decode(part(1, String(seq), 'A'));
    expect(d.openFragments).toBe(3);
    const evicted = d.expire();
    expect(evicted.map((o) => (o.kind === 'reject' ? `${o.reason}:${o.raw}` : ''))).toEqual([`fragment_evicted:${part(1, '0', 'A')}`, `fragment_evicted:${part(1, '1', 'A')}`]);
    // the newest still complete
    expect(d.decode(part(2, '4', 'A'))).toMatchObject({ kind: 'message' });
  });

  it('rejects part 2 without part 1, a repeated part, and a part 1 that replaces an unfinished message', () => {
    const d = createDecoder({ clock: new ManualClock(0) });
    expect(d.decode(part(2, '5', 'A'))).toMatchObject({ kind: 'reject', reason: 'fragment_out_of_order', detail: 'part 2 of 2 without part 1' });
    d.decode(part(1, '5', 'A'));
    d.decode(part(1, '5', 'A'));
    expect(d.expire()).toMatchObject([{ kind: 'reject', reason: 'fragment_out_of_order', detail: 'a new part 1 arrived before part 2 of 2' }]);
    expect(d.decode(part(2, '5', 'A'))).toMatchObject({ kind: 'message' });
  });

  it('flush() rejects what is still open at the end of input', () => {
    const d = createDecoder({ clock: new ManualClock(0) });
    d.decode(part(1, '1', 'A'));
    expect(d.flush()).toMatchObject([{ kind: 'reject', reason: 'fragment_timeout', detail: 'input ended before part 2 of 2' }]);
  });
});

describe('streaming API', () => {
  const lines = ['# header', part(1, '1', 'A'), part(2, '1', 'A'), '$GPGGA,1*00', part(1, '2', 'B')];

  it('decodeLines yields an outcome per line, then rejects what is left open', async () => {
    const out: DecodeOutcome[] = [];
    for await (const o of decodeLines(lines, { clock: new ManualClock(0) })) out.push(o);
    expect(out.map((o) => (o.kind === 'reject' ? o.reason : o.kind === 'skip' ? o.reason : o.kind))).toEqual(['comment', 'fragment', 'message', 'non_ais', 'fragment', 'fragment_timeout']);
  });

  it('createDecodeStream handles any chunking and LF, CRLF and CR endings', async () => {
    const text = [lines[1], lines[2], lines[1], lines[2], lines[1], lines[2]].map((l, i) => l! + ['\n', '\r\n', '\r'][i % 3]!).join('');
    const bytes = Buffer.from(text);
    for (const size of [1, 7, 64, bytes.length]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      const out: DecodeOutcome[] = [];
      for await (const o of Readable.from(chunks).pipe(createDecodeStream({ clock: new ManualClock(0) }))) out.push(o as DecodeOutcome);
      expect(out.map((o) => o.kind), `chunks of ${size}`).toEqual(['message', 'message', 'message']);
    }
  });

  it('a 100 kB line is one line_too_long reject and never costs its neighbours', async () => {
    const good = sentence('!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0');
    const input = Buffer.from(`${good}\n${'!AIVDM,'.padEnd(100_000, 'x')}\n${good}\n`);
    const chunks: Buffer[] = [];
    for (let i = 0; i < input.length; i += 1000) chunks.push(input.subarray(i, i + 1000));
    const out: DecodeOutcome[] = [];
    for await (const o of Readable.from(chunks).pipe(createDecodeStream({ clock: new ManualClock(0), maxLineLength: 4096 }))) out.push(o as DecodeOutcome);
    expect(out.map((o) => (o.kind === 'reject' ? o.reason : o.kind))).toEqual(['message', 'line_too_long', 'message']);
    const reject = out[1]!;
    if (reject.kind === 'reject') expect(reject.raw.length).toBe(4096);
  });

  it('LineSplitter keeps at most maxLineLength + 1 bytes of a line it has not finished', () => {
    const s = new LineSplitter(10);
    const got: string[] = [];
    s.push(Buffer.from('abc\r'), (l) => got.push(l));
    s.push(Buffer.from('\nxxxxxxxxxxxxxxxxxxxx'), (l) => got.push(l));
    s.push(Buffer.from('yyyy\nlast'), (l) => got.push(l));
    s.end((l) => got.push(l));
    expect(got).toEqual(['abc', 'xxxxxxxxxxx', 'last']);
  });
});

describe('reject reasons', () => {
  it('every reject reason is produced by some input', () => {
    const seen = new Set<string>();
    const clock = new ManualClock(0);
    const d = createDecoder({ clock, maxOpenFragments: 1, maxLineLength: 200, fragmentTimeoutMs: 10 });
    const record = (o: DecodeOutcome) => o.kind === 'reject' && seen.add(o.reason);
    const inputs = [
      '!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*24',
      '!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0',
      '\\s:a*00\\!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23',
      '\\s:a\\!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23',
      'garbage',
      'x'.repeat(300),
      sentence('!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05IX,0'),
      sentence('!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,9'),
      sentence('!AIVDM,1,1,,A,1,0'),
      part(2, '1', 'A'),
      part(1, '1', 'A'),
      part(1, '2', 'A'), // evicts the first (bound 1)
      sentence('!AIVDM,1,1,,A,0000000000,0'),
    ];
    for (const line of inputs) record(d.decode(line));
    d.expire().forEach(record);
    clock.advance(11);
    d.expire().forEach(record);
    expect([...seen].sort()).toEqual([...REJECT_REASONS].sort());
  });
});
