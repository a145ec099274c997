// The demo is what `npm start` runs: three real model processes, the collector
// with examples/rules.yaml, the sidecar running build/shadowmesh.wasm, held-out
// traffic, feedback and the report.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEMO_ROUTE, runDemo } from '../../src/demo/demo.js';
import { formatObserved, ms, num, pct, type StatsAnswer, type VerdictAnswer } from '../../src/demo/report.js';

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const REQUESTS = 600;

/** The value printed after `label` at the start of a report line. */
function field(report: string, label: string): string {
  const m = new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s{2,}(.*)$`, 'm').exec(report);
  assert.ok(m, `report has a "${label}" line:\n${report}`);
  return m[1]!;
}

test('demo: production answers every caller, every request becomes a compared pair, and the report prints the collector\'s own numbers', async () => {
  const run = await runDemo({ requests: REQUESTS, progress: false, log: () => undefined });
  try {
    assert.equal(run.traffic.sent, REQUESTS);
    assert.equal(run.traffic.ok, REQUESTS);
    assert.equal(run.traffic.notFromProduction, 0, 'callers only ever see the production model');

    // Asked again after the demo: the report must say what the collector says.
    const stats = (await (await fetch(`${run.urls.collector}/v1/stats`)).json()) as StatsAnswer;
    const s = stats.routes[DEMO_ROUTE]!;
    assert.equal(s.production, REQUESTS);
    assert.equal(s.shadow, REQUESTS);
    assert.equal(s.pairs, REQUESTS);
    assert.equal(s.unmatched_production + s.unmatched_shadow + s.pending, 0);
    // v2 answers 500 on every 200th prediction.
    assert.equal(s.shadow_errors, Math.floor(REQUESTS / 200));
    assert.equal(s.production_errors, 0);
    assert.equal(s.status_match, REQUESTS - Math.floor(REQUESTS / 200));
    // The baseline (v1 again) teaches the collector that served_at is noise.
    assert.equal(run.baseline, true);
    assert.equal(s.baseline, REQUESTS);
    assert.deepEqual((s.noise ?? []).map((n) => n.path), ['/served_at']);
    assert.equal(s.match_rate, 0, 'served_at differs on every call');
    assert.ok(s.adjusted_match_rate! > 0.9, `once served_at is noise, most pairs match (${s.adjusted_match_rate})`);
    assert.equal(run.feedback.accepted, REQUESTS / 2, 'every second request gets its true label');

    const r = run.report;
    assert.match(field(r, 'pairs'), new RegExp(`^${s.pairs}\\s`));
    assert.match(field(r, 'pairs'), new RegExp(`join rate ${pct(s.join_rate).replace('.', '\\.')}`));
    assert.equal(field(r, 'match rate'), `${pct(s.match_rate)}   (status match ${s.status_match}, body match ${s.body_match})`);
    assert.match(field(r, 'adjusted match rate'), new RegExp(`^${pct(s.adjusted_match_rate ?? s.match_rate).replace('.', '\\.')}\\s`));
    for (const f of s.fields.slice(0, 5)) assert.match(r, new RegExp(`^\\s+${f.path}\\s+${f.diffs}$`, 'm'));
    for (const n of s.noise ?? []) assert.match(r, new RegExp(`^\\s+${n.path}\\s+${n.baseline_diffs}\\s+${n.shadow_diffs}\\s+${n.triples}$`, 'm'));

    const p = s.prediction!;
    assert.ok(p, 'the rules file names the prediction fields, so the collector has model metrics');
    assert.equal(field(r, 'label agreement'), `${pct(p.label_agreement)} of ${p.pairs} pairs with both predictions`);
    const labels = [...new Set([...Object.keys(p.confusion), ...Object.values(p.confusion).flatMap((row) => Object.keys(row))])].sort();
    for (const a of labels) {
      const printed = new RegExp(`^\\s+${a}\\s+([0-9][0-9\\s]*)$`, 'm').exec(r)?.[1]?.trim().split(/\s+/).map(Number);
      assert.deepEqual(printed, labels.map((b) => p.confusion[a]?.[b] ?? 0), `confusion row ${a}`);
    }
    assert.equal(
      field(r, 'score drift'),
      `PSI ${num(p.psi, 4)}, KS ${num(p.ks, 4)}; |score delta| mean ${num(p.score_delta.mean_abs, 4)}, p95 ${num(p.score_delta.p95_abs, 4)}, max ${num(p.score_delta.max_abs, 4)}`,
    );
    assert.ok(p.label_agreement! > 0.9 && p.label_agreement! < 1, `v1 and v2 agree on most days, not all (${p.label_agreement})`);
    assert.ok(p.feedback, 'the labels reached the model metrics');
    {
      assert.ok(p.feedback.labelled > 0 && p.feedback.labelled <= REQUESTS / 2);
      assert.match(field(r, 'ground truth'), new RegExp(`^${p.feedback.labelled} labelled pairs: accuracy production ${pct(p.feedback.production_accuracy).replace('.', '\\.')}, shadow ${pct(p.feedback.shadow_accuracy).replace('.', '\\.')}$`));
      assert.equal(field(r, 'McNemar'), `p = ${num(p.feedback.mcnemar_p, 4)} → ${p.feedback.conclusion.replaceAll('_', ' ')}`);
    }
    assert.match(r, new RegExp(`^latency p50\\s+${ms(s.latency_ms.production.p50)}\\s+${ms(s.latency_ms.shadow.p50)}$`, 'm'));
    assert.match(r, new RegExp(`^latency p99\\s+${ms(s.latency_ms.production.p99)}\\s+${ms(s.latency_ms.shadow.p99)}$`, 'm'));
    assert.match(r, new RegExp(`^errors \\(0 or >= 500\\)\\s+${s.production_errors}\\s+${s.shadow_errors}$`, 'm'));

    {
      const v = (await (await fetch(`${run.urls.collector}/v1/verdict?route=${DEMO_ROUTE}`)).json()) as VerdictAnswer;
      assert.deepEqual(run.verdict?.decision, v.decision);
      assert.match(r, new RegExp(`^verdict: ${v.decision.toUpperCase()}$`, 'm'));
      for (const reason of v.reasons) {
        const ok = reason.ok === true ? 'ok' : reason.ok === false ? 'FAIL' : 'wait';
        const row = `^\\s+${ok}\\s+${reason.criterion}\\s+${esc(formatObserved(reason.observed))}\\s+${esc(formatObserved(reason.threshold))}\\s+${reason.n ?? ''}`;
        assert.match(r, new RegExp(row, 'm'), `verdict reason ${reason.criterion}: ${JSON.stringify(reason)}`);
      }
    }

    // The whole id, and a curl line that finds the pair.
    assert.ok(run.mismatch, 'v2 disagrees somewhere');
    const curl = new RegExp(`curl -s (\\S+/v1/pairs/([0-9a-f]{32}))$`, 'm').exec(r);
    assert.ok(curl, 'a ready curl line for one mismatch');
    const pair = (await (await fetch(curl[1]!)).json()) as { id: string; match: boolean; diffs: { path: string; kind: string }[] };
    assert.equal(pair.id, curl[2]);
    assert.equal(pair.match, false);
    assert.ok(pair.diffs.some((d) => d.path === '/label' && d.kind === 'changed'), 'the pair shown is a label flip');
    assert.match(r, new RegExp(`^database: ${run.db.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(temporary`, 'm'));
  } finally {
    await run.close();
  }
  assert.equal(existsSync(run.db.path), false, 'the temporary database is deleted when the demo stops');
});

test('demo CLI: --once prints the report, keeps the --db file, exits 0', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-demo-test-'));
  try {
    const db = join(dir, 'kept.db');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--once', '--requests', '20', '--db', db], {
      encoding: 'utf8',
      timeout: 90_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /sent 20 held-out days through the sidecar: 20 answered by production, 0 failed, 0 answers not from production/);
    assert.match(r.stdout, /^match rate\s+/m);
    assert.match(r.stdout, new RegExp(`^database: ${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(kept\\)$`, 'm'));
    // Not a terminal: plain progress lines on stderr, no bar.
    assert.match(r.stderr, /^requests: 20\/20$/m);
    assert.ok(existsSync(db), '--db keeps the database');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('demo CLI: without --once the stack keeps serving until SIGINT, which stops every process the demo started', async () => {
  const demo = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--requests', '10'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  demo.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = new Promise<number | null>((r) => demo.once('exit', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    demo.stdout.on('data', () => /models .*baseline http\S+\n/.test(out) && resolve());
    void exited.then((code) => reject(new Error(`demo exited with ${code}: ${out}`)));
  });
  const urls = [...out.matchAll(/(?:sidecar|production|shadow|baseline)\s+(http:\/\/127\.0\.0\.1:\d+)/g)].map((m) => m[1]!);
  assert.equal(urls.length, 4, out);
  // Still serving after the report: the sidecar answers through production.
  const sidecarUrl = /sidecar\s+(http:\/\/\S+)\/predict/.exec(out)![1]!;
  const res = await fetch(`${sidecarUrl}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"location":"Seattle","date":"2015-03-01","temp_max":11.1,"temp_min":4.4,"wind":3.2}' });
  assert.equal(res.status, 200);
  await res.text();
  demo.kill('SIGINT');
  assert.equal(await exited, 0);
  for (const url of urls) {
    await assert.rejects(fetch(`${url}/healthz`), /fetch failed/, `${url} is closed`);
  }
});

test('demo: killed with SIGKILL mid-traffic, its model processes stop by themselves', async () => {
  const demo = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--once', '--requests', '5000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  demo.stderr.setEncoding('utf8');
  const urls = await new Promise<string[]>((resolve, reject) => {
    demo.stderr.on('data', (s: string) => {
      err += s;
      const m = /production (http:\S+), shadow (http:\S+), baseline (http:\S+);/.exec(err);
      if (m && /requests: \d+/.test(err)) resolve([m[1]!, m[2]!, m[3]!]);
    });
    demo.once('exit', (code) => reject(new Error(`demo exited with ${code}: ${err}`)));
  });
  const exited = new Promise<void>((r) => demo.once('exit', () => r()));
  demo.kill('SIGKILL');
  await exited;
  for (const url of urls) {
    // Await the event (the port refuses connections), bounded.
    const until = Date.now() + 30_000;
    for (;;) {
      const up = await fetch(`${url}/healthz`).then(() => true, () => false);
      if (!up) break;
      assert.ok(Date.now() < until, `${url} still serving 30 s after the demo was killed`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});

test('demo CLI: a bad --requests is a clear error', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--requests', 'lots'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--requests.*whole number/);
});
