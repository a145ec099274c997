// The whole local stack in one process tree: two model versions, the collector,
// and the sidecar running the real filter from envoy/envoy.yaml; then traffic
// and a printed comparison.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../collector/config.js';
import { createCollector } from '../collector/server.js';
import { startSidecar } from '../sidecar/index.js';
import { startModelServer } from './model-server.js';
import { formatReport, type PairAnswer, type StatsAnswer } from './report.js';
import { sendTraffic, type TrafficResult } from './traffic.js';

/** The checkout (or installed package) this file belongs to, from src/ or build/dist/. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** Comparison rules for the demo's credit-risk model (contract §4). */
export const DEMO_RULES = {
  routes: {
    '*': { ignore: ['/meta'] },
    predict: {
      ignore: ['/meta', '/model/version'],
      numeric_tolerance: { abs: 0.005, rel: 0 },
      compare_headers: ['content-type'],
    },
  },
};

export interface DemoOptions {
  requests: number;
  /** Where the .wasm and envoy/envoy.yaml are; defaults to this checkout. */
  projectRoot?: string;
  log?: (line: string) => void;
}

export interface DemoRun {
  traffic: TrafficResult;
  stats: StatsAnswer;
  mismatches: PairAnswer[];
  report: string;
  urls: { sidecar: string; collector: string; production: string; shadow: string };
  close(): Promise<void>;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Waits until every sent request is accounted for as a pair, or the deadline passes. */
async function waitForPairs(collectorUrl: string, expected: number, deadlineMs: number): Promise<StatsAnswer> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const stats = await getJson<StatsAnswer>(`${collectorUrl}/v1/stats`);
    if (stats.total.pairs >= expected || Date.now() > until) return stats;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function runDemo(opts: DemoOptions): Promise<DemoRun> {
  const base = opts.projectRoot ?? packageRoot();
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-demo-'));
  const closers: Array<() => Promise<void>> = [async () => rmSync(dir, { recursive: true, force: true })];
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const production = await startModelServer({ version: 'v1' });
    closers.push(() => production.close());
    const shadow = await startModelServer({ version: 'v2', delayMs: 2, failEvery: 53 });
    closers.push(() => shadow.close());

    const collector = createCollector({
      port: 0,
      db: join(dir, 'collector.db'),
      config: parseConfig(JSON.stringify(DEMO_RULES), 'demo rules'),
      joinWindowMs: 10_000,
    });
    const collectorUrl = await collector.listen();
    closers.push(() => collector.close());

    const sidecar = await startSidecar({
      envoyConfigPath: join(base, 'envoy', 'envoy.yaml'),
      wasmPath: join(base, 'build', 'shadowmesh.wasm'),
      listenAddress: '127.0.0.1',
      listenerPorts: { '0': 0 },
      adminPort: 0,
      resolve: {
        production: `127.0.0.1:${production.port}`,
        shadow: `127.0.0.1:${shadow.port}`,
        collector: new URL(collectorUrl).host,
      },
      log,
    });
    closers.push(() => sidecar.close());
    log(`demo: sidecar ${sidecar.url} → production ${production.url}, shadow ${shadow.url}; collector ${collectorUrl}`);

    const traffic = await sendTraffic(sidecar.url, opts.requests);
    const stats = await waitForPairs(collectorUrl, traffic.ok, 15_000);
    const page = await getJson<{ items: PairAnswer[] }>(`${collectorUrl}/v1/pairs?mismatch=true&limit=5`);
    return {
      traffic,
      stats,
      mismatches: page.items,
      report: formatReport(stats, page.items),
      urls: { sidecar: sidecar.url, collector: collectorUrl, production: production.url, shadow: shadow.url },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
