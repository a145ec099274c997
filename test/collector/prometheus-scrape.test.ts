// A real Prometheus (Debian's prometheus package) scrapes a real collector every
// second; then every query of the Grafana dashboard and every alert expression is
// run against it: each evaluates, and each dashboard panel gets series.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { send } from './decision-helpers.js';
import { eventually, get, post, rec, ROOT, startCollector, tempDir } from './helpers.js';

interface Panel {
  title: string;
  targets?: { expr: string }[];
}

interface QueryAnswer {
  status: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const concrete = (expr: string): string => expr.replaceAll('$__rate_interval', '15s').replaceAll('$route', '.*');

test('a real Prometheus scrapes /metrics; every dashboard query and alert expression evaluates', async (t) => {
  const dir = tempDir(t);
  const c = await startCollector(['--db', join(dir, 'c.db'), '--join-window-ms', '500'], t);
  const { port: collectorPort } = new URL(c.url);

  const port = await freePort();
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, [
    'global: { scrape_interval: 1s, evaluation_interval: 1s }',
    'scrape_configs:',
    '  - job_name: shadowmesh',
    `    static_configs: [{ targets: ["127.0.0.1:${collectorPort}"] }]`,
    '',
  ].join('\n'));
  const prom = spawn('prometheus', [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let promLog = '';
  prom.stderr.on('data', (d: Buffer) => (promLog = (promLog + d.toString()).slice(-4000)));
  t.after(() => new Promise<void>((resolve) => {
    if (prom.exitCode !== null) return resolve();
    prom.once('exit', () => resolve());
    prom.kill('SIGTERM');
  }));
  const api = `http://127.0.0.1:${port}/api/v1`;
  const query = async (q: string): Promise<QueryAnswer> => {
    try {
      const res = await fetch(`${api}/query?query=${encodeURIComponent(q)}`);
      return (await res.json()) as QueryAnswer;
    } catch (err) {
      return { status: 'unreachable', error: String(err) };
    }
  };

  // Traffic in a few rounds while Prometheus scrapes, so rates have points to work on.
  assert.equal((await send(c.url, 'PUT', '/v1/control', { sample_percent: { search: 50 } })).status, 200);
  const up = await eventually(() => query('up{job="shadowmesh"} == 1'), (a) => (a.data?.result.length ?? 0) === 1, 30_000);
  assert.equal(up.data?.result.length, 1, `Prometheus never scraped the collector: ${JSON.stringify(up)} ${promLog}`);
  for (let round = 0; round < 5; round++) {
    const batch = [];
    for (let i = 0; i < 40; i++) {
      const id = `r${round}-${i}`;
      const route = i % 2 === 0 ? 'predict' : 'search';
      batch.push(rec({ id, role: 'production', route, latency_ms: 2 + i, response_body: `{"v":${i % 5}}` }));
      if (i % 10 !== 9) batch.push(rec({ id, role: 'shadow', route, latency_ms: 3 + i, status: i % 7 === 0 ? 500 : 200, response_body: '{"v":0}' }));
    }
    assert.equal((await post(c.url, batch)).json.rejected, 0);
    await get(c.url, '/v1/verdict');
    // Each round in a scrape of its own (36 pairs a round), so rates have points to
    // work on: wait for Prometheus to have seen this round, not for a fixed time.
    const want = String(36 * (round + 1));
    const pairs = await eventually(() => query('sum(shadowmesh_pairs_total)'), (a) => a.data?.result[0]?.value[1] === want, 20_000);
    assert.equal(pairs.data?.result[0]?.value[1], want, `round ${round} scraped`);
  }

  await t.test('every dashboard query evaluates and has series', async () => {
    const dash = JSON.parse(readFileSync(join(ROOT, 'observability/grafana/shadowmesh.json'), 'utf8')) as { panels: Panel[] };
    let n = 0;
    for (const p of dash.panels) {
      for (const target of p.targets ?? []) {
        const a = await query(concrete(target.expr));
        assert.equal(a.status, 'success', `${p.title}: ${target.expr}: ${a.error ?? ''}`);
        assert.ok((a.data?.result.length ?? 0) > 0, `${p.title}: ${target.expr} has no series`);
        n++;
      }
    }
    assert.ok(n >= 15);
  });

  await t.test('the verdict panels read 0/1/2 for reject/hold/promote, as /v1/verdict says', async () => {
    const overall = (await get(c.url, '/v1/verdict')).json.decision as string;
    const expr = '2 * max by (route) (shadowmesh_verdict{route="*",decision="promote"}) + max by (route) (shadowmesh_verdict{route="*",decision="hold"})';
    const a = await eventually(() => query(expr), (x) => x.data?.result[0]?.value[1] === String({ reject: 0, hold: 1, promote: 2 }[overall]));
    assert.equal(a.data?.result[0]?.value[1], String({ reject: 0, hold: 1, promote: 2 }[overall]));
  });

  await t.test('latency p99 by side from the histogram is in the range of what was sent', async () => {
    const a = await query('histogram_quantile(0.99, sum by (le, role) (rate(shadowmesh_latency_seconds_bucket{role=~"production|shadow"}[1m])))');
    assert.equal(a.data?.result.length, 2);
    for (const r of a.data!.result) {
      const v = Number(r.value[1]);
      // Sent latencies are 2–42 ms; the 99th percentile lies in the 25–50 ms bucket.
      assert.ok(v > 0.025 && v <= 0.05, `${r.metric.role} p99 ${v}`);
    }
  });

  await t.test('every alert expression evaluates', async () => {
    const rules = parseYaml(readFileSync(join(ROOT, 'observability/prometheus/alerts.yaml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
    for (const r of rules.groups.flatMap((g) => g.rules)) {
      const a = await query(r.expr);
      assert.equal(a.status, 'success', `${r.alert}: ${a.error ?? ''}`);
    }
    // The shadow's error rate is above production's here (production never fails).
    const errors = await query(rules.groups[0]!.rules.find((r) => r.alert === 'ShadowmeshShadowErrorRateAboveProduction')!.expr);
    assert.deepEqual(errors.data?.result.map((x) => x.metric.route).sort(), ['predict', 'search']);
  });

  assert.equal(await c.stop(), 0);
});
