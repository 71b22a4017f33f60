import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { cpuSecondsOfPids, processesNamed, runQueueWaitSeconds } from '../../scripts/bench/proc-cpu.js';
import { freshPageTouchMicros, loopbackRoundTripMicros } from '../../scripts/bench/yardstick.js';

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));

describe('bench:fusion machine figures', () => {
  it('finds this process by the name the kernel gives it', () => {
    const comm = readFileSync('/proc/self/comm', 'utf8').trim();
    expect(processesNamed([comm]).get(comm)).toContain(process.pid);
    expect(processesNamed(['no-such-process-here']).get('no-such-process-here')).toEqual([]);
  });

  it('counts the time processes spent runnable while more of them than cores wanted to run', async () => {
    // one more busy process than cores: together they must have waited for a core
    const spinners = Array.from({ length: availableParallelism() + 1 }, () =>
      spawn(process.execPath, ['-e', 'const end = Date.now() + 600; while (Date.now() < end);'], { stdio: 'ignore' }),
    );
    const pids = spinners.map((child) => child.pid!);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const waited = runQueueWaitSeconds(pids);
    const ran = [...cpuSecondsOfPids(pids).values()].reduce((a, b) => a + b, 0);
    await Promise.all(spinners.map(exited));
    expect(ran).toBeGreaterThan(0);
    expect(waited).toBeGreaterThan(0.02);
    // an ended process has nothing left to read
    expect(runQueueWaitSeconds(pids)).toBe(0);
  });

  it('measures a page fault and a loopback round trip in microseconds of CPU', async () => {
    const fault = freshPageTouchMicros(1, 16 * 1024 * 1024);
    const trip = await loopbackRoundTripMicros(500);
    expect(fault).toBeGreaterThan(0);
    expect(fault).toBeLessThan(1_000);
    expect(trip).toBeGreaterThan(0);
    expect(trip).toBeLessThan(10_000);
  });
});
