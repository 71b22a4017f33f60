/**
 * A yardstick of the machine's speed for benches whose figures move with it: how many sentences
 * of the bundled AIS capture the decoder turns out per CPU second of this process. CPU time, not
 * wall time, so other processes taking turns on the cores do not count; what is left is how fast
 * a core runs this JavaScript now. The same machine has measured 2.6 times apart on different
 * days (docs/fusion.md); comparing this figure tells whether two runs can be compared at all.
 */
import { readFileSync } from 'node:fs';
import { createDecoder, LineSplitter } from '../../pipeline/src/ais/decoder.js';
import { systemClock } from '../../pipeline/src/shared/clock.js';

const CAPTURE = new URL('../../pipeline/data/ais/aishub-3min-sample.nmea', import.meta.url);

/** Decodes the capture (one untimed pass, then passes until `minCpuMs` of CPU); sentences per CPU second. */
export function decoderSentencesPerCpuSecond(minCpuMs = 1_000): number {
  const capture = readFileSync(CAPTURE);
  const pass = (): number => {
    const decoder = createDecoder({ clock: systemClock });
    const splitter = new LineSplitter();
    const context = { receivedAt: systemClock.now() };
    let lines = 0;
    const onLine = (line: string) => {
      lines++;
      decoder.decode(line, context);
    };
    splitter.push(capture, onLine);
    splitter.end(onLine);
    decoder.flush();
    return lines;
  };
  pass();
  const start = process.cpuUsage();
  let lines = 0;
  let cpuMs = 0;
  while (cpuMs < minCpuMs) {
    lines += pass();
    const used = process.cpuUsage(start);
    cpuMs = (used.user + used.system) / 1000;
  }
  return Math.round((lines / cpuMs) * 1000);
}
