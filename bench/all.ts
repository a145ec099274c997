// `npm run bench`: every benchmark of the project in one command (under 5 minutes on
// a quiet 2-core machine), each in its own process one after the other. Prints each
// table as it comes and writes them all, with the machine, command and date, into
// BENCHMARKS.md between the "npm run bench" markers (the rest of the file is kept).
//
// Each section has a time budget, a ceiling on a quiet 2-core machine kept by the
// section's owner (the three SQLite collector sections share one); the run ends with
// each section's seconds, each budget's use and the total against the 5 minutes
// (printed, never failed: a loaded machine overruns). A section that fails (non-zero
// exit) does not stop the others, but the run then exits 1 naming it and leaves
// BENCHMARKS.md as it was.
//
//   node --import tsx bench/all.ts [--only SECTION[,SECTION...]]   (or npm run bench -- --only …)
// --only runs those sections (ids: filter, sidecar, isolation, floor, ingest, pg, memory)
// and prints them without writing BENCHMARKS.md (a partial run would replace the whole block).
// BENCH_QUICK=1 shortens every part (a smoke run; its figures are not for quoting).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { ROOT } from './collector/common.js';

const QUICK = process.env.BENCH_QUICK === '1';
const tmp = mkdtempSync(join(tmpdir(), 'shadowmesh-bench-all-'));
const summary = (name: string): string => join(tmp, `${name}.json`);

interface Part {
  /** The name --only takes. */
  id: string;
  title: string;
  /** The budget this section counts against (see BUDGETS). */
  budget: keyof typeof BUDGETS;
  what: string;
  command: string[];
  env?: Record<string, string>;
}

/** Seconds each budget allows on a quiet 2-core machine; the whole run must stay under TOTAL_BUDGET. */
const BUDGETS = { filter: 60, sidecar: 35, isolation: 90, collector: 80, pg: 60 } as const;
const TOTAL_BUDGET = 300;

const tsx = ['node', '--import', 'tsx'];
const parts: Part[] = [
  {
    id: 'filter',
    title: 'Filter',
    budget: 'filter',
    what:
      'µs and host calls per request through the runtime API (as the sidecar drives it), against the empty filter (every callback returns Continue: the host and wasm-boundary floor) and the same filter on the published SDK (a tenth of the requests: it is 8-20x slower; medians per request compare), in the same run; then the module\'s linear memory over 1,000,000 requests per scenario (one process per scenario, side by side after the timed rounds).',
    command: [...tsx, 'bench/filter/run.ts', QUICK ? '3000' : '20000'],
    env: { BENCH_DRIVER: 'runtime', BENCH_ROUNDS: QUICK ? '1' : '3', BENCH_MEMORY_REQUESTS: QUICK ? '20000' : '1000000' },
  },
  {
    id: 'sidecar',
    title: 'Sidecar',
    budget: 'sidecar',
    what: 'Requests/s and added latency with autocannon against loopback model servers (separate processes).',
    command: [...tsx, 'bench/sidecar/run.ts', '--seconds', QUICK ? '1' : '3'],
  },
  {
    id: 'isolation',
    title: 'Isolation',
    budget: 'isolation',
    what: 'Production latency through the mirroring sidecar while the shadow or the collector fails; the same paced load each time, interleaved rounds with healthy measured first and last in each.',
    command: [...tsx, 'bench/sidecar/isolation.ts', ...(QUICK ? ['--seconds', '1', '--rounds', '1', '--warmup', '1'] : ['--seconds', '3', '--rounds', '2', '--warmup', '2.5'])],
  },
  {
    id: 'floor',
    title: 'Collector floor',
    budget: 'collector',
    what: 'The same batches parsed alone, and parsed and inserted by better-sqlite3 in the same batch transactions (no validation, join, comparison or HTTP).',
    command: [...tsx, 'bench/collector/floor.ts', '--records', QUICK ? '12800' : '32000', '--rounds', QUICK ? '1' : '3'],
    env: { BENCH_SUMMARY: summary('floor') },
  },
  {
    id: 'ingest',
    title: 'Collector ingest',
    budget: 'collector',
    what: 'Records/s, CPU per record by thread and batch latency of the real collector process on a SQLite file (WAL), alone and with GET /v1/stats, /v1/pairs?limit=50 and /v1/verdict at 20/s alongside.',
    command: [...tsx, 'bench/collector/ingest.ts', '--records', QUICK ? '12800' : '32000', '--rounds', QUICK ? '1' : '3'],
    env: { SHADOWMESH_BENCH_MODES: '0,1', BENCH_SUMMARY: summary('ingest') },
  },
  {
    id: 'pg',
    title: 'Collector on PostgreSQL',
    budget: 'pg',
    what: 'Records/s and batch latency with SQLite, PostgreSQL with 1 collector and with 2 behind a round-robin balancer, same workload, same run (bench/collector-pg.ts).',
    command: [...tsx, 'bench/collector-pg.ts', '--records', '12800', '--rounds', QUICK ? '1' : '2'],
  },
  {
    id: 'memory',
    title: 'Collector memory',
    budget: 'collector',
    what: 'RSS with 1,000,000 lone sides (no partner ever).',
    command: [...tsx, 'bench/collector/memory.ts', '--sides', QUICK ? '50000' : '1000000', '--runs', '1'],
  },
];

const { values: opts } = parseArgs({ options: { only: { type: 'string' } }, strict: true, allowPositionals: false });
const ids = parts.map((p) => p.id);
const onlyIds = opts.only?.split(',').map((x) => x.trim()).filter(Boolean);
const unknown = onlyIds?.filter((x) => !ids.includes(x)) ?? [];
if (onlyIds && (onlyIds.length === 0 || unknown.length > 0)) {
  console.error(`bench/all.ts: --only takes section ids separated by commas, from: ${ids.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`);
  rmSync(tmp, { recursive: true, force: true });
  process.exit(2);
}
const chosen = onlyIds ? parts.filter((p) => onlyIds.includes(p.id)) : parts;

/** Runs one section's process; resolves with its output and seconds whether it succeeds or not. */
function run(part: Part): Promise<{ out: string; seconds: number; error?: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const seconds = (): number => (performance.now() - t0) / 1000;
    const [cmd, ...args] = part.command;
    const child = spawn(cmd === 'node' ? process.execPath : cmd!, args, { cwd: ROOT, env: { ...process.env, ...part.env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      process.stdout.write(d);
    });
    child.once('error', (err) => resolve({ out, seconds: seconds(), error: `could not start: ${err.message}` }));
    child.once('exit', (code, signal) =>
      resolve({ out, seconds: seconds(), ...(code === 0 ? {} : { error: signal ? `killed by ${signal}` : `exited with ${code}` }) }),
    );
  });
}

const commit = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
  } catch {
    return 'unknown';
  }
})();
const started = new Date();
const loadBefore = loadavg()[0]!;
const t0 = performance.now();
const sections: string[] = [];
const timings: { part: Part; seconds: number; error?: string }[] = [];
for (const part of chosen) {
  const envText = Object.entries(part.env ?? {}).filter(([k]) => k !== 'BENCH_SUMMARY').map(([k, v]) => `${k}=${v} `).join('');
  console.log(`\n## ${part.title}\n`);
  const { out, seconds, error } = await run(part);
  timings.push({ part, seconds, ...(error ? { error } : {}) });
  if (error) console.error(`\n*** ${part.title} FAILED (${error}) after ${seconds.toFixed(0)} s ***`);
  sections.push(`### ${part.title}\n\n${part.what}\n\n\`${envText}${part.command.join(' ')}\` (${seconds.toFixed(0)} s)\n\n${out.trim()}\n`);
}

// The collector against its floor, measured in this same run.
if (chosen.some((p) => p.id === 'floor') && chosen.some((p) => p.id === 'ingest')) {
  try {
    const floor = JSON.parse(readFileSync(summary('floor'), 'utf8')) as { floor: string; recordsPerSecond: number }[];
    const ingest = JSON.parse(readFileSync(summary('ingest'), 'utf8')) as { mode: string; recordsPerSecond: number; batchP99Ms: number }[];
    const sqlite = floor.find((f) => f.floor.includes('insert'))!;
    const parse = floor.find((f) => f.floor.startsWith('JSON.parse of'))!;
    const lines = ingest.map(
      (i) =>
        `- ${i.mode}: ${i.recordsPerSecond.toFixed(0)} records/s = ${(i.recordsPerSecond / sqlite.recordsPerSecond).toFixed(2)}× the SQLite floor (${sqlite.recordsPerSecond.toFixed(0)}/s), ${(i.recordsPerSecond / parse.recordsPerSecond).toFixed(2)}× parsing alone (${parse.recordsPerSecond.toFixed(0)}/s); batch p99 ${i.batchP99Ms.toFixed(1)} ms`,
    );
    const text = `Collector against the floor of this run:\n\n${lines.join('\n')}\n`;
    console.log(`\n${text}`);
    sections.push(`### Collector against the floor\n\n${text}`);
  } catch (err) {
    console.error(`(no collector/floor ratio: ${(err as Error).message})`);
  }
}
rmSync(tmp, { recursive: true, force: true });

const total = (performance.now() - t0) / 1000;

// Each section's seconds, then each budget's use; a budget overrun is printed, not failed
// (a loaded machine overruns; the budgets are for the quiet one).
const timingRows = timings.map((t) => `| ${t.part.title} | ${t.seconds.toFixed(0)} | ${t.part.budget} | ${t.error ? `FAILED: ${t.error}` : 'ok'} |`);
const budgetRows = (Object.keys(BUDGETS) as (keyof typeof BUDGETS)[])
  .filter((b) => timings.some((t) => t.part.budget === b))
  .map((b) => {
    const used = timings.filter((t) => t.part.budget === b).reduce((a, t) => a + t.seconds, 0);
    return `| ${b} | ${used.toFixed(0)} | ${BUDGETS[b]} | ${used > BUDGETS[b] ? 'OVER' : 'within'} |`;
  });
const timingText =
  `| section | seconds | budget | result |\n|---|---:|---|---|\n${timingRows.join('\n')}\n\n` +
  `| budget | seconds used | seconds allowed | |\n|---|---:|---:|---|\n${budgetRows.join('\n')}\n| all | ${total.toFixed(0)} | ${TOTAL_BUDGET} | ${total > TOTAL_BUDGET ? 'OVER' : 'within'} |\n`;
console.log(`\nsection timings (${onlyIds ? `--only ${onlyIds.join(',')}` : 'every section'}):\n\n${timingText}`);

const failures = timings.filter((t) => t.error);
if (failures.length > 0) {
  console.error(`bench/all.ts: ${failures.length} section(s) failed: ${failures.map((f) => `${f.part.title} (${f.error})`).join('; ')}; BENCHMARKS.md left as it was`);
  process.exit(1);
}
if (onlyIds) {
  console.log(`\n${total.toFixed(0)} s; --only: BENCHMARKS.md left as it was (only a run of every section writes it)`);
  process.exit(0);
}

const machine = `${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${process.platform}`;
const budgetText = (Object.entries(BUDGETS) as [string, number][]).map(([b, sec]) => `${b} ${sec} s`).join(', ');
const header =
  `## All benchmarks (\`npm run bench\`)\n\n` +
  `Command: \`npm run bench\`${QUICK ? ' (BENCH_QUICK=1: shortened smoke run, not for quoting)' : ''} — date ${started.toISOString()}, commit ${commit}, ` +
  `${total.toFixed(0)} s in all.\n\nMachine: ${machine}; load average ${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end ` +
  `(the machine is shared: figures from a loaded run are only comparable within the run).\n\n` +
  `Time budgets on a quiet 2-core machine: the whole under ${TOTAL_BUDGET} s; per section (ceilings, kept by each section's owner; ` +
  `"collector" is the SQLite floor, ingest and memory together): ${budgetText}. ` +
  `\`node --import tsx bench/all.ts --only filter,sidecar\` runs some sections without writing this file. This run:\n\n${timingText}`;
const block = `<!-- npm run bench: start -->\n${header}\n${sections.join('\n')}<!-- npm run bench: end -->`;
const file = join(ROOT, 'BENCHMARKS.md');
const current = readFileSync(file, 'utf8');
const re = /<!-- npm run bench: start -->[\s\S]*<!-- npm run bench: end -->/;
writeFileSync(file, re.test(current) ? current.replace(re, block) : current.replace(/\n*$/, '\n\n') + block + '\n');
console.log(`\nall benchmarks: ${total.toFixed(0)} s; written to BENCHMARKS.md`);
