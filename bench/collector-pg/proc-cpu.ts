// CPU time of the bench's processes, read from /proc: per thread of a collector
// (grouped by thread name: the main thread, V8's GC helpers, libuv's pool), and of
// the whole PostgreSQL server (the postmaster, its live children, and the children
// that already exited, which the kernel adds to the postmaster's cutime/cstime
// once reaped). Differences of two readings give the CPU a run used, which load
// from other processes moves far less than wall-clock time.
import { readdirSync, readFileSync } from 'node:fs';

const TICK = 100; // USER_HZ on Linux

interface Stat {
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
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(f[1]), own: (Number(f[11]) + Number(f[12])) / TICK, children: (Number(f[13]) + Number(f[14])) / TICK };
}

/** CPU seconds per thread name of one process (threads of one name summed). */
export function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    const s = readStat(`/proc/${pid}/task/${tid}/stat`);
    if (!s) continue;
    let name = Number(tid) === pid ? 'main' : 'other';
    if (Number(tid) !== pid) {
      try {
        name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      } catch {
        continue;
      }
    }
    out.set(name, (out.get(name) ?? 0) + s.own);
  }
  return out;
}

/** Difference of two threadCpu readings (threads that appeared count from zero). */
export function threadCpuDelta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const d = new Map<string, number>();
  for (const [k, v] of after) d.set(k, v - (before.get(k) ?? 0));
  return d;
}

export const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

/** The postmaster's pid: the first line of postmaster.pid in the data directory. */
export function postmasterPid(dataDir: string): number {
  return Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n', 1)[0]);
}

/** CPU seconds of the whole server so far: postmaster, live children, reaped children. */
export function serverCpu(postmaster: number): number {
  const pm = readStat(`/proc/${postmaster}/stat`);
  if (!pm) return NaN;
  let total = pm.own + pm.children;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const s = readStat(`/proc/${p}/stat`);
    if (s && s.ppid === postmaster) total += s.own;
  }
  return total;
}
