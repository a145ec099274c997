// The demo is what `npm start` runs: the real filter in the local sidecar,
// both model versions, the collector, traffic and the printed comparison.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { runDemo } from '../../src/demo/demo.js';

test('demo: every request is answered by production and every answer becomes a compared pair', async () => {
  const requests = 106;
  const run = await runDemo({ requests, log: () => undefined });
  try {
    assert.equal(run.traffic.ok, requests);
    assert.equal(run.traffic.notFromProduction, 0, 'callers only ever see the production model');
    const t = run.stats.total;
    assert.equal(t.production, requests);
    assert.equal(t.shadow, requests);
    assert.equal(t.pairs, requests);
    assert.equal(t.unmatched_production + t.unmatched_shadow, 0);
    // The candidate answers 500 on every 53rd request: two in 106.
    assert.equal(t.shadow_errors, 2);
    assert.equal(t.production_errors, 0);
    assert.equal(t.status_match, requests - 2);
    assert.ok(t.body_match < t.status_match, 'v2 moves some scores beyond the tolerance');
    assert.ok(t.body_match > requests * 0.7, `most answers agree (body_match ${t.body_match})`);
    assert.equal(t.fields[0]?.path, '/score');
    // /meta is ignored by the demo rules, so it never shows up as a differing field.
    assert.ok(!t.fields.some((f) => f.path.startsWith('/meta')));
    assert.ok(run.mismatches.length > 0);
    assert.match(run.report, /match rate/);
    assert.match(run.report, new RegExp(`^pairs\\s+status match.*\\n${requests}\\s+${requests - 2}\\s`, 'm'));
  } finally {
    await run.close();
  }
});

test('demo CLI: --once prints the report and exits 0', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--once', '--requests', '20'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /sent 20 requests through the sidecar: 20 answered by production, 0 failed/);
  assert.match(r.stdout, /fields that differ most|pairs\s+status match/);
});

test('demo CLI: a bad --requests is a clear error', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--requests', 'lots'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--requests.*whole number/);
});
