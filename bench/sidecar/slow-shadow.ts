// What a slow shadow costs the local sidecar, in counts and bytes that machine load
// does not move: the sidecar (in this process, with the real filter) mirrors N
// production requests to a shadow that holds every copy until told to answer, twice.
// Per wave: shadow connections the sidecar opened, copies it held outstanding, and
// the JS heap each outstanding copy keeps alive (after a full GC). The second wave
// comes after the first was answered and the pool went idle: a pool that keeps its
// idle connections opens none.
//
// --compare-root DIR measures another checkout's sidecar (its src/, this checkout's
// build/shadowmesh.wasm) the same way, one after the other.
//
//   node --import tsx bench/sidecar/slow-shadow.ts [--copies N] [--compare-root DIR]
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { benchArgs, count } from '../args.js';
import { ROOT, table } from '../collector/common.js';
import { REQUEST_BODY, bootstrap, startServers } from './rig.js';

const { copies: COPIES, 'compare-root': COMPARE_ROOT } = benchArgs({
  usage: '[--copies N] [--compare-root DIR]',
  flags: { copies: count(400), 'compare-root': { type: 'string' } },
});
const CONCURRENCY = 8;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface RunningLike {
  readonly port: number;
  stats(): Record<string, number>;
  close(): Promise<void>;
}
type Start = (o: Record<string, unknown>) => Promise<RunningLike>;

/** A shadow in its own process that holds every request until released; counts what it saw. */
async function holdingShadow(): Promise<{ port: number; counts(): Promise<{ held: number; requests: number; connections: number }>; release(): Promise<void>; stop(): void }> {
  const code = `
    const held = []; let requests = 0, connections = 0;
    const s = require('http').createServer((q, r) => { requests++; q.resume(); q.on('end', () => held.push(r)); });
    s.keepAliveTimeout = 600000;
    s.on('connection', () => connections++);
    s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: s.address().port })));
    require('readline').createInterface({ input: process.stdin }).on('line', (l) => {
      if (l === 'release') for (const r of held.splice(0)) r.end('{"label":"review","score":0.5}');
      console.log(JSON.stringify({ held: held.length, requests, connections }));
    });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: Array<(l: string) => void> = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  const next = (): Promise<string> => (lines.length ? Promise.resolve(lines.shift()!) : new Promise((r) => waiters.push(r)));
  const { port } = JSON.parse(await next()) as { port: number };
  const ask = async (cmd: string) => {
    child.stdin!.write(`${cmd}\n`);
    return JSON.parse(await next()) as { held: number; requests: number; connections: number };
  };
  return { port, counts: () => ask('count'), release: async () => void (await ask('release')), stop: () => child.kill() };
}

async function until(cond: () => Promise<boolean> | boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`slow-shadow bench: ${what} did not happen in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setTimeout(r, 30));
    gc();
  }
  return process.memoryUsage().heapUsed;
}

async function measure(label: string, root: string, servers: { production: number; collector: number }): Promise<string[]> {
  const { startSidecar } = (await import(join(root, 'src/sidecar/index.ts'))) as { startSidecar: Start };
  const shadow = await holdingShadow();
  const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-bench-slow-shadow-'));
  writeFileSync(join(dir, 'envoy.yaml'), bootstrap('mirroring'));
  const sc = await startSidecar({
    envoyConfigPath: join(dir, 'envoy.yaml'),
    listenAddress: '127.0.0.1',
    resolve: { production: `127.0.0.1:${servers.production}`, shadow: `127.0.0.1:${shadow.port}`, collector: `127.0.0.1:${servers.collector}` },
    log: () => {},
  });
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const send = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: sc.port, path: '/predict', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(REQUEST_BODY);
    });
  const pending = (): number => sc.stats()['wasm.shadowmesh.pending_http_calls'] ?? Number.NaN;
  let failed = 0;
  const wave = async (): Promise<void> => {
    for (let i = 0; i < COPIES; i += CONCURRENCY) {
      const statuses = await Promise.all(Array.from({ length: Math.min(CONCURRENCY, COPIES - i) }, send));
      failed += statuses.filter((s) => s !== 200).length;
    }
    await until(async () => (await shadow.counts()).held >= COPIES, `the shadow holding ${COPIES} copies`);
  };
  const drain = async (): Promise<void> => {
    await shadow.release();
    await until(() => pending() === 0, 'every copy answered');
  };
  try {
    await wave();
    const a = await shadow.counts();
    await drain();
    const idle = await heapAfterGc();
    await wave();
    const held = await heapAfterGc();
    const b = await shadow.counts();
    const outstanding = pending();
    await drain();
    return [
      label,
      String(COPIES),
      String(failed),
      String(a.connections),
      String(b.connections - a.connections),
      String(outstanding),
      ((held - idle) / COPIES / 1024).toFixed(1),
    ];
  } finally {
    agent.destroy();
    await sc.close();
    shadow.stop();
  }
}

const servers = await startServers();
const rows: string[][] = [];
try {
  if (COMPARE_ROOT) rows.push(await measure(`before (${COMPARE_ROOT})`, COMPARE_ROOT, servers.info));
  rows.push(await measure(COMPARE_ROOT ? 'after (this checkout)' : 'this checkout', ROOT, servers.info));
} finally {
  await servers.stop();
}
console.log(`slow shadow: ${COPIES} production requests (${CONCURRENCY} at a time) whose copies the shadow holds, twice; the second wave after the first was answered`);
console.log(
  table(
    ['sidecar', 'requests per wave', 'production errors + non-2xx', 'shadow connections, 1st wave', 'new shadow connections, 2nd wave', 'copies outstanding (filter)', 'JS heap per outstanding copy, KiB'],
    rows,
  ),
);
