// The collector on PostgreSQL next to SQLite, in the same run and on the same
// workload (bench/collector/workload.ts): records/s and batch latency of
//   - one collector on a SQLite file (the floor the PostgreSQL rows are quoted against),
//   - one collector on PostgreSQL,
//   - two collectors on the same PostgreSQL database behind a round-robin HTTP
//     balancer (per request, as Istio spreads the filter's batches over a Service).
// PostgreSQL is a throw-away cluster (initdb + pg_ctl, fsync on) started here.
//
//   node --import tsx bench/collector-pg.ts [--records N] [--concurrency C] [--rounds R] [--profile] [--before DIR]
//
// --before DIR: the PostgreSQL modes also run the collector of another source tree
// (e.g. `git archive main | tar -x -C DIR`, node_modules linked), interleaved with
// this tree's in every round, so before and after are measured in the same run.
//
// After each round, every replica's /v1/stats and the database's pairs table are
// counted: any difference between them or from what the workload makes is printed as
// PAIRS MISCOUNTED and the bench exits 1 (a feed that lost transactions across
// xid 1000 showed only as a smaller number in the pairs column for sessions).
//
// Every run prints the CPU each process used (per record and in cores: the
// collectors' main threads and other threads, the PostgreSQL server, this process
// as sender and balancer), so the table shows which of them is the bottleneck.
// --balance tcp: the balancer picks a replica per connection (a plain L4 Service,
// kube-proxy) instead of per request (Envoy/Istio, the default).
// --icu-locale L (e.g. en-US): the cluster's default collation from ICU, as on a
// server set up with a language locale, instead of C.
//
// --profile adds what the server saw in each PostgreSQL mode: statements per batch
// and their time (pg_stat_statements), WAL flushes, and what the collector's
// connections were doing (running, waiting on locks, waiting for the collector).
//
// Targets (issue 13): PG with one replica ≥ 0.5 × SQLite's records/s, two replicas
// faster than one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs, count, UsageError } from './args.js';
import { collectGarbage, httpCall, percentile, startServer, table, type Server } from './collector/common.js';
import { RawConnection } from './collector/raw-post.js';
import { BATCH, batches, pairsOf } from './collector/workload.js';
import { startBalancer, type BalancerMode } from '../test/support/balancer.js';
import { pgUnavailable, startPgCluster, type PgCluster } from '../test/support/pg-cluster.js';
import { postgresServerCpuSeconds, postmasterPid, threadCpuDelta, threadCpuSeconds, totalSeconds } from './proc-cpu.js';
import { PROFILE_SETTINGS, ServerProfiler, type ServerProfile } from './collector-pg/server-profile.js';

const {
  records: TOTAL,
  concurrency: CONCURRENCY,
  rounds: ROUNDS,
  profile: PROFILE,
  before: BEFORE_ARG,
  'icu-locale': ICU_LOCALE,
  balance: BALANCE_ARG,
} = benchArgs({
  usage: '[--records N] [--concurrency C] [--rounds R] [--profile] [--before DIR] [--icu-locale L] [--balance http|tcp]',
  flags: {
    records: count(64_000),
    concurrency: count(8),
    rounds: count(3),
    profile: { type: 'boolean' },
    before: { type: 'string' },
    'icu-locale': { type: 'string' },
    balance: { type: 'string' },
  },
});
if (BALANCE_ARG !== undefined && BALANCE_ARG !== 'http' && BALANCE_ARG !== 'tcp') throw new UsageError(`--balance is http or tcp, not ${BALANCE_ARG}`);
const BALANCE: BalancerMode = BALANCE_ARG ?? 'http';
const BEFORE = BEFORE_ARG ?? null;
// e.g. SHADOWMESH_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" for V8 profiles of the collectors.
const nodeArgs = (process.env.SHADOWMESH_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

interface Run {
  records: number;
  seconds: number;
  latencies: number[];
  cpu: RunCpu;
}

/** CPU seconds used during a run, by process. */
interface RunCpu {
  collectorMain: number;
  collectorOther: number;
  /** Other threads by name, summed over collectors (for the profile). */
  threads: Map<string, number>;
  server: number;
  sender: number;
}

interface Probe {
  pids: number[];
  postmaster: number | null;
}

function readCpu(p: Probe): { threads: Map<string, number>[]; server: number; sender: number } {
  const u = process.cpuUsage();
  return { threads: p.pids.map(threadCpuSeconds), server: p.postmaster === null ? 0 : postgresServerCpuSeconds(p.postmaster), sender: (u.user + u.system) / 1e6 };
}

function cpuBetween(a: ReturnType<typeof readCpu>, b: ReturnType<typeof readCpu>): RunCpu {
  const threads = new Map<string, number>();
  let main = 0;
  for (let i = 0; i < a.threads.length; i++) {
    const d = threadCpuDelta(a.threads[i]!, b.threads[i]!);
    main += d.get('main') ?? 0;
    d.delete('main');
    for (const [k, v] of d) threads.set(k, (threads.get(k) ?? 0) + v);
  }
  return { collectorMain: main, collectorOther: totalSeconds(threads), threads, server: b.server - a.server, sender: b.sender - a.sender };
}

async function drive(url: URL, bodies: Buffer[], probe: Probe): Promise<Run> {
  const cpu0 = readCpu(probe);
  const latencies: number[] = [];
  let next = 0;
  let records = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      // The bench's sender takes as little of the shared cores as it can (collector/raw-post.ts).
      const conn = await RawConnection.open(url);
      while (next < bodies.length) {
        const b = bodies[next++]!;
        const s = performance.now();
        const r = await conn.post('/v1/records', b);
        latencies.push(performance.now() - s);
        if (r.status !== 200) throw new Error(`POST answered ${r.status}: ${r.text.slice(0, 200)}`);
        const ans = JSON.parse(r.text) as { accepted: number; rejected: number };
        if (ans.rejected) throw new Error(`rejected: ${r.text.slice(0, 300)}`);
        records += ans.accepted;
      }
      conn.close();
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { records, seconds, latencies: latencies.sort((a, b) => a - b), cpu: cpuBetween(cpu0, readCpu(probe)) };
}

interface Mode {
  name: string;
  /** Collectors per mode (0: SQLite), and the mode of one replica of the same tree (for "x 1 PG replica"). */
  replicas: number;
  one?: Mode;
  /** Starts the collectors on a fresh database; returns where to send and how to stop. */
  start(round: number): Promise<{ url: URL; servers: Server[]; db: string | null; close(): Promise<void> }>;
}

const COMMON = ['--join-window-ms', '30000'];

function sqliteMode(): Mode {
  return {
    name: 'SQLite file (sync=normal), 1 collector',
    replicas: 0,
    async start() {
      const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-bench-pg-sqlite-'));
      const server = await startServer(['--db', join(dir, 'bench.db'), ...COMMON], nodeArgs);
      return {
        url: server.url,
        servers: [server],
        db: null,
        async close() {
          await server.stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

function pgMode(cluster: PgCluster, replicas: number, root?: string, one?: Mode): Mode {
  return {
    name: `PostgreSQL, ${replicas} collector${replicas > 1 ? `s behind the balancer${BALANCE === 'tcp' ? ' (per connection)' : ''}` : ''}${root ? ' (before)' : ''}`,
    replicas,
    one,
    async start(round) {
      const db = await cluster.createDatabase(`bench_${replicas}_${round}_${root ? 'b' : 'a'}_${process.pid}`);
      // Together (a start is most of a round's fixed time): the schema step runs
      // under an advisory lock, so one of them creates the tables and the other finds them.
      const servers: Server[] = await Promise.all(Array.from({ length: replicas }, () => startServer(['--db', db, ...COMMON], nodeArgs, root)));
      const lb = replicas > 1 ? await startBalancer(servers.map((s) => s.url.origin), BALANCE) : null;
      return {
        url: lb ? new URL(lb.url) : servers[0]!.url,
        servers,
        db,
        async close() {
          await lb?.close();
          await Promise.all(servers.map((s) => s.stop()));
        },
      };
    },
  };
}

const fmt = (n: number, d = 1): string => n.toFixed(d);

async function pairsStored(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM pairs')).rows[0]!.n;
  } finally {
    await c.end();
  }
}

async function main(): Promise<void> {
  const why = pgUnavailable();
  if (why) {
    console.log(`collector on PostgreSQL: skipped: ${why}`);
    return;
  }
  const cluster = await startPgCluster({ fsync: true, maxConnections: 200, settings: PROFILE ? PROFILE_SETTINGS : {}, icuLocale: ICU_LOCALE });
  const postmaster = postmasterPid(join(cluster.dir, 'data'));
  const profiles = new Map<string, { profile: ServerProfile; run: Run }>();
  try {
    const one = pgMode(cluster, 1);
    const oneBefore = BEFORE ? pgMode(cluster, 1, BEFORE) : null;
    const modes = [sqliteMode(), ...(oneBefore ? [oneBefore, pgMode(cluster, 2, BEFORE!, oneBefore)] : []), one, pgMode(cluster, 2, undefined, one)];
    // As bytes, built before anything is measured, their garbage collected (as bench/collector/ingest.ts).
    const bodies = batches(TOTAL).map((b) => Buffer.from(b));
    const warm = batches(6400).map((b) => Buffer.from(b.replace(/"id":"/g, '"id":"w')));
    const avgRecord = bodies.reduce((s, b) => s + b.length, 0) / (bodies.length * BATCH);
    collectGarbage();
    const results: { mode: Mode; runs: { run: Run; pairs: number }[] }[] = modes.map((mode) => ({ mode, runs: [] }));
    const miscounts: string[] = [];
    // Rounds interleave the modes, so a noisy neighbour hurts each mode alike.
    for (let round = 0; round < ROUNDS; round++) {
      for (const r of results) {
        const s = await r.mode.start(round);
        try {
          const probe: Probe = { pids: s.servers.map((x) => x.proc.pid!), postmaster };
          await drive(s.url, warm, probe);
          // The profile of each PostgreSQL mode, in the last round.
          const profiler = PROFILE && s.db && round === ROUNDS - 1 ? await ServerProfiler.open(s.db) : null;
          await profiler?.start();
          const run = await drive(s.url, bodies, probe);
          if (profiler) {
            profiles.set(r.mode.name, { profile: await profiler.stop(), run });
            await profiler.close();
          }
          // Every replica's count, and the database's: they must all be the same.
          const counts = await Promise.all(s.servers.map(async (x) => (JSON.parse((await httpCall(x.url, 'GET', '/v1/stats')).text) as { total: { pairs: number } }).total.pairs));
          const stored = s.db ? await pairsStored(s.db) : counts[0]!;
          if (counts.some((n) => n !== stored)) miscounts.push(`${r.mode.name}, round ${round + 1}: the database holds ${stored} pairs, the replicas' /v1/stats say ${counts.join(', ')}`);
          r.runs.push({ run, pairs: counts[0]! });
        } finally {
          await s.close();
        }
      }
    }
    const rate = (x: Run): number => x.records / x.seconds;
    const medians = results.map((r) => {
      const sorted = [...r.runs].sort((a, b) => rate(a.run) - rate(b.run));
      return { mode: r.mode, all: r.runs, ...sorted[Math.floor(sorted.length / 2)]! };
    });
    const floor = rate(medians[0]!.run);
    const rateOf = (mode: Mode): number => rate(medians.find((m) => m.mode === mode)!.run);
    const rows = medians.map((m) => [
      m.mode.name,
      m.run.records,
      fmt(rate(m.run), 0),
      m.all.map((x) => fmt(rate(x.run) / 1000, 1)).join(' / '),
      fmt(rate(m.run) / floor, 2),
      m.mode.one ? fmt(rate(m.run) / rateOf(m.mode.one), 2) : '',
      fmt(percentile(m.run.latencies, 0.5), 2),
      fmt(percentile(m.run.latencies, 0.99), 2),
      m.pairs,
    ]);
    console.log(
      `collector on PostgreSQL vs SQLite: ${TOTAL} records in ${BATCH}-record batches, ~${Math.round(avgRecord)} B/record, ${CONCURRENCY} requests in flight; PostgreSQL ${cluster.port} with fsync on, collation ${ICU_LOCALE ? `ICU ${ICU_LOCALE}` : "C"}; median of ${ROUNDS} rounds, modes interleaved`,
    );
    console.log(table(['mode', 'records', 'records/s (wall)', 'all rounds, k/s', 'x SQLite', 'x 1 PG replica', 'batch p50 ms', 'batch p99 ms', 'pairs (incl. warm-up)'], rows));
    // Speed means nothing if a mode lost pairs: every round of every mode must count what the workload makes.
    const reference = pairsOf(warm.length * BATCH) + pairsOf(TOTAL);
    for (const r of results) for (const [i, x] of r.runs.entries()) if (x.pairs !== reference) miscounts.push(`${r.mode.name}, round ${i + 1}: ${x.pairs} pairs, the workload makes ${reference}`);
    if (miscounts.length > 0) {
      console.log(`PAIRS MISCOUNTED:\n${miscounts.map((m) => `- ${m}`).join('\n')}`);
      process.exitCode = 1;
    } else console.log(`pairs: every round of every mode counted ${reference}, what the workload makes and the database holds`);
    const pgRatio = rateOf(one) / floor;
    const scale = rate(medians[medians.length - 1]!.run) / rateOf(one);
    console.log(`targets: 1 PG replica ≥ 0.5 × SQLite: ${fmt(pgRatio, 2)} (${pgRatio >= 0.5 ? 'met' : 'not met'}); 2 replicas faster than 1: ${fmt(scale, 2)} (${scale > 1 ? 'met' : 'not met'})`);
    // Where the CPU went, in the median round of each mode: µs per record and cores used.
    const us = (sec: number, run: Run): string => fmt((sec * 1e6) / run.records, 0);
    const cores = (sec: number, run: Run): string => fmt(sec / run.seconds, 2);
    const cpuRows = medians.map((m) => {
      const c = m.run.cpu;
      const n = Math.max(1, m.mode.replicas);
      return [
        m.mode.name,
        us(c.collectorMain, m.run),
        us(c.collectorOther, m.run),
        us(c.server, m.run),
        us(c.sender, m.run),
        cores(c.collectorMain / n, m.run),
        cores(c.collectorMain + c.collectorOther, m.run),
        cores(c.server, m.run),
        cores(c.sender, m.run),
        cores(c.collectorMain + c.collectorOther + c.server + c.sender, m.run),
      ];
    });
    console.log('CPU of each process during the median round (/proc utime+stime; PostgreSQL: the postmaster and all its children):');
    console.log(
      table(
        ['mode', 'collector main thread µs/record', 'collector other threads µs/record', 'PostgreSQL µs/record', 'sender + balancer µs/record', 'cores: main thread per collector', 'cores: collectors', 'cores: PostgreSQL', 'cores: sender', 'cores: all'],
        cpuRows,
      ),
    );
    // The other threads by name (the prepare thread, V8's GC helpers, libuv's pool…).
    for (const m of medians) {
      const parts = [...m.run.cpu.threads].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
      console.log(`other threads of "${m.mode.name}", µs/record: ${parts.map(([k, v]) => `${k} ${us(v, m.run)}`).join(', ')}`);
    }
    for (const [name, p] of profiles) printProfile(name, p.profile, bodies.length, p.run);
    if (process.env.BENCH_SUMMARY) writeFileSync(process.env.BENCH_SUMMARY, JSON.stringify(rows.map((r) => ({ mode: r[0], recordsPerSecond: Number(r[2]), batchP99Ms: Number(r[7]) }))));
  } finally {
    await cluster.stop();
  }
}

function printProfile(mode: string, p: ServerProfile, batchCount: number, run: Run): void {
  console.log(`profile of "${mode}", last round (${batchCount} batches, ${fmt(run.seconds, 1)} s):`);
  const calls = p.statements.reduce((a, r) => a + r.calls, 0);
  console.log(`statements: ${calls} (${fmt(calls / batchCount, 1)} per batch); WAL flushes: ${p.walSyncs} (${fmt(p.walSyncs / batchCount, 2)} per batch), ${fmt(p.walSyncMs / p.walSyncs, 2)} ms each`);
  console.log(
    table(
      ['statement', 'calls per batch', 'ms per call', 'ms per batch'],
      p.statements.slice(0, 14).map((r) => [r.query.slice(0, 90), fmt(r.calls / batchCount, 2), fmt(r.ms / r.calls, 3), fmt(r.ms / batchCount, 2)]),
    ),
  );
  const total = [...p.activity.values()].reduce((a, b) => a + b, 0);
  console.log(`the collector's connections, ${p.samples} samples of pg_stat_activity (share of connection-samples):`);
  console.log(
    table(
      ['state', 'share', 'connections on average'],
      [...p.activity].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, `${fmt((100 * v) / total, 1)} %`, fmt(v / p.samples, 2)]),
    ),
  );
}

await main();
