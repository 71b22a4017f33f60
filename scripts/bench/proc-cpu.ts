import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ on Linux: /proc/<pid>/stat counts CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system, with their reaped children's) used so far by all running
 * processes of each named kind, from /proc (Linux). Read before and after a phase, the
 * difference is what servers on this machine spent meanwhile. Processes are found by name as
 * `processesNamed` finds them; names missing on this machine read 0.
 */
export function cpuSecondsByProcess(names: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, pids] of processesNamed(names)) {
    let seconds = 0;
    for (const used of cpuSecondsOfPids(pids).values()) seconds += used;
    out.set(name, seconds);
  }
  return out;
}

/**
 * The running processes of each named kind: a process matches when its `comm` (the kernel's
 * first 15 characters of the executable name) is the given name cut to 15 characters. Empty
 * lists without /proc.
 */
export function processesNamed(names: readonly string[]): Map<string, number[]> {
  const out = new Map<string, number[]>(names.map((name) => [name, []]));
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out; // no /proc: not Linux
  }
  for (const pid of pids) {
    const stat = statOf(Number(pid));
    if (stat === undefined) continue;
    // comm is in parentheses and may contain spaces
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const name = names.find((n) => comm === n.slice(0, 15));
    if (name !== undefined) out.get(name)!.push(Number(pid));
  }
  return out;
}

/**
 * Seconds that the threads of these processes, summed, have spent so far runnable but waiting
 * for a core (the second field of each thread's schedstat). On a machine with more work than
 * cores this is where latency goes that no stage of the pipeline shows. 0 for an ended process.
 */
export function runQueueWaitSeconds(pids: readonly number[]): number {
  let nanoseconds = 0;
  for (const pid of pids) {
    let threads: string[];
    try {
      threads = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // ended, or no /proc
    }
    for (const tid of threads) {
      try {
        nanoseconds += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[1]);
      } catch {
        // the thread ended between the listing and the read
      }
    }
  }
  return nanoseconds / 1e9;
}

/** CPU seconds (user + system, with reaped children's) used so far by each of the given processes (0 once one has ended). */
export function cpuSecondsOfPids(pids: readonly number[]): Map<number, number> {
  const out = new Map<number, number>(pids.map((pid) => [pid, 0]));
  for (const pid of pids) {
    const stat = statOf(pid);
    if (stat !== undefined) out.set(pid, ticksOf(stat) / TICKS_PER_SECOND);
  }
  return out;
}

/**
 * The whole machine's CPU time so far (all cores, seconds), from the first line of /proc/stat:
 * `busy` is everything but idle and I/O wait, `steal` what the hypervisor gave other guests
 * while this one had work (a noisy neighbour shows here, not in any process). Zeros without /proc.
 */
export function machineCpuSeconds(): { busy: number; steal: number; total: number } {
  let line: string;
  try {
    line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]!;
  } catch {
    return { busy: 0, steal: 0, total: 0 };
  }
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest time is in user)
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq;
  return { busy: busy / TICKS_PER_SECOND, steal: steal / TICKS_PER_SECOND, total: (busy + idle + iowait + steal) / TICKS_PER_SECOND };
}

/**
 * utime + stime + cutime + cstime of a /proc/<pid>/stat line (fields 14-17; comm is in
 * parentheses and may contain spaces). The children's part keeps a sum over a server's processes
 * from falling when one ends: a Postgres backend that exits takes its CPU time out of the sum,
 * and the postmaster, which reaps it, adds it back as its children's.
 */
function ticksOf(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
}

/** /proc/<pid>/stat, or undefined when the process has ended (or there is no /proc). */
function statOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
}
