import { createReadStream } from 'node:fs';
import type { FileSourceConfig } from '../../config/ingest.js';
import { LineFramer } from '../line-framer.js';
import { PauseGate, sleep, type Source, type SourceContext } from './types.js';

/** The `c:` (unix seconds or milliseconds) of an NMEA 4.0 tag block, or null. */
export function tagBlockTimeMs(line: string): number | null {
  if (line.charCodeAt(0) !== 92 /* \ */) return null;
  const end = line.indexOf('\\', 1);
  if (end < 0) return null;
  const m = /(?:^|,)c:(\d+)/.exec(line.slice(1, end).replace(/\*[0-9A-Fa-f]{2}$/, ''));
  if (!m) return null;
  const v = Number(m[1]);
  // Some feeds write milliseconds: a 13-digit value cannot be seconds before the year 33658.
  return m[1]!.length >= 13 ? v : v * 1000;
}

/**
 * `file`: replays a capture — as fast as publishing allows (`fast`), at `linesPerSecond`
 * (`rate`), or at the pace of its tag-block `c:` times (`tag-time`, divided by `speedup`);
 * optionally looping. Reading stops while paused, so a replay never outruns JetStream.
 */
export function createFileSource(cfg: FileSourceConfig, ctx: SourceContext): Source {
  const gate = new PauseGate();
  const abort = new AbortController();
  let loop: Promise<void> | null = null;
  let resolveFinished: () => void = () => {};
  const finished = new Promise<void>((r) => (resolveFinished = r));
  const connected = ctx.metrics.sourceConnected.labels(cfg.id);

  async function replayOnce(): Promise<void> {
    const handler = ctx.newHandler();
    const stream = createReadStream(cfg.address, { highWaterMark: 256 * 1024 });
    const paced = cfg.pace !== 'fast';
    // Paced modes need lines one by one; `fast` hands whole chunks to the handler's own framer.
    const lines: string[] = [];
    const framer = paced
      ? new LineFramer({ line: (t) => lines.push(t), tooLong: () => {} }, Number.MAX_SAFE_INTEGER) // handler.text() applies the line limit
      : null;
    const startedWall = Date.now();
    let lineNo = 0;
    let firstTagMs: number | null = null;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (abort.signal.aborted) break;
        if (!framer) {
          handler.chunk(chunk);
        } else {
          framer.push(chunk);
          for (const line of lines.splice(0)) {
            let due: number | null = null;
            if (cfg.pace === 'rate') {
              due = startedWall + (lineNo * 1000) / (cfg.linesPerSecond ?? 1);
            } else {
              const t = tagBlockTimeMs(line);
              if (t !== null) {
                firstTagMs ??= t;
                due = startedWall + (t - firstTagMs) / cfg.speedup;
              }
            }
            lineNo += 1;
            const wait = due === null ? 0 : due - Date.now();
            // Sleep in steps of at least a few ms: timers are not finer than that anyway.
            if (wait > 4) await sleep(wait, abort.signal);
            if (abort.signal.aborted) break;
            handler.text(line);
            await gate.wait();
          }
        }
        await gate.wait();
      }
      if (framer) {
        framer.flush();
        for (const line of lines.splice(0)) handler.text(line);
      }
    } finally {
      stream.destroy();
      // The unterminated last line is still a line; multi-sentence messages cut off by the end
      // of the file are dead-lettered, not forgotten.
      handler.end();
    }
  }

  async function run(): Promise<void> {
    connected.set(1);
    try {
      do {
        await replayOnce();
      } while (cfg.loop && !abort.signal.aborted);
    } catch (err) {
      ctx.logger.error({ source: cfg.id, err: { message: (err as Error).message } }, 'file source failed');
    } finally {
      connected.set(0);
      resolveFinished();
    }
  }

  return {
    id: cfg.id,
    start() {
      loop = run();
    },
    pause: () => gate.pause(),
    resume: () => gate.resume(),
    async stop() {
      abort.abort();
      gate.resume();
      await loop;
    },
    finished,
  };
}
