// Production latency through the mirroring sidecar while the shadow or the
// collector misbehaves: healthy, shadow 2 s slow, shadow answering 500, shadow
// refusing connections, collector down. The claim (issue 12) is zero production
// errors and p99 within 10% of the healthy run.
//
// One run's p99 moves by more than 10% on its own (a shared 2-core machine, 1 ms
// latency resolution), so the scenarios are interleaved in rounds: each round
// measures healthy first and last and the failure scenarios in between (their order
// rotated each round), and each failure is quoted as the median over rounds of its
// p99 over that round's healthy p99 (the mean of the two healthy runs). The healthy
// runs' own ratio (last over first) is the noise the bound has to be read against.
// Every scenario has its own sidecar, started once and warmed up before each run for
// longer than the slow shadow takes to answer, so its connection pool to the shadow
// is at steady state (at 200 req/s a 2 s shadow holds ~400 connections) rather than
// being opened inside the measured window. The sidecar's CPU per request is read from
// /proc: extra work per pending copy would show there before it shows in a p99. The
// shadow server counts the copies and new connections it saw in each measured window:
// a pool still filling up (or not reusing its connections) shows as connections.
//
//   node --import tsx bench/sidecar/isolation.ts [--seconds S] [--rounds N] [--rate R] [--warmup S]
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { table } from '../collector/common.js';
import { load, serverCounts, startServers, startSidecar, type Load, type Proc, type ServerCounts } from './rig.js';
import { SLOW_SHADOW_MS } from './servers-config.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const SECONDS = arg('--seconds', 5);
const ROUNDS = arg('--rounds', 3);
const RATE = arg('--rate', 200);
const WARMUP = arg('--warmup', SLOW_SHADOW_MS / 1000 + 1);
const CONNECTIONS = 8;

/** User + system CPU seconds of a process so far (Linux /proc; NaN elsewhere). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return Number.NaN;
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Scenario {
  name: string;
  shadow: keyof Ports;
  collector: keyof Ports;
}
type Ports = Awaited<ReturnType<typeof startServers>>['info'];

const HEALTHY: Scenario = { name: 'shadow healthy', shadow: 'shadow', collector: 'collector' };
const FAILURES: Scenario[] = [
  { name: `shadow ${SLOW_SHADOW_MS / 1000} s slow`, shadow: 'slow', collector: 'collector' },
  { name: 'shadow answering 500', shadow: 'failing', collector: 'collector' },
  { name: 'shadow refusing connections', shadow: 'refused', collector: 'collector' },
  { name: 'collector down', shadow: 'shadow', collector: 'refused' },
];

interface Run {
  r: Load;
  cpuMsPerRequest: number;
  /** Copies the shadow server received and connections it accepted inside the measured window (null: no server there). */
  shadow: { copies: number; connections: number } | null;
}

const servers = await startServers();
const p = servers.info;
const sidecars = new Map<string, Proc<{ url: string }>>();
const runs = new Map<string, Run[]>(); // by scenario name; 'healthy (first)' / 'healthy (last)' for the two healthy runs
const push = (name: string, run: Run): void => {
  if (!runs.has(name)) runs.set(name, []);
  runs.get(name)!.push(run);
};

async function measure(s: Scenario): Promise<Run> {
  const sidecar = sidecars.get(s.name)!;
  await load(sidecar.info.url, { seconds: WARMUP, connections: CONNECTIONS, rate: RATE });
  const cpu0 = cpuSeconds(sidecar.proc.pid);
  const before = await serverCounts(p);
  const r = await load(sidecar.info.url, { seconds: SECONDS, connections: CONNECTIONS, rate: RATE });
  const after = await serverCounts(p);
  const cpu1 = cpuSeconds(sidecar.proc.pid);
  const name = s.shadow as keyof ServerCounts;
  const shadow = name in after ? { copies: after[name].requests - before[name].requests, connections: after[name].connections - before[name].connections } : null;
  // The slow shadow still answers copies for a while: let those land before the next
  // scenario's window opens, or their work would be charged to it.
  if (s.shadow === 'slow') await sleep(SLOW_SHADOW_MS + 500);
  return { r, cpuMsPerRequest: ((cpu1 - cpu0) * 1000) / Math.max(1, r.requests), shadow };
}

try {
  for (const s of [HEALTHY, ...FAILURES]) {
    sidecars.set(s.name, await startSidecar('mirroring', { production: p.production, shadow: p[s.shadow], collector: p[s.collector] }));
  }
  for (let round = 0; round < ROUNDS; round++) {
    const order = FAILURES.map((_, i) => FAILURES[(i + round) % FAILURES.length]!);
    push('healthy (first)', await measure(HEALTHY));
    for (const s of order) push(s.name, await measure(s));
    push('healthy (last)', await measure(HEALTHY));
    process.stderr.write(`isolation: round ${round + 1}/${ROUNDS} done\n`);
  }
} finally {
  await Promise.all([...sidecars.values()].map((s) => s.stop()));
  await servers.stop();
}

const first = runs.get('healthy (first)')!;
const last = runs.get('healthy (last)')!;
const reference = first.map((f, i) => (f.r.p99 + last[i]!.r.p99) / 2);
const rows = [...runs.entries()].map(([name, rs]) => {
  const ratios = name === 'healthy (first)' ? null : rs.map((x, i) => x.r.p99 / (name === 'healthy (last)' ? first[i]!.r.p99 : reference[i]!));
  return [
    name,
    rs.reduce((a, x) => a + x.r.requests, 0),
    rs.reduce((a, x) => a + x.r.errors + x.r.non2xx, 0),
    median(rs.map((x) => x.r.p50)).toFixed(1),
    rs.map((x) => x.r.p99.toFixed(0)).join(' / '),
    ratios ? ratios.map((x) => x.toFixed(2)).join(' / ') : '—',
    ratios ? median(ratios).toFixed(2) : '—',
    median(rs.map((x) => x.cpuMsPerRequest)).toFixed(3),
    rs[0]!.shadow ? `${rs.reduce((a, x) => a + x.shadow!.copies, 0)} / ${rs.reduce((a, x) => a + x.shadow!.connections, 0)}` : '—',
  ];
});
console.log(
  `isolation: production through the mirroring sidecar, autocannon ${RATE} req/s over ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${SECONDS} s measured per run, ${ROUNDS} interleaved rounds`,
);
console.log(
  table(
    ['scenario', 'requests', 'production errors + non-2xx', 'p50 ms (median)', 'p99 ms, each round', 'p99 / round\'s healthy p99', 'median ratio', 'sidecar CPU ms / request', 'shadow: copies / new connections in window'],
    rows,
  ),
);
console.log("healthy (last)'s ratio is to the same round's first healthy run: the method's own noise. Others are to the mean of the round's two healthy runs.");
