import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ on Linux: /proc/<pid>/stat counts CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) used so far by all running processes of each named kind, from
 * /proc (Linux). Read before and after a phase, the difference is what servers on this machine
 * spent meanwhile. A process name matches when its `comm` (the kernel's first 15 characters of
 * the executable name) starts the given name; names missing on this machine read 0.
 */
export function cpuSecondsByProcess(names: readonly string[]): Map<string, number> {
  const out = new Map<string, number>(names.map((name) => [name, 0]));
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out; // no /proc: not Linux
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    } catch {
      continue; // the process ended between the listing and the read
    }
    // comm is in parentheses and may contain spaces; utime and stime are fields 14 and 15
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const name = names.find((n) => comm === n.slice(0, 15));
    if (name === undefined) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(name, out.get(name)! + (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND);
  }
  return out;
}
