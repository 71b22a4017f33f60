import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createDecoder } from '../ais/decoder.js';
import type { AisRecordV1 } from '../shared/ais-record.js';
import { ManualClock } from '../shared/clock.js';
import { partitionOf } from '../shared/partition.js';
import { ConnectionDecoder } from './connection-decoder.js';
import type { DecodedBatch } from './decode-protocol.js';
import { toRecord } from './record.js';

const NOW = 1_733_782_034_000;
const P = 8;
const settings = { sourceId: 'src-1', partitions: P, maxLineBytes: 200, fragmentTimeoutMs: 5000 };

/** Each record's bytes as the publisher reads them (decode-protocol.ts: one separator byte before each record). */
function recordTexts(b: DecodedBatch): Array<{ partition: number; json: string }> {
  const out: Array<{ partition: number; json: string }> = [];
  let r = 0;
  for (let i = 0; i < b.segments.length; i += 2) {
    for (let k = 0; k < b.segments[i + 1]!; k++, r++) {
      const from = r === 0 ? 1 : b.ends[r - 1]! + 1;
      out.push({ partition: b.segments[i]!, json: Buffer.from(b.bytes!.subarray(from, b.ends[r]!)).toString('utf8') });
    }
  }
  return out;
}

/** What the decoder makes of the same lines in-thread, by partition in order, as JSON text. */
function reference(lines: string[]): string[][] {
  const decoder = createDecoder({ clock: new ManualClock(NOW), defaultSource: settings.sourceId, maxLineLength: settings.maxLineBytes });
  const out: string[][] = Array.from({ length: P }, () => []);
  for (const l of lines) {
    const o = decoder.decode(l, { source: settings.sourceId, receivedAt: NOW });
    if (o.kind === 'message') out[partitionOf(o.message.mmsi, P)]!.push(JSON.stringify(toRecord(o.message, o.meta)));
  }
  for (const o of decoder.flush()) if (o.kind === 'message') throw new Error('unexpected message at flush');
  return out;
}

function byPartition(texts: Array<{ partition: number; json: string }>): string[][] {
  const out: string[][] = Array.from({ length: P }, () => []);
  for (const t of texts) out[t.partition]!.push(t.json);
  return out;
}

describe('ConnectionDecoder', () => {
  const capture = readFileSync('pipeline/data/ais/kystverket-tagblock.nmea');
  const captureLines = capture.toString('latin1').split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));

  it('yields, byte for byte, the JSON of the records the decoder makes, in order per partition, whatever the chunking', () => {
    for (const size of [capture.length, 4096, 97]) {
      const d = new ConnectionDecoder(settings);
      const texts: Array<{ partition: number; json: string }> = [];
      let lines = 0;
      for (let off = 0; off < capture.length; off += size) {
        const b = d.handle({ op: 'chunk', h: 1, now: NOW, data: capture.subarray(off, off + size), datagram: false });
        texts.push(...recordTexts(b));
        lines += b.lines;
      }
      const last = d.handle({ op: 'end', h: 1, now: NOW });
      expect(last.ended).toBe(true);
      texts.push(...recordTexts(last));
      lines += last.lines;
      expect(byPartition(texts)).toEqual(reference(captureLines));
      expect(lines).toBe(captureLines.length - (capture.at(-1) === 10 ? 1 : 0));
    }
  });

  it('lays records out so that every one parses on its own and counts its message types', () => {
    const d = new ConnectionDecoder(settings);
    const b = d.handle({ op: 'chunk', h: 7, now: NOW, data: capture, datagram: false });
    expect(b.h).toBe(7);
    const texts = recordTexts(b);
    expect(texts.length).toBe(b.records);
    expect(b.ends.length).toBe(b.records);
    let typed = 0;
    for (let i = 0; i < b.types.length; i += 2) typed += b.types[i + 1]!;
    expect(typed).toBe(b.records);
    for (const t of texts) {
      const r = JSON.parse(t.json) as AisRecordV1;
      expect(r.v).toBe(1);
      expect(partitionOf(r.mmsi, P)).toBe(t.partition);
    }
  });

  it('encodes a non-ASCII tag-block source as UTF-8 (record by record) with exact offsets', () => {
    const d = new ConnectionDecoder(settings);
    const sentence = '!BSVDM,1,1,,A,13o4g`00000I2ENRH4g83S0L088C,0*3F';
    const tag = (s: string) => {
      const body = `s:${s},c:1733782034`;
      let sum = 0;
      for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i);
      return `\\${body}*${sum.toString(16).toUpperCase().padStart(2, '0')}\\${sentence}`;
    };
    const lines = [tag('Tromsø'), tag('plain'), tag('Ålesund')];
    const b = d.handle({ op: 'chunk', h: 1, now: NOW, data: Buffer.from(`${lines.join('\n')}\n`, 'latin1'), datagram: false });
    const texts = recordTexts(b);
    expect(texts.map((t) => (JSON.parse(t.json) as AisRecordV1).src)).toEqual(['Tromsø', 'plain', 'Ålesund']);
    expect(byPartition(texts)).toEqual(reference(lines));
  });

  it('returns rejects, skips and over-long lines without losing the good lines around them', () => {
    const d = new ConnectionDecoder(settings);
    const good = captureLines.filter((l) => l.includes('!') && reference([l]).flat().length === 1).slice(0, 2);
    const input = [good[0]!, '!AIVDM,1,1,,A,13o4g`00000I2ENRH4g83S0L088C,0*00', 'x'.repeat(500), '', '# comment', good[1]!].join('\n');
    const b = d.handle({ op: 'chunk', h: 1, now: NOW, data: Buffer.from(input, 'latin1'), datagram: true });
    expect(b.records).toBe(2);
    expect(b.lines).toBe(6);
    expect(b.rejects.map((r) => r.reason)).toEqual(['checksum_mismatch', 'line_too_long']);
    expect(b.rejects[1]!.raw).toHaveLength(settings.maxLineBytes);
    expect(b.skips.length).toBeGreaterThan(0);
    // whole lines from message-based sources take the same way
    const t = d.handle({ op: 'text', h: 1, now: NOW, line: `${good[0]!}\r` });
    expect(t.records).toBe(1);
    expect(d.handle({ op: 'text', h: 1, now: NOW, line: 'y'.repeat(300) }).rejects[0]!.reason).toBe('line_too_long');
  });

  it('dead-letters a multi-sentence message left open at the end, at the time of the message', () => {
    const d = new ConnectionDecoder(settings);
    const first = '!AIVDM,2,1,3,B,55P5TL01VIaAL@7WKO@mBplU@<PDhh000000001S;AJ::4A80?4i@E53,0*3E';
    expect(d.handle({ op: 'chunk', h: 1, now: NOW, data: Buffer.from(`${first}\n`), datagram: false }).records).toBe(0);
    const end = d.handle({ op: 'end', h: 1, now: NOW + 1000 });
    expect(end.rejects.map((r) => r.reason)).toEqual(['fragment_timeout']);
    expect(end.now).toBe(NOW + 1000);
  });
});
