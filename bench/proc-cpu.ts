// CPU time of the benches' processes, read from /proc (Linux): of a whole process,
// of its main thread, per thread name (the main thread, the collector's named
// workers, V8's GC helpers, libuv's pool), and of a whole PostgreSQL server (the
// postmaster, its live children, and the children that already exited, which the
// kernel adds to the postmaster's cutime/cstime once reaped). Differences of two
// readings give the CPU a run used, which load from other processes moves far less
// than wall-clock time. One parser for every bench, so their figures agree.
import { readdirSync, readFileSync } from 'node:fs';

const TICK = 100; // USER_HZ on Linux: /proc's times are in these clock ticks

interface Stat {
  /** The thread's or process's name (comm; at most 15 characters). */
  name: string;
  ppid: number;
  /** utime + stime, seconds. */
  own: number;
  /** cutime + cstime of reaped children, seconds. */
  children: number;
}

function readStat(path: string): Stat | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null; // gone meanwhile
  }
  // The name is in parentheses and may itself hold spaces or ')': the fields follow the last ')'.
  const close = text.lastIndexOf(')');
  const f = text.slice(close + 2).split(' ');
  return {
    name: text.slice(text.indexOf('(') + 1, close),
    ppid: Number(f[1]),
    own: (Number(f[11]) + Number(f[12])) / TICK,
    children: (Number(f[13]) + Number(f[14])) / TICK,
  };
}

/** utime + stime in seconds of a whole process, or with `mainThreadOnly` of its main thread; NaN once it is gone. */
export function processCpuSeconds(pid: number, mainThreadOnly = false): number {
  return readStat(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`)?.own ?? Number.NaN;
}

/**
 * CPU seconds of each thread of a process, summed by thread name: `main` for the main
 * thread, the collector's own workers by the names they give themselves (sm-prepare,
 * sm-checkpoint, sm-reader), and `node` for the rest (V8's GC and compiler helpers,
 * libuv's pool). Threads that ended are no longer listed (their time is in the
 * process's total). Empty once the process is gone.
 */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    const s = readStat(`/proc/${pid}/task/${tid}/stat`);
    if (!s) continue; // the thread ended meanwhile
    const name = Number(tid) === pid ? 'main' : s.name;
    out.set(name, (out.get(name) ?? 0) + s.own);
  }
  return out;
}

/**
 * Difference of two threadCpuSeconds readings: names that appeared count from zero;
 * names no longer listed are left out (their threads ended: the reading no longer has them).
 */
export function threadCpuDelta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const d = new Map<string, number>();
  for (const [k, v] of after) d.set(k, v - (before.get(k) ?? 0));
  return d;
}

/** The seconds of a threadCpuSeconds reading (or delta) added up. */
export const totalSeconds = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

/** The postmaster's pid: the first line of postmaster.pid in the data directory. */
export function postmasterPid(dataDir: string): number {
  return Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n', 1)[0]);
}

/** CPU seconds of a whole PostgreSQL server so far: postmaster, live children, reaped children; NaN once it is gone. */
export function postgresServerCpuSeconds(postmaster: number): number {
  const pm = readStat(`/proc/${postmaster}/stat`);
  if (!pm) return Number.NaN;
  let total = pm.own + pm.children;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const s = readStat(`/proc/${p}/stat`);
    if (s && s.ppid === postmaster) total += s.own;
  }
  return total;
}
