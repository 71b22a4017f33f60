/** Test helpers: build NMEA lines with correct checksums, so each test can vary one thing. */

const xorOf = (s: string): string => {
  let x = 0;
  for (let i = 0; i < s.length; i++) x ^= s.charCodeAt(i);
  // the low byte, as the parser checks it (text input may hold chars above 255)
  return (x & 0xff).toString(16).toUpperCase().padStart(2, '0');
};

/** `!AIVDM,...` (without `*hh`) -> the sentence with its checksum. */
export const sentence = (body: string): string => `${body}*${xorOf(body.slice(1))}`;

/** Tag block `\s:x,c:1*hh\` from its fields (without checksum). */
export const tagBlock = (fields: string): string => `\\${fields}*${xorOf(fields)}\\`;

/** A small seeded PRNG (mulberry32): fuzz runs are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
