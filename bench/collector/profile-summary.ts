// Where the collector's ingest time goes, from a V8 CPU profile of the collector
// process (node --cpu-prof). Each sample is charged to the innermost frame of the
// stack that belongs to a known stage, so a native call (JSON.parse, a SQLite
// statement, a generated Ajv validator) counts for the stage that made it.
//
//   SHADOWMESH_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" \
//     node --import tsx bench/collector/ingest.ts --records 64000 --rounds 1
//   node --import tsx bench/collector/profile-summary.ts [--top N] /tmp/prof/*.cpuprofile
import { readFileSync } from 'node:fs';
import { benchArgs, UsageError } from '../args.js';
import { table } from './common.js';

interface Node { id: number; callFrame: { functionName: string; url: string }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[] }

const STAGES: [string, (url: string, fn: string) => boolean][] = [
  ['parse the POST body (JSON)', (u) => u.includes('/collector/ingest/body.')],
  ['prepare thread hand-off (post bodies, receive batches, group commit queue)', (u) => u.includes('/collector/ingest/prepare-thread.') || u.includes('/collector/ingest/group-commit-sink.') || u.includes('/collector/ingest/prepare.')],
  ['prepare thread: pair the held sides', (u) => u.includes('/collector/ingest/pre-compare.') && !u.includes('/compare/')],
  ['validate records (Ajv)', (u) => u.includes('/collector/ingest/record-schema.') || u.includes('/collector/ingest/ajv.') || u.includes('/node_modules/ajv/')],
  ['serialise records for storage', (u) => u.includes('/collector/ingest/storable.')],
  ['compare pairs (parse bodies, diff)', (u) => u.includes('/collector/compare/')],
  ['stats (sketches, counters)', (u) => u.includes('/collector/stats/') || u.includes('@datadog/sketches')],
  ['SQLite (statements, commit, id index)', (u) => u.includes('/collector/store/') || u.includes('/node_modules/better-sqlite3/')],
  ['join (window, pending cache, joiner)', (u) => u.includes('/collector/join/')],
  ['HTTP (fastify, node:http, answer)', (u) => u.includes('/node_modules/fastify') || u.includes('/node_modules/find-my-way') || u.includes('/node_modules/light-my-request') || u.includes('/node_modules/fast-json-stringify') || u.startsWith('node:_http') || u.startsWith('node:net') || u.startsWith('node:internal/stream') || u.includes('/collector/api/')],
  ['garbage collection', (_u, f) => f === '(garbage collector)'],
  ['idle (waiting for requests)', (_u, f) => f === '(idle)'],
];

function summarise(file: string): void {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageOf = new Map<number, string>();
  const resolve = (id: number): string => {
    const known = stageOf.get(id);
    if (known) return known;
    let cur: number | undefined = id;
    let found = 'other (startup, runtime, untagged)';
    while (cur !== undefined) {
      const f = byId.get(cur)!.callFrame;
      const hit = STAGES.find(([, m]) => m(f.url, f.functionName));
      if (hit) {
        found = hit[0];
        break;
      }
      cur = parent.get(cur);
    }
    stageOf.set(id, found);
    return found;
  };
  const ms = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const stage = resolve(p.samples[i]!);
    ms.set(stage, (ms.get(stage) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  }
  const idle = ms.get('idle (waiting for requests)') ?? 0;
  const busy = [...ms.values()].reduce((a, b) => a + b, 0) - idle;
  const rows = [...ms.entries()]
    .filter(([k]) => !k.startsWith('idle'))
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => [k, v.toFixed(0), ((100 * v) / busy).toFixed(1) + '%']);
  if (TOP > 0) {
    // Self time by function: where inside a stage the samples land.
    const self = new Map<string, number>();
    for (let i = 0; i < p.samples.length; i++) {
      const f = byId.get(p.samples[i]!)!.callFrame;
      const name = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(src|node_modules)\//, '$1/')}`;
      self.set(name, (self.get(name) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
    }
    const top = [...self.entries()].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, TOP);
    console.log(table(['function (self time)', 'ms'], top.map(([k, v]) => [k, v.toFixed(0)])));
  }
  console.log(`${file}: thread busy ${busy.toFixed(0)} ms (idle ${idle.toFixed(0)} ms not counted)`);
  console.log(table(['stage', 'ms', 'share of busy time'], rows));
}

const { top: TOP, positionals: files } = benchArgs({
  usage: '[--top N] PROFILE.cpuprofile...',
  // --top N: also the N functions with the most self time.
  flags: { top: { type: 'integer', default: 0 } },
  positionals: (p) => {
    if (p.length === 0) throw new UsageError('no profile given');
    return p;
  },
});
for (const f of files) summarise(f);
