// `npm run bench`: every benchmark of the project in one command (under 5 minutes on
// a quiet 2-core machine), each in its own process one after the other. Prints each
// table as it comes and writes them all, with the machine, command and date, into
// BENCHMARKS.md between the "npm run bench" markers (the rest of the file is kept).
//
// BENCH_QUICK=1 shortens every part (a smoke run; its figures are not for quoting).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ROOT } from './collector/common.js';

const QUICK = process.env.BENCH_QUICK === '1';
const tmp = mkdtempSync(join(tmpdir(), 'shadowmesh-bench-all-'));
const summary = (name: string): string => join(tmp, `${name}.json`);

interface Part {
  title: string;
  what: string;
  command: string[];
  env?: Record<string, string>;
}

const tsx = ['node', '--import', 'tsx'];
const parts: Part[] = [
  {
    title: 'Filter',
    what:
      'µs and host calls per request through the runtime API (as the sidecar drives it), against the empty filter (every callback returns Continue: the host and wasm-boundary floor) and the same filter on the published SDK, in the same run; then the module\'s linear memory over 1,000,000 requests per scenario.',
    command: [...tsx, 'bench/filter/run.ts', QUICK ? '3000' : '20000'],
    env: { BENCH_DRIVER: 'runtime', BENCH_ROUNDS: QUICK ? '1' : '3', BENCH_MEMORY_REQUESTS: QUICK ? '20000' : '1000000' },
  },
  {
    title: 'Sidecar',
    what: 'Requests/s and added latency with autocannon against loopback model servers (separate processes).',
    command: [...tsx, 'bench/sidecar/run.ts', '--seconds', QUICK ? '2' : '5'],
  },
  {
    title: 'Isolation',
    what: 'Production latency through the mirroring sidecar while the shadow or the collector fails; the same paced load each time, interleaved rounds with healthy measured first and last in each.',
    command: [...tsx, 'bench/sidecar/isolation.ts', ...(QUICK ? ['--seconds', '1', '--rounds', '1', '--warmup', '1'] : ['--seconds', '3', '--rounds', '2', '--warmup', '2.5'])],
  },
  {
    title: 'Collector floor',
    what: 'The same batches parsed alone, and parsed and inserted by better-sqlite3 in the same batch transactions (no validation, join, comparison or HTTP).',
    command: [...tsx, 'bench/collector/floor.ts', '--records', QUICK ? '12800' : '64000', '--rounds', QUICK ? '1' : '3'],
    env: { BENCH_SUMMARY: summary('floor') },
  },
  {
    title: 'Collector ingest',
    what: 'Records/s and batch latency of the real collector process, with persistence (SQLite file, WAL) and without (`:memory:`).',
    command: [...tsx, 'bench/collector/ingest.ts', '--records', QUICK ? '12800' : '64000', '--rounds', QUICK ? '1' : '3'],
    env: { SHADOWMESH_BENCH_MODES: '0,4', BENCH_SUMMARY: summary('ingest') },
  },
  {
    title: 'Collector on PostgreSQL',
    what: 'Records/s and batch latency with SQLite, PostgreSQL with 1 collector and with 2 behind a round-robin balancer, same workload, same run (bench/collector-pg.ts).',
    command: [...tsx, 'bench/collector-pg.ts', '--records', QUICK ? '12800' : '64000', '--rounds', QUICK ? '1' : '3'],
  },
  {
    title: 'Collector memory',
    what: 'RSS with 1,000,000 lone sides (no partner ever).',
    command: [...tsx, 'bench/collector/memory.ts', '--sides', QUICK ? '50000' : '1000000', '--runs', '1'],
  },
];

function run(part: Part): Promise<{ out: string; seconds: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const [cmd, ...args] = part.command;
    const child = spawn(cmd === 'node' ? process.execPath : cmd!, args, { cwd: ROOT, env: { ...process.env, ...part.env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      process.stdout.write(d);
    });
    child.once('exit', (code) => (code === 0 ? resolve({ out, seconds: (performance.now() - t0) / 1000 }) : reject(new Error(`${part.title} exited with ${code}`))));
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
for (const part of parts) {
  const envText = Object.entries(part.env ?? {}).filter(([k]) => k !== 'BENCH_SUMMARY').map(([k, v]) => `${k}=${v} `).join('');
  console.log(`\n## ${part.title}\n`);
  const { out, seconds } = await run(part);
  sections.push(`### ${part.title}\n\n${part.what}\n\n\`${envText}${part.command.join(' ')}\` (${seconds.toFixed(0)} s)\n\n${out.trim()}\n`);
}

// The collector against its floor, measured in this same run.
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
rmSync(tmp, { recursive: true, force: true });

const total = (performance.now() - t0) / 1000;
const machine = `${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${process.platform}`;
const header =
  `## All benchmarks (\`npm run bench\`)\n\n` +
  `Command: \`npm run bench\`${QUICK ? ' (BENCH_QUICK=1: shortened smoke run, not for quoting)' : ''} — date ${started.toISOString()}, commit ${commit}, ` +
  `${total.toFixed(0)} s in all.\n\nMachine: ${machine}; load average ${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end ` +
  `(the machine is shared: figures from a loaded run are only comparable within the run).\n`;
const block = `<!-- npm run bench: start -->\n${header}\n${sections.join('\n')}<!-- npm run bench: end -->`;
const file = join(ROOT, 'BENCHMARKS.md');
const current = readFileSync(file, 'utf8');
const re = /<!-- npm run bench: start -->[\s\S]*<!-- npm run bench: end -->/;
writeFileSync(file, re.test(current) ? current.replace(re, block) : current.replace(/\n*$/, '\n\n') + block + '\n');
console.log(`\nall benchmarks: ${total.toFixed(0)} s; written to BENCHMARKS.md`);
