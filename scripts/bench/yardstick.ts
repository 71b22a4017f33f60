/**
 * Yardsticks of the machine for benches whose figures move with it, in CPU time, not wall time,
 * so other processes taking turns on the cores do not count:
 * - how many sentences of the bundled AIS capture the decoder turns out per CPU second: how fast
 *   a core runs this JavaScript now. The same machine has measured 2.6 times apart on different
 *   days (docs/fusion.md);
 * - what the kernel charges for the two things a pipeline of processes does per message and per
 *   allocation: a loopback TCP round trip, and the first touch of a fresh memory page. On a
 *   virtual machine these move apart from the first: a day with a fast decoder has shown page
 *   faults of ~11 µs, tens of times a bare-metal one, and the pipeline ran no faster than on a
 *   day whose decoder ran half as fast.
 * Comparing these tells whether two runs can be compared at all.
 */
import { readFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
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

const PAGE = 4096;

/**
 * CPU microseconds per first write to a page of fresh anonymous memory: the page fault (and the
 * zeroing) that a heap growing, a buffer copied or a page handed back and taken again costs.
 * 64 MiB zero-filled buffers come straight from mmap (malloc's threshold is at most 32 MiB), so
 * nothing has touched them before the loop.
 */
export function freshPageTouchMicros(passes = 3, bytes = 64 * 1024 * 1024): number {
  let cpuMicros = 0;
  let pages = 0;
  for (let p = 0; p < passes; p++) {
    const fresh = new Uint8Array(bytes);
    const start = process.cpuUsage();
    for (let i = 0; i < bytes; i += PAGE) fresh[i] = 1;
    const used = process.cpuUsage(start);
    cpuMicros += used.user + used.system;
    pages += bytes / PAGE;
  }
  return cpuMicros / pages;
}

/**
 * CPU microseconds per round trip of a 200-byte message over loopback TCP, both ends in this
 * process: two writes, two reads and the polls between, in the kernel and in Node's streams,
 * i.e. what each hop of a message between the pipeline's processes costs, without the other
 * process's wake-up.
 */
export async function loopbackRoundTripMicros(roundTrips = 5_000): Promise<number> {
  const server = createServer((socket) => socket.on('data', (chunk) => socket.write(chunk)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client: Socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  client.setNoDelay(true);
  try {
    await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject));
    const message = Buffer.alloc(200, 0x61);
    const echoed = (): Promise<void> =>
      new Promise((resolve) => {
        let received = 0;
        const onData = (chunk: Buffer) => {
          received += chunk.length;
          if (received < message.length) return;
          client.off('data', onData);
          resolve();
        };
        client.on('data', onData);
        client.write(message);
      });
    for (let i = 0; i < 200; i++) await echoed();
    const start = process.cpuUsage();
    for (let i = 0; i < roundTrips; i++) await echoed();
    const used = process.cpuUsage(start);
    return (used.user + used.system) / roundTrips;
  } finally {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}
