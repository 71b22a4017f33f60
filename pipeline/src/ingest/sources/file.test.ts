import { describe, expect, it } from 'vitest';
import { tagBlockTimeMs } from './file.js';

describe('tagBlockTimeMs', () => {
  it.each([
    ['\\s:2573238,c:1733782034*0A\\!BSVDM,1,1,,A,13o4g`00000I2ENRH4g83S0L088C,0*3F', 1_733_782_034_000],
    ['\\c:1733782034123,s:x*00\\!AIVDM,1,1,,A,x,0*00', 1_733_782_034_123],
    ['\\g:2-2-3985*5A\\!AIVDM,2,2,9,B,PFRC88888888880,2*29', null],
    ['!AIVDM,1,1,,A,13o4g`00000I2ENRH4g83S0L088C,0*3F', null],
    ['\\s:abc,c:17', null], // no closing backslash: not a tag block
    ['\\s:abc,xc:17*00\\', null],
  ])('%s → %s', (line, expected) => {
    expect(tagBlockTimeMs(line)).toBe(expected);
  });
});
