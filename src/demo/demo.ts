// The whole local stack: production (v1), shadow (v2) and baseline (v1 again)
// model servers as child processes, the collector with examples/rules.yaml, the
// local sidecar running build/shadowmesh.wasm from examples/envoy-local.yaml;
// then held-out traffic, ground-truth feedback and the report.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../collector/config.js';
import { createCollector } from '../collector/server.js';
import { startSidecar } from '../sidecar/index.js';
import { labelled, postFeedback, type FeedbackResult } from './feedback.js';
import { packageRoot } from './package-root.js';
import { type Child, startCli } from './processes.js';
import { progress as makeProgress } from './progress.js';
import { formatReport, type PairAnswer, type StatsAnswer, type VerdictAnswer } from './report.js';
import { drawRows, loadHeldOut, sendTraffic, type TrafficResult } from './traffic.js';

export const DEMO_ROUTE = 'predict';

export interface DemoOptions {
  requests: number;
  /** Keep the collector's database in this file; default a temporary file deleted by close(). */
  db?: string;
  /** Every n-th request gets its true label posted as feedback (default 2: half of them). */
  labelEvery?: number;
  /** Progress of the traffic on stderr (a bar on a TTY); default on. */
  progress?: boolean;
  log?: (line: string) => void;
}

export interface DemoRun {
  traffic: TrafficResult;
  feedback: FeedbackResult;
  stats: StatsAnswer;
  verdict: VerdictAnswer | null;
  mismatch: PairAnswer | null;
  report: string;
  db: { path: string; kept: boolean };
  urls: { sidecar: string; admin: string | null; collector: string; production: string; shadow: string; baseline: string | null; dashboard: string | null };
  /** Whether the filter copies each request to a baseline (needs a filter with baseline_cluster). */
  baseline: boolean;
  close(): Promise<void>;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function getIfPresent<T>(url: string): Promise<T | null> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Polls until every side of every request has arrived and joined, or the deadline passes. */
async function settled(collectorUrl: string, expect: { sides: number; baseline: boolean }, deadlineMs: number): Promise<StatsAnswer> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const stats = await getJson<StatsAnswer>(`${collectorUrl}/v1/stats`);
    const t = stats.total;
    const done = t.production >= expect.sides && t.shadow >= expect.sides && t.pending === 0 && (!expect.baseline || (t.baseline ?? 0) >= expect.sides);
    if (done || Date.now() > until) return stats;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function runDemo(opts: DemoOptions): Promise<DemoRun> {
  const root = packageRoot();
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const kept = opts.db !== undefined;
  const tmp = kept ? null : mkdtempSync(join(tmpdir(), 'shadowmesh-demo-'));
  const dbPath = kept ? resolve(opts.db!) : join(tmp!, 'collector.db');
  const closers: Array<() => Promise<void>> = [];
  if (tmp) closers.push(async () => rmSync(tmp, { recursive: true, force: true }));
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  };
  const wasm = join(root, 'build', 'shadowmesh.wasm');
  if (!existsSync(wasm)) throw new Error(`${wasm} is missing: run npm run build first`);
  const envoyConfig = join(root, 'examples', 'envoy-local.yaml');
  const baselineCluster = hasBaselineCluster(envoyConfig);

  try {
    const model = (version: string, name: string): Promise<Child> => startCli(['model', '--version', version, '--port', '0'], `model ${name}`);
    // All three start together; whichever started is stopped again even when another failed.
    const started = await Promise.allSettled([model('v1', 'production'), model('v2', 'shadow'), baselineCluster ? model('v1', 'baseline') : Promise.resolve(null)]);
    for (const r of started) if (r.status === 'fulfilled' && r.value) closers.push(r.value.stop);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const [production, shadow, baseline] = started.map((r) => (r as PromiseFulfilledResult<Child | null>).value) as [Child, Child, Child | null];

    const collector = createCollector({ port: 0, db: dbPath, config: loadConfig(join(root, 'examples', 'rules.yaml')), joinWindowMs: 10_000 });
    const collectorUrl = await collector.listen();
    closers.push(() => collector.close());

    const host = (url: string): string => new URL(url).host;
    const sidecar = await startSidecar({
      envoyConfigPath: envoyConfig,
      wasmPath: wasm,
      listenAddress: '127.0.0.1',
      listenerPorts: { '0': 0 },
      adminPort: 0,
      resolve: {
        production: host(production.url),
        shadow: host(shadow.url),
        collector: host(collectorUrl),
        ...(baseline ? { baseline: host(baseline.url) } : {}),
      },
      log,
    });
    closers.push(() => sidecar.close());
    const admin = sidecar.adminPort === undefined ? null : `http://127.0.0.1:${sidecar.adminPort}`;
    log(`demo: sidecar ${sidecar.url} → production ${production.url}, shadow ${shadow.url}${baseline ? `, baseline ${baseline.url}` : ''}; collector ${collectorUrl}`);

    const rows = drawRows(loadHeldOut(), opts.requests);
    const bar = opts.progress === false ? null : makeProgress(rows.length, 'requests');
    const traffic = await sendTraffic(sidecar.url, rows, { onDone: () => bar?.tick() });
    bar?.stop();

    const feedback = await postFeedback(collectorUrl, labelled(traffic.requests, opts.labelEvery ?? 2));
    const stats = await settled(collectorUrl, { sides: traffic.ok, baseline: baselineCluster }, 20_000);
    const verdict = await getIfPresent<VerdictAnswer>(`${collectorUrl}/v1/verdict?route=${DEMO_ROUTE}`);
    const page = await getJson<{ items: PairAnswer[] }>(`${collectorUrl}/v1/pairs?route=${DEMO_ROUTE}&mismatch=true&limit=500`);
    const mismatch = pickMismatch(page.items, new Set((stats.routes[DEMO_ROUTE]?.noise ?? []).map((n) => n.path)));
    const dashboard = (await fetch(`${collectorUrl}/`, { signal: AbortSignal.timeout(10_000) })).ok ? `${collectorUrl}/` : null;
    const db = { path: dbPath, kept };
    return {
      traffic,
      feedback,
      stats,
      verdict,
      mismatch,
      report: formatReport({ route: DEMO_ROUTE, stats, verdict, mismatch, collectorUrl, db, dashboardUrl: dashboard }),
      db,
      urls: { sidecar: sidecar.url, admin, collector: collectorUrl, production: production.url, shadow: shadow.url, baseline: baseline?.url ?? null, dashboard },
      baseline: baselineCluster,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** A label flip tells more than a shadow error: show one if there is one, with its noise diffs left out. */
function pickMismatch(items: PairAnswer[], noise: Set<string>): PairAnswer | null {
  const real = items.map((p) => ({ ...p, diffs: p.diffs.filter((d) => !(d.kind === 'changed' && noise.has(d.path))) }));
  return real.find((p) => p.diffs.some((d) => d.path === '/label' && d.kind === 'changed')) ?? real.find((p) => p.diffs.length > 0) ?? real[0] ?? null;
}

/** Whether the bootstrap has a `baseline` cluster for the filter's baseline copies. */
function hasBaselineCluster(envoyConfig: string): boolean {
  const doc = parseYaml(readFileSync(envoyConfig, 'utf8')) as { static_resources?: { clusters?: Array<{ name?: string }> } };
  return (doc.static_resources?.clusters ?? []).some((c) => c.name === 'baseline');
}
