// GET /v1/verdict and `shadowmesh verdict` against the real collector: each decision
// reached by a scenario of its own (one route each), the CLI's exit codes and --wait.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually, get, post, rec, startCollector, tempDir } from './helpers.js';
import { closedPort, feedback, runCli, startCli, writeConfig } from './decision-helpers.js';

const pairsOf = (route: string, n: number, opts: { from?: number; mismatch?: (i: number) => boolean; shadowLatency?: number; body?: (i: number, role: 'production' | 'shadow') => string } = {}) => {
  const out = [];
  for (let i = opts.from ?? 0; i < (opts.from ?? 0) + n; i++) {
    const body = (role: 'production' | 'shadow') => opts.body?.(i, role) ?? JSON.stringify({ v: role === 'shadow' && opts.mismatch?.(i) ? 'other' : 'same' });
    out.push(rec({ id: `${route}-${i}`, route, role: 'production', latency_ms: 10, response_body: body('production') }));
    out.push(rec({ id: `${route}-${i}`, route, role: 'shadow', latency_ms: opts.shadowLatency ?? 10, response_body: body('shadow') }));
  }
  return out;
};

test('every decision by its own scenario; the CLI exit codes; --wait', async (t) => {
  const dir = tempDir(t);
  const cfg = writeConfig(dir, {
    routes: { labelled: { ignore: ['/label'], prediction: { label: '/label' } } },
    verdict: { min_pairs: 50, min_match_rate: 0.9, max_error_rate_delta: 0.01, max_latency_p99_ratio: 1.25, confidence: 0.95 },
  });
  const c = await startCollector(['--db', join(dir, 'c.db'), '--config', cfg, '--token', 'w', '--read-token', 'r', '--join-window-ms', '500'], t);
  const verdict = async (route?: string) => {
    const r = await get(c.url, route ? `/v1/verdict?route=${route}` : '/v1/verdict', 'r');
    assert.equal(r.status, 200);
    return r.json;
  };
  const failing = (v: { reasons: { ok: boolean | null; criterion: string }[] }) => v.reasons.filter((r) => r.ok === false).map((r) => r.criterion);

  // Sides that will never find a partner: their window ends and join_rate drops.
  const lone = [];
  for (let i = 0; i < 40; i++) lone.push(rec({ id: `missing-lone-${i}`, route: 'missing', role: 'production' }));
  for (let i = 0; i < 10; i++) lone.push(rec({ id: `errors-lone-${i}`, route: 'errors', role: 'shadow', status: 500 }));
  const batch = [
    ...lone,
    ...pairsOf('few', 10),
    ...pairsOf('missing', 60),
    ...pairsOf('mismatch', 100, { mismatch: (i) => i % 10 < 3 }),
    ...pairsOf('errors', 100),
    ...pairsOf('slow', 100, { shadowLatency: 40 }),
    ...pairsOf('labelled', 100, { body: (i, role) => JSON.stringify({ label: role === 'shadow' && i < 20 ? 'n' : 'y' }) }),
    ...pairsOf('unsure', 100, { mismatch: (i) => i % 25 < 2 }),
    ...pairsOf('good', 100),
    ...pairsOf('later', 10),
  ];
  assert.equal((await post(c.url, batch, { token: 'w' })).json.accepted, batch.length);
  const labels = [];
  for (let i = 0; i < 100; i++) labels.push({ id: `labelled-${i}`, label: 'y' });
  assert.equal((await feedback(c.url, labels, { token: 'w' })).json.accepted, 100);

  const few = await verdict('few');
  assert.equal(few.decision, 'hold');
  assert.match(few.summary, /min_pairs 10 < 50/);
  for (const r of few.reasons) for (const k of ['criterion', 'observed', 'threshold', 'ok', 'n']) assert.ok(k in r, `${r.criterion} lacks ${k}`);
  assert.ok(!Number.isNaN(Date.parse(few.evaluated_at)));

  const missing = await eventually(() => verdict('missing'), (v) => v.observed.join_rate !== 1);
  assert.equal(missing.decision, 'hold');
  assert.equal(missing.observed.join_rate, 0.6);
  assert.deepEqual(failing(missing), ['min_join_rate']);
  assert.match(missing.summary, /records are missing \(a data problem, not the shadow's fault\)/);

  const mismatch = await verdict('mismatch');
  assert.equal(mismatch.decision, 'reject');
  assert.deepEqual(failing(mismatch), ['min_match_rate']);
  const mr = mismatch.reasons.find((r: { criterion: string }) => r.criterion === 'min_match_rate');
  assert.equal(mr.observed, 0.7);
  assert.equal(mr.n, 100);
  assert.ok(mr.lower < 0.7 && mr.upper > 0.7 && mr.upper < 0.9);

  const errors = await eventually(() => verdict('errors'), (v) => v.decision !== 'hold');
  assert.equal(errors.decision, 'reject');
  assert.deepEqual(failing(errors), ['max_error_rate_delta']);
  assert.equal(errors.observed.shadow_error_rate, 10 / 110);

  const slow = await verdict('slow');
  assert.equal(slow.decision, 'reject');
  assert.deepEqual(failing(slow), ['max_latency_p99_ratio']);
  assert.ok(Math.abs(slow.observed.latency_p99_ratio - 4) < 0.1);

  const labelled = await verdict('labelled');
  assert.equal(labelled.decision, 'reject');
  assert.deepEqual(failing(labelled), ['feedback']);
  assert.equal(labelled.observed.feedback.conclusion, 'shadow_worse');
  assert.equal(labelled.observed.feedback.labelled, 100);
  assert.equal(labelled.observed.match_rate, 1);

  const unsure = await verdict('unsure');
  assert.equal(unsure.decision, 'hold');
  assert.equal(unsure.reasons.find((r: { criterion: string }) => r.criterion === 'min_match_rate').ok, null);
  assert.match(unsure.summary, /inconclusive/);

  const good = await verdict('good');
  assert.equal(good.decision, 'promote');
  assert.ok(good.reasons.every((r: { ok: boolean }) => r.ok === true));

  // The CLI: exit codes follow the decision.
  const cli = (...args: string[]) => runCli(['verdict', '--url', c.url, '--token', 'r', ...args]);
  const [promote, hold, reject, json, overall] = await Promise.all([
    cli('--route', 'good'),
    cli('--route', 'few'),
    cli('--route', 'mismatch'),
    cli('--route', 'slow', '--json'),
    cli(),
  ]);
  assert.equal(promote.code, 0, promote.stderr);
  assert.match(promote.stdout, /route good: PROMOTE/);
  assert.match(promote.stdout, /min_match_rate\s+1\s+0\.9\s+yes/);
  assert.equal(hold.code, 2);
  assert.equal(reject.code, 3);
  assert.match(reject.stdout, /min_match_rate\s+0\.7\s+0\.9\s+NO/);
  assert.equal(json.code, 3);
  assert.equal(JSON.parse(json.stdout).decision, 'reject');
  assert.equal(overall.code, { promote: 0, hold: 2, reject: 3 }[(await verdict()).decision as string]);

  // Errors: exit 1 with one line each.
  const port = await closedPort();
  const errorRuns = await Promise.all([
    runCli(['verdict', '--url', `http://127.0.0.1:${port}`]),
    runCli(['verdict', '--url', c.url, '--token', 'wrong']),
    runCli(['verdict', '--url', c.url]),
    runCli(['verdict', '--url', c.url, '--wait', 'soon']),
    runCli(['verdict', '--url', c.url, '--bogus']),
  ]);
  for (const [i, r] of errorRuns.entries()) {
    assert.equal(r.code, 1, `case ${i}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, `case ${i}: ${r.stderr}`);
  }
  assert.match(errorRuns[0]!.stderr, /cannot reach the collector/);
  assert.match(errorRuns[1]!.stderr, /refused the token \(401\)/);

  // --wait ends on the time limit while the route stays on hold...
  const timeout = await cli('--route', 'few', '--wait', '1s', '--interval', '200ms');
  assert.equal(timeout.code, 2);
  assert.match(timeout.stdout, /HOLD/);
  // ...and on promote as soon as enough pairs arrive.
  const waiting = startCli(['verdict', '--url', c.url, '--token', 'r', '--route', 'later', '--wait', '2m', '--interval', '200ms']);
  await eventually(async () => waiting.stderr(), (s) => /hold: min_pairs 10 < 50/.test(s), 30_000);
  await post(c.url, pairsOf('later', 100, { from: 10 }), { token: 'w' });
  const promoted = await waiting.done;
  assert.equal(promoted.code, 0, promoted.stderr);
  assert.match(promoted.stdout, /route later: PROMOTE/);
});
