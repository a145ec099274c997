// The collector on PostgreSQL next to SQLite, in the same run and on the same
// workload (bench/collector/workload.ts): records/s and batch latency of
//   - one collector on a SQLite file (the floor the PostgreSQL rows are quoted against),
//   - one collector on PostgreSQL,
//   - two collectors on the same PostgreSQL database behind a round-robin HTTP
//     balancer (per request, as Istio spreads the filter's batches over a Service).
// PostgreSQL is a throw-away cluster (initdb + pg_ctl, fsync on) started here.
//
//   node --import tsx bench/collector-pg.ts [--records N] [--concurrency C] [--rounds R]
//
// Targets (issue 13): PG with one replica ≥ 0.5 × SQLite's records/s, two replicas
// faster than one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpCall, percentile, startServer, table, type Server } from './collector/common.js';
import { BATCH, batches } from './collector/workload.js';
import { startBalancer } from '../test/support/balancer.js';
import { pgUnavailable, startPgCluster, type PgCluster } from '../test/support/pg-cluster.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const TOTAL = arg('--records', 64_000);
const CONCURRENCY = arg('--concurrency', 8);
const ROUNDS = arg('--rounds', 3);

interface Run {
  records: number;
  seconds: number;
  latencies: number[];
}

async function drive(url: URL, bodies: string[]): Promise<Run> {
  const latencies: number[] = [];
  let next = 0;
  let records = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < bodies.length) {
        const b = bodies[next++]!;
        const s = performance.now();
        const r = await httpCall(url, 'POST', '/v1/records', b);
        latencies.push(performance.now() - s);
        if (r.status !== 200) throw new Error(`POST answered ${r.status}: ${r.text.slice(0, 200)}`);
        const ans = JSON.parse(r.text) as { accepted: number; rejected: number };
        if (ans.rejected) throw new Error(`rejected: ${r.text.slice(0, 300)}`);
        records += ans.accepted;
      }
    }),
  );
  return { records, seconds: (performance.now() - t0) / 1000, latencies: latencies.sort((a, b) => a - b) };
}

interface Mode {
  name: string;
  /** Starts the collectors on a fresh database; returns where to send and how to stop. */
  start(round: number): Promise<{ url: URL; servers: Server[]; close(): Promise<void> }>;
}

const COMMON = ['--join-window-ms', '30000'];

function sqliteMode(): Mode {
  return {
    name: 'SQLite file (sync=normal), 1 collector',
    async start() {
      const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-bench-pg-sqlite-'));
      const server = await startServer(['--db', join(dir, 'bench.db'), ...COMMON]);
      return {
        url: server.url,
        servers: [server],
        async close() {
          await server.stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

function pgMode(cluster: PgCluster, replicas: number): Mode {
  return {
    name: `PostgreSQL, ${replicas} collector${replicas > 1 ? 's behind the balancer' : ''}`,
    async start(round) {
      const db = await cluster.createDatabase(`bench_${replicas}_${round}_${process.pid}`);
      // One after the other: the first creates the schema.
      const servers: Server[] = [];
      for (let i = 0; i < replicas; i++) servers.push(await startServer(['--db', db, ...COMMON]));
      const lb = replicas > 1 ? await startBalancer(servers.map((s) => s.url.origin), 'http') : null;
      return {
        url: lb ? new URL(lb.url) : servers[0]!.url,
        servers,
        async close() {
          await lb?.close();
          await Promise.all(servers.map((s) => s.stop()));
        },
      };
    },
  };
}

const fmt = (n: number, d = 1): string => n.toFixed(d);

async function main(): Promise<void> {
  const why = pgUnavailable();
  if (why) {
    console.log(`collector on PostgreSQL: skipped: ${why}`);
    return;
  }
  const cluster = await startPgCluster({ fsync: true, maxConnections: 200 });
  try {
    const modes = [sqliteMode(), pgMode(cluster, 1), pgMode(cluster, 2)];
    const bodies = batches(TOTAL);
    const warm = batches(6400).map((b) => b.replace(/"id":"/g, '"id":"w'));
    const avgRecord = bodies.reduce((s, b) => s + b.length, 0) / (bodies.length * BATCH);
    const results: { mode: Mode; runs: { run: Run; pairs: number }[] }[] = modes.map((mode) => ({ mode, runs: [] }));
    // Rounds interleave the modes, so a noisy neighbour hurts each mode alike.
    for (let round = 0; round < ROUNDS; round++) {
      for (const r of results) {
        const s = await r.mode.start(round);
        try {
          await drive(s.url, warm);
          const run = await drive(s.url, bodies);
          const stats = JSON.parse((await httpCall(s.servers[0]!.url, 'GET', '/v1/stats')).text) as { total: { pairs: number } };
          r.runs.push({ run, pairs: stats.total.pairs });
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
    const one = rate(medians[1]!.run);
    const rows = medians.map((m, i) => [
      m.mode.name,
      m.run.records,
      fmt(rate(m.run), 0),
      m.all.map((x) => fmt(rate(x.run) / 1000, 1)).join(' / '),
      fmt(rate(m.run) / floor, 2),
      i === 2 ? fmt(rate(m.run) / one, 2) : '',
      fmt(percentile(m.run.latencies, 0.5), 2),
      fmt(percentile(m.run.latencies, 0.99), 2),
      m.pairs,
    ]);
    console.log(
      `collector on PostgreSQL vs SQLite: ${TOTAL} records in ${BATCH}-record batches, ~${Math.round(avgRecord)} B/record, ${CONCURRENCY} requests in flight; PostgreSQL ${cluster.port} with fsync on; median of ${ROUNDS} rounds, modes interleaved`,
    );
    console.log(table(['mode', 'records', 'records/s (wall)', 'all rounds, k/s', 'x SQLite', 'x 1 PG replica', 'batch p50 ms', 'batch p99 ms', 'pairs (incl. warm-up)'], rows));
    const pgRatio = one / floor;
    const scale = rate(medians[2]!.run) / one;
    console.log(`targets: 1 PG replica ≥ 0.5 × SQLite: ${fmt(pgRatio, 2)} (${pgRatio >= 0.5 ? 'met' : 'not met'}); 2 replicas faster than 1: ${fmt(scale, 2)} (${scale > 1 ? 'met' : 'not met'})`);
    if (process.env.BENCH_SUMMARY) writeFileSync(process.env.BENCH_SUMMARY, JSON.stringify(rows.map((r) => ({ mode: r[0], recordsPerSecond: Number(r[2]), batchP99Ms: Number(r[7]) }))));
  } finally {
    await cluster.stop();
  }
}

await main();
