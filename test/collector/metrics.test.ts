// GET /metrics of the real collector process: promtool parses and lints it, its
// values agree with /v1/stats for the same data, they come back after a restart,
// and rejections are counted by reason.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { send } from './decision-helpers.js';
import { eventually, get, post, rec, startCollector, stats, tempDir } from './helpers.js';
import { promtoolCheckMetrics, Scrape, scrape } from './prometheus-text.js';

const ROUTES = ['predict', 'search', 'odd "route"\\ name'];
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Every §3.1 series (the verdict has no series until a decision exists). */
const CONTRACT_FAMILIES = [
  'shadowmesh_records_total', 'shadowmesh_pairs_total', 'shadowmesh_mismatched_pairs_total', 'shadowmesh_match_rate',
  'shadowmesh_adjusted_match_rate', 'shadowmesh_errors_total', 'shadowmesh_latency_seconds', 'shadowmesh_unmatched',
  'shadowmesh_late_pairs_total', 'shadowmesh_verdict', 'shadowmesh_ingest_rejected_records_total',
];

interface Sent {
  latencies: Map<string, number[]>; // `${route}\0${role}` → latency_ms of each stored side
}

function traffic(): { batch: Record<string, unknown>[]; sent: Sent } {
  let seed = 11;
  const rnd = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const sent: Sent = { latencies: new Map() };
  const keep = (route: string, role: string, ms: number): void => {
    const k = `${route}\0${role}`;
    sent.latencies.set(k, [...(sent.latencies.get(k) ?? []), ms]);
  };
  const batch: Record<string, unknown>[] = [];
  for (let i = 0; i < 600; i++) {
    const route = ROUTES[i % 3]!;
    // 0.3 ms … 3 s, so every bucket from 1 ms to 2.5 s gets some.
    const p = Math.round(0.3 * Math.exp(rnd() * 9.2) * 1000) / 1000;
    const s = Math.round(p * (1 + rnd()) * 1000) / 1000;
    const pStatus = i % 37 === 0 ? 0 : i % 23 === 0 ? 503 : 200;
    const sStatus = i % 19 === 0 ? 500 : pStatus;
    const label = i % 2;
    // `t` differs between any two copies (a timestamp): the baseline teaches it as noise.
    const pBody = JSON.stringify({ label, score: i / 600, t: i });
    const sBody = JSON.stringify({ label: i % 7 === 0 ? 1 - label : label, score: i % 5 === 0 ? i / 600 + 0.2 : i / 600, t: i + 2 });
    const bBody = JSON.stringify({ label, score: i / 600, t: i + 1 });
    batch.push(rec({ id: `m${i}`, role: 'production', route, status: pStatus, latency_ms: p, response_body: pBody }));
    batch.push(rec({ id: `m${i}`, role: 'shadow', route, status: sStatus, latency_ms: s, response_body: sBody }));
    keep(route, 'production', p);
    keep(route, 'shadow', s);
    if (i % 10 === 0) {
      batch.push(rec({ id: `m${i}`, role: 'baseline', route, latency_ms: p + 1, response_body: bBody }));
      keep(route, 'baseline', p + 1);
    }
  }
  return { batch, sent };
}

const routeFamilies = (s: Scrape, route: string): Record<string, number | undefined> => ({
  pairs: s.value('shadowmesh_pairs_total', { route }),
  mismatched: s.value('shadowmesh_mismatched_pairs_total', { route }),
  late: s.value('shadowmesh_late_pairs_total', { route }),
  match_rate: s.value('shadowmesh_match_rate', { route }),
  adjusted: s.value('shadowmesh_adjusted_match_rate', { route }),
  join_rate: s.value('shadowmesh_join_rate', { route }),
  production: s.value('shadowmesh_records_total', { route, role: 'production' }),
  shadow: s.value('shadowmesh_records_total', { route, role: 'shadow' }),
  baseline: s.value('shadowmesh_records_total', { route, role: 'baseline' }),
  production_errors: s.value('shadowmesh_errors_total', { route, role: 'production' }),
  shadow_errors: s.value('shadowmesh_errors_total', { route, role: 'shadow' }),
  unmatched_production: s.value('shadowmesh_unmatched', { route, role: 'production' }),
  unmatched_shadow: s.value('shadowmesh_unmatched', { route, role: 'shadow' }),
});

/** The shadowmesh_ samples that come from stored data (not the process, not per-run rejection counts). */
function dataSamples(s: Scrape): string[] {
  return s.samples
    // Rejections and the prepare thread's counts are of this process, not of the data.
    .filter((x) => x.name.startsWith('shadowmesh_') && !x.name.includes('rejected') && !/^shadowmesh_ingest_(thread|prepared)_/.test(x.name) && x.name !== 'shadowmesh_verdict')
    .map((x) => `${x.name}${JSON.stringify(x.labels)} ${x.value}`)
    .sort();
}

test('metrics: promtool parses /metrics; values agree with /v1/stats and survive a restart', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'c.db');
  const config = join(dir, 'rules.json');
  writeFileSync(config, JSON.stringify({
    routes: { '*': { noise: { min_triples: 5 } }, predict: { prediction: { label: '/label', score: '/score' } } },
  }));
  const args = ['--db', db, '--config', config, '--join-window-ms', '300'];
  let c = await startCollector(args, t);

  const { batch, sent } = traffic();
  // One batch: both sides of a pair arrive together, so none is late by accident.
  assert.equal((await post(c.url, batch)).json.accepted, batch.length);
  // Duplicates are stored and counted once.
  assert.equal((await post(c.url, batch.slice(0, 50))).json.accepted, 50);
  // Lone sides: 4 production and 2 shadow wait out their window; then one partner comes late.
  const lone = [
    ...[0, 1, 2, 3].map((i) => rec({ id: `lp${i}`, role: 'production', route: 'search', latency_ms: 4 })),
    ...[0, 1].map((i) => rec({ id: `ls${i}`, role: 'shadow', route: 'search', latency_ms: 6 })),
  ];
  assert.equal((await post(c.url, lone)).json.accepted, 6);
  for (const r of lone) sent.latencies.get(`search\0${r.role as string}`)!.push(r.latency_ms as number);
  await eventually(() => stats(c.url), (s) => s.total.pending === 0);
  assert.equal((await post(c.url, [rec({ id: 'lp0', role: 'shadow', route: 'search', latency_ms: 5 })])).json.accepted, 1);
  sent.latencies.get('search\0shadow')!.push(5);
  // Ground truth for half of predict's pairs (ids m0, m3, m6, …), and two bad items.
  const labels = Array.from({ length: 100 }, (_, k) => ({ id: `m${3 * k}`, label: (3 * k) % 4 === 0 ? 1 : 0 }));
  const fb = await fetch(`${c.url}/v1/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([...labels, { id: 'x' }, 7]) });
  assert.equal(((await fb.json()) as { rejected: number }).rejected, 2);

  // A verdict asked for is the one the keeper holds; control as set by PUT.
  const verdicts: Record<string, string> = {};
  for (const route of ROUTES) verdicts[route] = (await get(c.url, `/v1/verdict?route=${encodeURIComponent(route)}`)).json.decision;
  verdicts['*'] = (await get(c.url, '/v1/verdict')).json.decision;
  assert.equal((await send(c.url, 'PUT', '/v1/control', { sample_percent: { '*': 50, search: 12.5 } })).status, 200);

  const st = await stats(c.url);
  const m = await scrape(c.url);

  await t.test('promtool parses it; every lint problem is in a default process metric, none in ours', async () => {
    const checked = await promtoolCheckMetrics(m.text);
    assert.notEqual(checked.code, 1, `promtool could not parse /metrics: ${checked.output}`);
    const problems = checked.output.split('\n').filter((l) => l.trim() !== '');
    for (const p of problems) assert.doesNotMatch(p, /^shadowmesh_/, p);
    const ours = m.text.split('\n').filter((l) => l.includes('shadowmesh_')).join('\n') + '\n';
    const oursChecked = await promtoolCheckMetrics(ours);
    assert.equal(oursChecked.code, 0, oursChecked.output);
    // Default process metrics are there.
    assert.ok(m.value('process_cpu_user_seconds_total') !== undefined);
    assert.ok(m.value('nodejs_heap_size_used_bytes') !== undefined);
  });

  await t.test('every contract series is declared, with its labels', () => {
    const families = m.families();
    for (const f of CONTRACT_FAMILIES) assert.ok(families.has(f), `no ${f}`);
    assert.match(m.text, /# TYPE shadowmesh_latency_seconds histogram/);
    assert.match(m.text, /# TYPE shadowmesh_records_total counter/);
    assert.match(m.text, /# TYPE shadowmesh_match_rate gauge/);
  });

  await t.test('per route, the values are /v1/stats\' values', () => {
    assert.deepEqual(Object.keys(st.routes).sort(), [...ROUTES].sort());
    for (const route of ROUTES) {
      const s = st.routes[route];
      assert.deepEqual(routeFamilies(m, route), {
        pairs: s.pairs,
        mismatched: s.pairs - s.match,
        late: s.late,
        match_rate: s.match_rate,
        adjusted: s.adjusted_match_rate,
        join_rate: s.join_rate,
        production: s.production,
        shadow: s.shadow,
        baseline: s.baseline,
        production_errors: s.production_errors,
        shadow_errors: s.shadow_errors,
        unmatched_production: s.unmatched_production,
        unmatched_shadow: s.unmatched_shadow,
      }, route);
    }
    // The data really has what is compared: mismatches, errors, lone and late sides.
    const search = st.routes.search;
    assert.equal(search.late, 1);
    assert.equal(search.unmatched_production, 3);
    assert.equal(search.unmatched_shadow, 2);
    assert.ok(st.total.production_errors > 0 && st.total.shadow_errors > st.total.production_errors);
    assert.ok(st.total.pairs - st.total.match > 0);
    assert.equal(st.total.production, 604);
    assert.equal(m.value('shadowmesh_label_agreement', { route: 'predict' }), st.routes.predict.prediction.label_agreement);
    assert.equal(m.value('shadowmesh_label_agreement', { route: 'search' }), undefined);
    assert.equal(m.value('shadowmesh_routes'), 3);
    // Noise learned from the baseline: the adjusted rate excuses it, the count is exposed.
    for (const route of ROUTES) {
      assert.deepEqual(st.routes[route].noise.map((n: { path: string }) => n.path), ['/t']);
      assert.equal(m.value('shadowmesh_noise_paths', { route }), 1);
      assert.ok(st.routes[route].adjusted_match_rate > st.routes[route].match_rate);
    }
    // Feedback: accuracy per side and McNemar, as in S.
    const f = st.routes.predict.prediction.feedback;
    assert.equal(f.labelled, 100);
    assert.equal(m.value('shadowmesh_feedback_labelled_pairs', { route: 'predict' }), 100);
    assert.equal(m.value('shadowmesh_accuracy', { route: 'predict', role: 'production' }), f.production_accuracy);
    assert.equal(m.value('shadowmesh_accuracy', { route: 'predict', role: 'shadow' }), f.shadow_accuracy);
    assert.equal(m.value('shadowmesh_mcnemar_p', { route: 'predict' }), f.mcnemar_p);
    assert.equal(m.value('shadowmesh_accuracy', { route: 'search', role: 'shadow' }), undefined);
    assert.equal(m.value('shadowmesh_feedback_rejected_labels_total'), 2);
  });

  await t.test('the verdict per route and overall, and the control, as gauges', () => {
    assert.ok(Object.values(verdicts).includes('hold') || Object.values(verdicts).includes('reject'));
    for (const [route, decision] of Object.entries(verdicts)) {
      for (const d of ['promote', 'hold', 'reject']) {
        assert.equal(m.value('shadowmesh_verdict', { route, decision: d }), d === decision ? 1 : 0, `${route} ${d}`);
      }
    }
    assert.equal(m.all('shadowmesh_verdict').length, 3 * 4);
    assert.equal(m.value('shadowmesh_control_sample_percent', { route: '*' }), 50);
    assert.equal(m.value('shadowmesh_control_sample_percent', { route: 'search' }), 12.5);
    assert.equal(m.all('shadowmesh_control_sample_percent').length, 2);
    assert.equal(m.value('shadowmesh_webhook_failures_total'), 0);
  });

  await t.test('latency histograms in seconds: exact bucket counts, and the stats quantiles fall in them', () => {
    for (const route of ROUTES) {
      for (const role of ['production', 'shadow', 'baseline']) {
        const lat = sent.latencies.get(`${route}\0${role}`)!;
        const labels = { route, role };
        assert.equal(m.value('shadowmesh_latency_seconds_count', labels), lat.length, `${route} ${role}`);
        if (role !== 'baseline') assert.equal(lat.length, st.routes[route][role]);
        const sum = m.value('shadowmesh_latency_seconds_sum', labels)!;
        assert.ok(Math.abs(sum - lat.reduce((a, b) => a + b, 0) / 1000) < 1e-9, `${route} ${role} sum`);
        for (const le of BUCKETS) {
          const n = m.value('shadowmesh_latency_seconds_bucket', { ...labels, le: String(le) });
          assert.equal(n, lat.filter((ms) => ms / 1000 <= le).length, `${route} ${role} le=${le}`);
        }
        assert.equal(m.value('shadowmesh_latency_seconds_bucket', { ...labels, le: '+Inf' }), lat.length);
        if (role === 'baseline') continue;
        // The stats' estimate of a quantile lies in the bucket the histogram puts it in.
        for (const [q, key] of [[0.5, 'p50'], [0.99, 'p99']] as const) {
          const rank = Math.floor(q * (lat.length - 1));
          const i = BUCKETS.findIndex((le) => m.value('shadowmesh_latency_seconds_bucket', { ...labels, le: String(le) })! > rank);
          const estimate = st.routes[route].latency_ms[role][key] / 1000;
          const upper = i === -1 ? Infinity : BUCKETS[i]!;
          const lower = i <= 0 ? 0 : BUCKETS[i - 1]!;
          assert.ok(estimate <= upper * 1.01 && estimate > lower / 1.01, `${route} ${role} ${key} ${estimate} not in (${lower}, ${upper}]`);
        }
      }
    }
    // Buckets span 1 ms to 10 s and this data has sides in most of them.
    const prod = sent.latencies.get('predict\0production')!;
    assert.ok(prod.some((ms) => ms < 1) && prod.some((ms) => ms > 1000));
  });

  await t.test('a restart brings back the same values (including the histograms)', async () => {
    assert.equal(await c.stop(), 0);
    c = await startCollector(args, t);
    const again = await scrape(c.url);
    assert.deepEqual(dataSamples(again), dataSamples(m));
    assert.deepEqual(routeFamilies(again, 'search'), routeFamilies(m, 'search'));
    // The kept decisions and the control are durable too.
    assert.deepEqual(again.all('shadowmesh_verdict').filter((x) => x.value === 1).map((x) => x.labels).sort(), m.all('shadowmesh_verdict').filter((x) => x.value === 1).map((x) => x.labels).sort());
    assert.equal(again.value('shadowmesh_control_sample_percent', { route: 'search' }), 12.5);
  });

  await t.test('no token is ever needed for /metrics', async () => {
    assert.equal(await c.stop(), 0);
    c = await startCollector([...args, '--token', 'w', '--read-token', 'r'], t);
    assert.equal((await get(c.url, '/v1/stats')).status, 401);
    const res = await fetch(`${c.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.equal(new Scrape(await res.text()).value('shadowmesh_pairs_total', { route: 'search' }), st.routes.search.pairs);
  });
  assert.equal(await c.stop(), 0);
});

test('metrics: rejections by reason; --max-routes keeps the route and series count bounded', async (t) => {
  const dir = tempDir(t);
  // An alert receiver that always fails: every attempt is a counted failure.
  let hooks = 0;
  const receiver = createServer((_req, res) => {
    hooks++;
    res.writeHead(500).end();
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => receiver.close(() => r())));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const c = await startCollector(['--db', join(dir, 'c.db'), '--max-routes', '3', '--token', 'w', '--alert-webhook', hookUrl], t);
  const opts = { token: 'w' };

  // Three routes fit; a flood of invented routes does not, whatever the batch.
  const first = await post(c.url, ['r1', 'r2', 'r3'].map((route, i) => rec({ id: `a${i}`, role: 'production', route })), opts);
  assert.equal(first.json.accepted, 3);
  const flood = Array.from({ length: 200 }, (_, i) => rec({ id: `f${i}`, role: 'production', route: `invented-${i}` }));
  flood.push(rec({ id: 'a1', role: 'shadow', route: 'r2' }));
  const answer = await post(c.url, flood, opts);
  assert.equal(answer.json.accepted, 1);
  assert.equal(answer.json.rejected, 200);
  assert.match(answer.json.errors[0].error, /^\/route: new route "invented-0" .*--max-routes cap of 3/);
  // Invalid records are counted under their own reason.
  const invalid = await post(c.url, [rec({ id: 'bad id!', role: 'production', route: 'r1' }), { v: 1 }, rec({ id: 'x1', role: 'chaos', route: 'r1' })], opts);
  assert.equal(invalid.json.rejected, 3);
  // Whole bodies refused: unparsable (400) and without the token (401).
  assert.equal((await post(c.url, '{not json', opts)).status, 400);
  assert.equal((await post(c.url, [rec({ id: 'z', role: 'production' })])).status, 401);

  const m = await scrape(c.url);
  assert.equal(m.value('shadowmesh_ingest_rejected_records_total', { reason: 'route_limit' }), 200);
  assert.equal(m.value('shadowmesh_ingest_rejected_records_total', { reason: 'invalid' }), 3);
  assert.equal(m.value('shadowmesh_ingest_rejected_requests_total', { endpoint: 'records', code: '400' }), 1);
  assert.equal(m.value('shadowmesh_ingest_rejected_requests_total', { endpoint: 'records', code: '401' }), 1);
  assert.equal(m.value('shadowmesh_routes'), 3);
  assert.equal(m.value('shadowmesh_max_routes'), 3);
  // route="*" is the overall verdict's own series (once a decision has been evaluated,
  // which on a slow machine can happen mid-test); no other series may carry it.
  const routeLabels = new Set(m.samples.filter((s) => s.labels.route !== undefined && s.labels.route !== '*').map((s) => s.labels.route));
  assert.deepEqual([...routeLabels].sort(), ['r1', 'r2', 'r3']);
  assert.deepEqual([...new Set(m.samples.filter((s) => s.labels.route === '*').map((s) => s.name))].filter((n) => n !== 'shadowmesh_verdict'), []);
  assert.deepEqual(Object.keys((await stats(c.url)).routes), ['r1', 'r2', 'r3']);
  assert.equal(m.value('shadowmesh_pairs_total', { route: 'r2' }), 1);

  // A second flood changes nothing but the rejection count.
  // Counted over per-route series: the decision series (route="*", webhook counters) may
  // appear on their own schedule in between.
  const perRoute = (x: typeof m) => x.samples.filter((s) => s.name.startsWith('shadowmesh_') && s.labels.route !== undefined && s.labels.route !== '*').length;
  const seriesBefore = perRoute(m);
  await post(c.url, flood.slice(0, 100).map((r, i) => ({ ...r, id: `g${i}` })), opts);
  const after = await scrape(c.url);
  assert.equal(perRoute(after), seriesBefore);
  assert.equal(after.value('shadowmesh_ingest_rejected_records_total', { reason: 'route_limit' }), 300);

  // The first decisions (nothing → hold) were sent to the failing receiver.
  const failing = await eventually(() => scrape(c.url), (x) => (x.value('shadowmesh_webhook_failures_total') ?? 0) >= 2);
  const failures = failing.value('shadowmesh_webhook_failures_total')!;
  assert.ok(failures >= 2 && failures <= hooks, `${failures} failures, ${hooks} requests`);
  assert.equal(await c.stop(), 0);

  // Restarted with a lower cap: the stored routes stay known, no new one gets in.
  const again = await startCollector(['--db', join(dir, 'c.db'), '--max-routes', '2', '--token', 'w'], t);
  const mixed = await post(again.url, [rec({ id: 'a2', role: 'shadow', route: 'r3' }), rec({ id: 'n1', role: 'production', route: 'r4' })], opts);
  assert.equal(mixed.json.accepted, 1);
  assert.deepEqual(mixed.json.errors.map((e: { index: number }) => e.index), [1]);
  assert.equal((await scrape(again.url)).value('shadowmesh_pairs_total', { route: 'r3' }), 1);
  assert.equal(await again.stop(), 0);
});
