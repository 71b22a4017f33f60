import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDecoder } from '../../pipeline/src/ais/decoder.js';
import { freePort, portAnswers } from '../../pipeline/src/bin/demo.js';
import { ManualClock } from '../../pipeline/src/shared/clock.js';
import { repoRoot } from '../harness/pipeline.js';
import { sseParser, type SseEvent } from '../harness/sse.js';

/**
 * README command 1, run as a user would: `aisflow demo` for a bounded time, then the API is
 * asked for every vessel it has, and each one must be a vessel of the capture at a position the
 * capture really reports for it (decoded here, directly, from the same file). Ctrl-C (SIGINT)
 * must stop everything and exit 0.
 */
const capture = join(repoRoot, 'pipeline/data/ais/aishub-3min-sample.nmea');

function capturePositions(): Map<number, Array<[number, number]>> {
  const decoder = createDecoder({ clock: new ManualClock(0) });
  const byMmsi = new Map<number, Array<[number, number]>>();
  for (const line of readFileSync(capture, 'utf8').split('\n')) {
    const out = decoder.decode(line);
    if (out.kind !== 'message') continue;
    const { lat, lon, mmsi } = out.message as { lat?: unknown; lon?: unknown; mmsi: number };
    if (typeof lat !== 'number' || typeof lon !== 'number') continue;
    const list = byMmsi.get(mmsi) ?? [];
    list.push([lon, lat]);
    byMmsi.set(mmsi, list);
  }
  return byMmsi;
}

/** Reads SSE events from `url` until `enough` says so or `timeoutMs` passes. */
function readSse(url: string, timeoutMs: number, enough: (events: SseEvent[]) => boolean): Promise<SseEvent[]> {
  return new Promise((resolve, reject) => {
    const events: SseEvent[] = [];
    const feed = sseParser((e) => events.push(e));
    const req = httpRequest(url, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        feed(chunk);
        if (enough(events)) finish();
      });
    });
    const finish = () => {
      clearTimeout(timer);
      req.destroy();
      resolve(events);
    };
    const timer = setTimeout(finish, timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      if (events.length > 0) resolve(events);
      else reject(err);
    });
    req.end();
  });
}

interface ApiVessel {
  mmsi: number;
  position: { lat: number; lon: number; time: string; source: string } | null;
}

let demo: ReturnType<typeof spawn> | null = null;
afterAll(() => {
  if (demo && demo.exitCode === null && demo.pid) process.kill(demo.pid, 'SIGKILL');
});

describe('aisflow demo', () => {
  it('serves vessels that match the capture, then stops cleanly on Ctrl-C', async () => {
    const expected = capturePositions();
    expect(expected.size).toBeGreaterThan(100);
    const port = await freePort();
    const name = `e2e_${randomBytes(3).toString('hex')}`;
    // --duration bounds the run even if this test dies; --clean removes the run's data.
    demo = spawn(process.execPath, ['bin/aisflow.mjs', 'demo', '--port', String(port), '--name', name, '--rate', '1000', '--duration', '240', '--clean'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    demo.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    demo.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => demo!.once('exit', (code) => r(code)));

    // Ready when it prints the sample curls (it only does once the API returns a real vessel).
    const deadline = Date.now() + 200_000;
    while (!/try {8}curl '([^']+)'/.test(stdout)) {
      if (demo.exitCode !== null) throw new Error(`demo exited ${demo.exitCode}:\n${stdout}\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`demo not ready:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const api = `http://127.0.0.1:${port}`;
    expect(stdout).toContain(`${api}/docs`);
    expect(stdout).toContain(`${api}/metrics`);

    // The printed sample curl works and returns a real vessel.
    const sampleUrl = /try {8}curl '([^']+)'/.exec(stdout)![1]!;
    const sample = await fetch(sampleUrl);
    expect(sample.status).toBe(200);
    expect(expected.has(((await sample.json()) as ApiVessel).mmsi)).toBe(true);

    // Let more of the capture through, then read every vessel page by page.
    await new Promise((r) => setTimeout(r, 5_000));
    const vessels: ApiVessel[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 100; page++) {
      const url: string = `${api}/v1/vessels?bbox=-180,-90,180,90&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await fetch(url);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: ApiVessel[]; nextCursor: string | null };
      vessels.push(...body.items);
      cursor = body.nextCursor;
      if (cursor === null) break;
    }
    expect(vessels.length).toBeGreaterThan(50);
    const mismatches: string[] = [];
    for (const v of vessels) {
      const known = expected.get(v.mmsi);
      if (!known) {
        mismatches.push(`${v.mmsi}: not in the capture`);
        continue;
      }
      if (v.position && !known.some(([lon, lat]) => Math.abs(lon - v.position!.lon) < 1e-5 && Math.abs(lat - v.position!.lat) < 1e-5)) {
        mismatches.push(`${v.mmsi}: position ${v.position.lon},${v.position.lat} never reported in the capture`);
      }
    }
    expect(mismatches).toEqual([]);
    expect(new Set(vessels.map((v) => v.mmsi)).size).toBe(vessels.length);

    const summary = (await (await fetch(`${api}/metrics/summary`)).json()) as { vessels: number; stream: { messages: number } | null };
    expect(summary.vessels).toBeGreaterThanOrEqual(vessels.length);
    expect(summary.stream?.messages).toBeGreaterThan(0);

    // Live updates from the real fusion over SSE (the looped replay keeps them coming).
    const streamed = await readSse(`${api}/v1/stream`, 20_000, (events) => events.filter((e) => e.event === 'vessel').length >= 5);
    const live = streamed.filter((e) => e.event === 'vessel').map((e) => JSON.parse(e.data) as { mmsi: number; lat: number | null; lon: number | null });
    expect(live.length).toBeGreaterThanOrEqual(5);
    for (const u of live) expect(expected.has(u.mmsi), `${u.mmsi} streamed but not in the capture`).toBe(true);

    process.kill(demo.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).toContain('demo stopped');
    expect(await portAnswers(port)).toBe(false);
  });
});
