import { describe, expect, it } from 'vitest';
import { LineFramer } from './line-framer.js';

function collect(max: number) {
  const out: string[] = [];
  const framer = new LineFramer({ line: (t) => out.push(t), tooLong: (s, b) => out.push(`TOO_LONG(${b}):${s}`) }, max);
  return { out, framer };
}

describe('LineFramer', () => {
  const cases: Array<[name: string, chunks: string[], expected: string[]]> = [
    ['one chunk, LF and CRLF', ['a\nb\r\nc\n'], ['a', 'b', 'c']],
    ['a line split across packets', ['!AI', 'VD', 'M\n'], ['!AIVDM']],
    ['CR and LF in different packets', ['abc\r', '\ndef\n'], ['abc', 'def']],
    ['empty lines are lines', ['\n\n'], ['', '']],
    ['over-long line is cut and the good lines around it survive', ['good1\n0123456789', 'ABCDEF\ngood2\n'], ['good1', 'TOO_LONG(16):01234567', 'good2']],
    ['over-long inside one chunk', ['xxxxxxxxxxxx\nok\n'], ['TOO_LONG(12):xxxxxxxx', 'ok']],
    ['exactly max bytes is fine', ['12345678\n'], ['12345678']],
    ['a line of max bytes split across packets', ['1234', '5678\n9'], ['12345678']],
  ];
  it.each(cases)('%s', (_name, chunks, expected) => {
    const { out, framer } = collect(8);
    for (const c of chunks) framer.push(Buffer.from(c, 'latin1'));
    expect(out).toEqual(expected);
  });

  it('flushes an unterminated last line at end of stream', () => {
    const { out, framer } = collect(8);
    framer.push(Buffer.from('a\nlast'));
    expect(out).toEqual(['a']);
    framer.flush();
    expect(out).toEqual(['a', 'last']);
  });

  it('never buffers more than the bound for a 1 MB line fed in packets', () => {
    const { out, framer } = collect(4096);
    framer.push(Buffer.from('before\n'));
    const packet = Buffer.alloc(1500, 0x41);
    let maxBuffered = 0;
    let sent = 0;
    for (; sent < 1_048_576; sent += packet.length) {
      framer.push(packet);
      maxBuffered = Math.max(maxBuffered, framer.buffered);
    }
    framer.push(Buffer.from('\nafter\n'));
    expect(maxBuffered).toBeLessThanOrEqual(4096);
    expect(out).toHaveLength(3);
    expect(out[0]).toBe('before');
    expect(out[1]).toMatch(new RegExp(`^TOO_LONG\\(${sent}\\):A{4096}$`));
    expect(out[2]).toBe('after');
  });

  it('does not keep references to a reused input buffer', () => {
    const { out, framer } = collect(64);
    const buf = Buffer.from('abc');
    framer.push(buf);
    buf.write('zzz');
    framer.push(Buffer.from('\n'));
    expect(out).toEqual(['abc']);
  });
});
