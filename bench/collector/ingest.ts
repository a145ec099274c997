// Ingest throughput of the collector: 64-record batches of ~1 KB records, every
// record joined, compared and persisted to a SQLite file. The collector runs as
// its own process (one Node.js thread = one core); this process only sends.
//
//   node --import tsx bench/collector/ingest.ts [--records N] [--concurrency C] [--rounds R]
//        [--query-rate Q] [--before DIR] [--floor] [--prediction]
//
// --before DIR: also runs the collector of another checkout (e.g. `git archive` of an
// older commit, with node_modules linked), its rounds interleaved with this tree's,
// and prints after/before. --floor: runs bench/collector/floor.ts once per round,
// interleaved too, and prints each collector as a ratio to that floor.
//
// --prediction: the collector runs with a `prediction` rule (label and score) on the
// workload's routes, as a model's shadow is set up, so every pair also gives a sample.
//
// Ids are random hex (as the filter makes them: 128 random bits), so every insert
// lands on a random page of the (id, role) index; the "time-ordered ids" row shows
// the same load with ids that sort by arrival, for comparison.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchArgs, count } from '../args.js';
import { ROOT, collectGarbage, httpCall, percentile, startServer, table, type Server } from './common.js';
import { processCpuSeconds, threadCpuDelta, threadCpuSeconds } from '../proc-cpu.js';
import { RawConnection } from './raw-post.js';
import { BATCH, batches, pairsOf, setOrderedIds } from './workload.js';

const {
  records: TOTAL,
  concurrency: CONCURRENCY,
  rounds: ROUNDS,
  'query-rate': QUERY_RATE,
  before,
  floor: FLOOR,
  prediction: PREDICTION,
} = benchArgs({
  usage: '[--records N] [--concurrency C] [--rounds R] [--query-rate Q] [--before DIR] [--floor] [--prediction]',
  flags: {
    records: count(200_000),
    concurrency: count(4),
    // The machine is shared: each mode runs this many times (fresh database each
    // time) and the round with the median wall throughput is reported.
    rounds: count(3),
    /** Queries per second in all (round robin over QUERIES), at a fixed pace. */
    'query-rate': { type: 'number', default: 20 },
    before: { type: 'string' },
    floor: { type: 'boolean' },
    prediction: { type: 'boolean' },
  },
});
const BEFORE = before === undefined ? null : resolve(before);
// e.g. SHADOWMESH_BENCH_NODE_ARGS=--cpu-prof to profile the collector process.
const nodeArgs = (process.env.SHADOWMESH_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
// SHADOWMESH_BENCH_GC=1: the collector runs with --trace-gc and the main thread's GC
// pauses during each measured run are printed (one cause of the batch latency tail).
const GC = process.env.SHADOWMESH_BENCH_GC === '1';
// SHADOWMESH_BENCH_TIMELINE=FILE: each batch's start (ms into the run) and latency of the
// last measured run go to FILE, to see whether slow batches come together.
const TIMELINE = process.env.SHADOWMESH_BENCH_TIMELINE;
// SHADOWMESH_BENCH_SENDER=node-http: the POSTs go through node:http's client, as before
// session 11, instead of raw-post.ts (to see what the sender itself costs).
const NODE_HTTP_SENDER = process.env.SHADOWMESH_BENCH_SENDER === 'node-http';
if (GC) nodeArgs.push('--trace-gc');

interface Run {
  records: number;
  seconds: number;
  cpu: number;
  mainCpu: number;
  /** CPU seconds per thread name during the run (proc-cpu.ts threadCpuSeconds). */
  threads: Map<string, number>;
  latencies: number[];
  /** CPU seconds this process (the sender) used during the run: it shares the machine's cores with the collector. */
  senderCpu: number;
  /** The main thread's GC pauses during the run (SHADOWMESH_BENCH_GC=1 only). */
  gc?: { kind: string; ms: number }[];
}

async function drive(server: Server, bodies: Buffer[]): Promise<Run> {
  const pid = server.proc.pid!;
  const latencies: number[] = [];
  const timeline: [number, number][] | undefined = TIMELINE ? [] : undefined;
  let next = 0;
  let records = 0;
  const cpu0 = processCpuSeconds(pid);
  const main0 = processCpuSeconds(pid, true);
  const threads0 = threadCpuSeconds(pid);
  const sender0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      const conn = NODE_HTTP_SENDER ? null : await RawConnection.open(server.url);
      while (next < bodies.length) {
        const b = bodies[next++]!;
        const s = performance.now();
        const r = conn ? await conn.post('/v1/records', b) : await httpCall(server.url, 'POST', '/v1/records', b);
        latencies.push(performance.now() - s);
        timeline?.push([s - t0, performance.now() - s]);
        if (r.status !== 200) throw new Error(`POST answered ${r.status}: ${r.text.slice(0, 200)}`);
        const ans = JSON.parse(r.text) as { accepted: number; rejected: number };
        if (ans.rejected) throw new Error(`rejected: ${r.text.slice(0, 300)}`);
        records += ans.accepted;
      }
      conn?.close();
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  if (TIMELINE && timeline) writeFileSync(TIMELINE, timeline.map(([a, b]) => `${a.toFixed(2)} ${b.toFixed(2)}`).join('\n') + '\n');
  const sender = process.cpuUsage(sender0);
  const threads = threadCpuDelta(threads0, threadCpuSeconds(pid));
  return {
    records,
    seconds,
    cpu: processCpuSeconds(pid) - cpu0,
    mainCpu: processCpuSeconds(pid, true) - main0,
    threads,
    latencies: latencies.sort((a, b) => a - b),
    senderCpu: (sender.user + sender.system) / 1e6,
  };
}

/** The queries a dashboard or an operator runs while the collector ingests. */
const QUERIES = ['/v1/stats', '/v1/pairs?limit=50', '/v1/verdict'];

/** Sends QUERIES in turn at QUERY_RATE per second until stopped; returns each one's latencies. */
function queryLoop(server: Server): { stop: () => Promise<Map<string, number[]>> } {
  let running = true;
  const latencies = new Map<string, number[]>(QUERIES.map((q) => [q, []]));
  const loop = (async () => {
    const t0 = performance.now();
    for (let n = 0; running; n++) {
      // On a fixed schedule: a slow answer delays the next query, it does not add one.
      const due = t0 + (n * 1000) / QUERY_RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (!running) break;
      const q = QUERIES[n % QUERIES.length]!;
      const s = performance.now();
      const r = await httpCall(server.url, 'GET', q);
      if (r.status !== 200) throw new Error(`GET ${q} answered ${r.status}: ${r.text.slice(0, 200)}`);
      latencies.get(q)!.push(performance.now() - s);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      for (const xs of latencies.values()) xs.sort((a, b) => a - b);
      return latencies;
    },
  };
}

const fmt = (n: number, d = 1) => n.toFixed(d);
const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A config with a prediction rule on both of the workload's routes (workload.ts bodies). */
function writePredictionConfig(dir: string): string {
  const file = join(dir, 'prediction.yaml');
  const rule = '    prediction: { label: "/items/0/sku", score: "/items/0/score" }\n';
  writeFileSync(file, `routes:\n  rank:\n${rule}  predict:\n${rule}`);
  return file;
}

/** One round of bench/collector/floor.ts on the same number of records, in a child process. */
function measureFloor(): { sqlite: number; parse: number } {
  const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-floor-sum-'));
  try {
    const file = join(dir, 'floor.json');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/collector/floor.ts', '--records', String(TOTAL), '--rounds', '1'], {
      cwd: ROOT,
      env: { ...process.env, BENCH_SUMMARY: file },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`floor.ts exited with ${r.status}`);
    const rows = JSON.parse(readFileSync(file, 'utf8')) as { floor: string; recordsPerSecond: number }[];
    return { sqlite: rows.find((f) => f.floor.includes('insert'))!.recordsPerSecond, parse: rows.find((f) => f.floor.startsWith('JSON.parse of'))!.recordsPerSecond };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const rows: (string | number)[][] = [];
  const queryRows: (string | number)[][] = [];
  const threadRows: (string | number)[][] = [];
  const gcRows: (string | number)[][] = [];
  let avgRecord = 0;
  const only = process.env.SHADOWMESH_BENCH_MODES?.split(',').map(Number);
  const allModes: { sync: 'normal' | 'full'; queries: boolean; ordered: boolean; memory?: boolean }[] = [
    { sync: 'normal', queries: false, ordered: false },
    { sync: 'normal', queries: true, ordered: false },
    { sync: 'full', queries: false, ordered: false },
    { sync: 'normal', queries: false, ordered: true },
    // No persistence: the same collector on an in-memory database.
    { sync: 'normal', queries: false, ordered: false, memory: true },
  ];
  // SHADOWMESH_BENCH_MODES=0,2 runs only those rows (0-based).
  const modes = only ? allModes.filter((_, i) => only.includes(i)) : allModes;

  const trees: { label: string; root: string }[] = BEFORE ? [{ label: 'before', root: BEFORE }, { label: 'after', root: ROOT }] : [{ label: '', root: ROOT }];
  const floors: { sqlite: number; parse: number }[] = [];
  const medians = new Map<string, number>();
  type Round = { run: Run; pairs: number; qs: Map<string, number[]> | null };
  // Rounds outermost, every mode and tree inside each: a busy spell of a shared
  // machine then hits all rows of one round alike (the "+ queries" row is compared
  // with the row without queries of the same run).
  const byMode = modes.map(() => new Map<string, Round[]>(trees.map((t) => [t.label, []])));
  // Built once, before anything is measured, and the garbage of building them
  // collected: the sender's CPU shares the cores with the collector, and a collection
  // of tens of MB during the first measured run would slow that run alone.
  // (Modes that differ only in the collector's settings share one workload.)
  // As bytes: node:http would encode a 73 KB string to UTF-8 again on every send.
  const byIds = new Map<boolean, { warm: Buffer[]; bodies: Buffer[] }>();
  const workloads = modes.map((mode) => {
    let w = byIds.get(mode.ordered);
    if (!w) {
      setOrderedIds(mode.ordered);
      const bytes = (bs: string[]) => bs.map((b) => Buffer.from(b));
      byIds.set(mode.ordered, (w = { warm: bytes(batches(6400).map((b) => b.replace(/"id":"/g, '"id":"w'))), bodies: bytes(batches(TOTAL)) }));
    }
    return w;
  });
  collectGarbage();
  for (let round = 0; round < ROUNDS; round++) {
    if (FLOOR) floors.push(measureFloor());
    for (const [m, mode] of modes.entries()) {
      const { warm, bodies } = workloads[m]!;
      avgRecord = bodies.reduce((s, b) => s + b.length, 0) / (bodies.length * BATCH);
      // Each tree goes first in every other round: whatever the first run of a round
      // pays for (this process's own collections, a warmer page cache) is shared out.
      for (const tree of round % 2 === 0 ? trees : [...trees].reverse()) {
        const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-bench-'));
        const db = mode.memory ? ':memory:' : join(dir, 'bench.db');
        const config = PREDICTION ? [`--config`, writePredictionConfig(dir)] : [];
        const server = await startServer(['--db', db, '--sync', mode.sync, '--join-window-ms', '30000', ...config], nodeArgs, tree.root);
        try {
          // Warm-up: JIT and SQLite pages; not measured.
          await drive(server, warm);
          const q = mode.queries ? queryLoop(server) : null;
          server.takeGcPauses();
          const run = await drive(server, bodies);
          if (GC) run.gc = server.takeGcPauses();
          const qs = q ? await q.stop() : null;
          const stats = JSON.parse((await httpCall(server.url, 'GET', '/v1/stats')).text) as { total: { pairs: number } };
          byMode[m]!.get(tree.label)!.push({ run, pairs: stats.total.pairs, qs });
        } finally {
          await server.stop();
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
  }
  const labelOf = (mode: (typeof modes)[number], tree: string): string =>
    (mode.memory ? ':memory: (no persistence), random ids' : `file, sync=${mode.sync}${mode.queries ? ' + queries' : ''}${mode.ordered ? ', time-ordered ids' : ', random ids'}`) +
    (tree ? ` [${tree}]` : '');
  // Speed means nothing if pairs were lost: every round must count what the workload makes.
  const expected = pairsOf(6400) + pairsOf(TOTAL);
  const miscounts = modes.flatMap((mode, m) =>
    trees.flatMap((tree) => byMode[m]!.get(tree.label)!.flatMap((r, i) => (r.pairs === expected ? [] : [`${labelOf(mode, tree.label)}, round ${i + 1}: ${r.pairs} pairs`]))),
  );
  for (const [m, mode] of modes.entries()) {
    const rounds = byMode[m]!;
    for (const tree of trees) {
      const rs = rounds.get(tree.label)!;
      rs.sort((a, b) => a.run.records / a.run.seconds - b.run.records / b.run.seconds);
      const { run, pairs, qs } = rs[Math.floor(rs.length / 2)]!;
      const label = labelOf(mode, tree.label);
      medians.set(label, run.records / run.seconds);
      rows.push([
        label,
        run.records,
        fmt(run.records / run.seconds, 0),
        rs.map((r) => fmt(r.run.records / r.run.seconds / 1000, 1)).join(' / '),
        fmt(run.records / run.cpu, 0),
        fmt(run.records / run.mainCpu, 0),
        fmt((run.cpu * 1e6) / run.records, 1),
        fmt(run.cpu / run.seconds, 2),
        fmt(percentile(run.latencies, 0.5), 2),
        fmt(percentile(run.latencies, 0.99), 2),
        fmt(run.latencies[run.latencies.length - 1]!, 2),
        pairs,
      ]);
      const us = (name: string): string => fmt(((run.threads.get(name) ?? 0) * 1e6) / run.records, 1);
      if (run.gc) {
        const of = (kind: string) => run.gc!.filter((g) => g.kind === kind).map((g) => g.ms);
        const mc = of('Mark-Compact');
        const sc = of('Scavenge');
        gcRows.push([label, mc.length, fmt(mc.reduce((a, b) => a + b, 0), 0), fmt(Math.max(0, ...mc), 1), sc.length, fmt(sc.reduce((a, b) => a + b, 0), 0), fmt(Math.max(0, ...sc), 1), run.latencies.filter((l) => l > 20).length]);
      }
      threadRows.push([label, us('main'), us('sm-prepare'), us('sm-checkpoint'), us('sm-reader'), us('node'), fmt((run.cpu * 1e6) / run.records, 1), fmt((run.senderCpu * 1e6) / run.records, 1)]);
      if (qs) {
        for (const [q, xs] of qs) queryRows.push([`GET ${q}${tree.label ? ` [${tree.label}]` : ''}`, xs.length, fmt(percentile(xs, 0.5), 2), fmt(percentile(xs, 0.99), 2)]);
      }
    }
  }
  console.log(
    `collector ingest: ${TOTAL} records in ${BATCH}-record batches, ~${Math.round(avgRecord)} B/record, ${CONCURRENCY} requests in flight, file DB (WAL)${PREDICTION ? ', a prediction rule on every route' : ''}; median of ${ROUNDS} rounds`,
  );
  console.log(
    table(
      ['mode', 'records', 'records/s (wall)', 'all rounds, k/s', 'per server CPU-s (all threads)', 'per main-thread CPU-s', 'server CPU µs/record', 'server cores used', 'batch p50 ms', 'batch p99 ms', 'batch max ms', 'pairs (incl. warm-up)'],
      rows,
    ),
  );
  if (miscounts.length > 0) {
    console.log(`PAIRS MISCOUNTED (the workload makes ${expected}):\n${miscounts.map((x) => `- ${x}`).join('\n')}`);
    process.exitCode = 1;
  } else console.log(`pairs: every round of every mode counted ${expected}, what the workload makes`);
  console.log('\nserver CPU µs per record by thread (same median rounds; "node": V8 GC/compiler helpers and libuv pool):');
  console.log(table(['mode', 'main', 'prepare', 'checkpoint', 'reader', 'node', 'all threads', 'sender (this process)'], threadRows));
  if (gcRows.length > 0) {
    console.log("\nthe main thread's GC pauses during the measured run (--trace-gc), and batches slower than 20 ms:");
    console.log(table(['mode', 'mark-compacts', 'total ms', 'longest ms', 'scavenges', 'total ms', 'longest ms', 'batches > 20 ms'], gcRows));
  }
  if (queryRows.length > 0) {
    console.log(`\nqueries during the "+ queries" run (${QUERY_RATE}/s in all, in turn, on a fixed schedule):`);
    console.log(table(['query', 'count', 'p50 ms', 'p99 ms'], queryRows));
    // What the queries cost ingestion: the same tree's rate without them, same run.
    for (const [label, rate] of medians) {
      if (!label.includes(' + queries')) continue;
      const alone = medians.get(label.replace(' + queries', ''));
      if (alone) console.log(`- ${label}: ${fmt(rate, 0)} records/s against ${fmt(alone, 0)} without queries: ingestion ${fmt(100 * (1 - rate / alone), 1)} % slower`);
    }
  }
  if (BEFORE) {
    console.log(`\nafter / before (${BEFORE}), median rounds of this run:`);
    for (const [label, rate] of medians) {
      if (!label.endsWith(' [after]')) continue;
      const before = medians.get(label.replace(' [after]', ' [before]'));
      if (before) console.log(`- ${label.replace(' [after]', '')}: ${fmt(rate / before, 2)}×`);
    }
  }
  if (floors.length > 0) {
    const sqlite = median(floors.map((f) => f.sqlite));
    const parse = median(floors.map((f) => f.parse));
    console.log(`\nfloor of this run (bench/collector/floor.ts once per round, median): SQLite ${fmt(sqlite, 0)} records/s (${floors.map((f) => fmt(f.sqlite / 1000, 1)).join(' / ')} k/s), JSON.parse alone ${fmt(parse, 0)}/s`);
    for (const [label, rate] of medians) console.log(`- ${label}: ${fmt(rate / sqlite, 2)}× the SQLite floor`);
  }
  // BENCH_SUMMARY=file: the median rows as JSON, for bench/all.ts to quote ratios.
  if (process.env.BENCH_SUMMARY) writeFileSync(process.env.BENCH_SUMMARY, JSON.stringify(rows.map((r) => ({ mode: r[0], recordsPerSecond: Number(r[2]), batchP99Ms: Number(r[9]) }))));
}

await main();
