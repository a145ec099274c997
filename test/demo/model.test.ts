// The demo's models: trained files in models/, served by `shadowmesh model`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadModel } from '../../src/demo/model-server.js';
import { startCli } from '../../src/demo/processes.js';
import { loadHeldOut } from '../../src/demo/traffic.js';

const post = (url: string, body: unknown): Promise<Response> =>
  fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

test('models: v1 and v2 were trained on data before the held-out year, score as their files say, and agree on most days but not all', () => {
  const heldOut = loadHeldOut();
  assert.ok(heldOut.length > 700);
  assert.ok(heldOut.every((r) => r.date >= '2015-01-01'), 'the held-out set is 2015 only');
  const v1 = loadModel('v1');
  const v2 = loadModel('v2');
  assert.ok(v1.file.trained_on.to < '2015-01-01' && v2.file.trained_on.to < '2015-01-01');
  assert.ok(v2.file.trained_on.rows > v1.file.trained_on.rows, 'v2 is the retrain on more data');
  for (const m of [v1, v2]) {
    const correct = heldOut.filter((r) => m.predict(r).label === r.label).length;
    assert.equal(Math.round((correct / heldOut.length) * 10_000) / 10_000, m.file.evaluation.accuracy);
    const rainy = heldOut.filter((r) => r.label === 'rain').length / heldOut.length;
    assert.ok(m.file.evaluation.accuracy > Math.max(rainy, 1 - rainy) + 0.05, 'better than always guessing the majority');
  }
  const disagree = heldOut.filter((r) => v1.predict(r).label !== v2.predict(r).label).length;
  assert.ok(disagree > 0 && disagree < heldOut.length * 0.05, `they disagree on ${disagree} days`);
  for (const f of ['models/v1.json', 'models/v2.json', 'models/holdout.json']) assert.ok(readFileSync(f).length < 200_000, `${f} stays small`);
});

test('shadowmesh model: POST /predict answers label, score, model_version and a per-call served_at; bad input is a 422 that says why', async () => {
  const server = await startCli(['model', '--version', 'v2', '--port', '0', '--fail-every', '3'], 'model v2');
  try {
    const day = loadHeldOut()[0]!;
    const { label: _truth, ...input } = day;
    const a = await post(server.url, input);
    assert.equal(a.status, 200);
    const first = (await a.json()) as { label: string; score: number; model_version: string; served_at: string };
    assert.deepEqual(Object.keys(first).sort(), ['label', 'model_version', 'score', 'served_at']);
    assert.equal(first.model_version, 'v2');
    assert.deepEqual({ label: first.label, score: first.score }, loadModel('v2').predict(input));
    const second = (await (await post(server.url, input)).json()) as { served_at: string; score: number };
    assert.equal(second.score, first.score);
    assert.notEqual(second.served_at, first.served_at, 'served_at differs on every call');
    // --fail-every 3: the third prediction fails.
    assert.equal((await post(server.url, input)).status, 500);

    const bad = await post(server.url, { ...input, location: 'Paris' });
    assert.equal(bad.status, 422);
    assert.match(((await bad.json()) as { error: string }).error, /location must be one of "Seattle", "New York"/);
    assert.equal((await post(server.url, '{not json')).status, 400);
    assert.equal((await fetch(`${server.url}/predict`)).status, 405);
  } finally {
    await server.stop();
  }
});

test('shadowmesh model: a port in use is one line and exit 1', async () => {
  const first = await startCli(['model', '--version', 'v1', '--port', '0'], 'model v1');
  try {
    const port = new URL(first.url).port;
    await assert.rejects(startCli(['model', '--version', 'v1', '--port', port], 'model v1 again'), /exited with 1 before listening: shadowmesh model: 127\.0\.0\.1:\d+ is already in use$/);
  } finally {
    await first.stop();
  }
});
