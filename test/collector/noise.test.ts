// Noise learned from baseline records (contract §4.1) and the config keys it reads.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { normalisePath, pathMatches } from '../../src/collector/noise/normalise-path.js';
import { post, rec, runCollectorToExit, startCollector, stats, tempDir } from './helpers.js';
import { writeConfig } from './decision-helpers.js';

test('array indices, and only they, become *', () => {
  const doc = { items: [{ at: 1 }, { at: 2 }], map: { '3': { at: 1 } } };
  assert.equal(normalisePath('/items/1/at', doc), '/items/*/at');
  assert.equal(normalisePath('/map/3/at', doc), '/map/3/at');
  assert.equal(normalisePath('/items/5', doc, { items: [] }), '/items/*');
  assert.equal(pathMatches('/items/*/at', '/items/12/at'), true);
  assert.equal(pathMatches('/items/*/at', '/items/x/at'), false);
  assert.equal(pathMatches('/ts', '/ts/x'), false);
});

let clock = 0;
const prodBody = (i: number, label = 'a', withTs = true) =>
  JSON.stringify({ label, ...(withTs ? { ts: 1000 + i } : {}), items: [{ id: 1, at: i }, { id: 2, at: i }] });
// Another call of the same version: a different timestamp and per-item time, same answer.
const otherCall = (label = 'a') => {
  clock++;
  return JSON.stringify({ label, ts: 5_000_000 + clock, items: [{ id: 1, at: -clock }, { id: 2, at: -clock }] });
};

test('a field that differs on every call stops counting once enough triples arrived; a real regression still counts', async (t) => {
  const dir = tempDir(t);
  const cfg = writeConfig(dir, { routes: { predict: { noise: { min_triples: 20 } } } });
  const args = ['--db', join(dir, 'c.db'), '--config', cfg, '--join-window-ms', '600000'];
  const c = await startCollector(args, t);

  const triple = (i: number, shadowLabel: string, baselineFirst: boolean) => {
    const b = rec({ id: `t${i}`, role: 'baseline', response_body: otherCall() });
    const pair = [rec({ id: `t${i}`, role: 'production', response_body: prodBody(i) }), rec({ id: `t${i}`, role: 'shadow', response_body: otherCall(shadowLabel) })];
    return baselineFirst ? [b, ...pair] : [...pair, b];
  };
  // 19 triples: one short of min_triples, so nothing is noise yet.
  const first = [];
  for (let i = 0; i < 19; i++) first.push(...triple(i, i % 3 === 0 ? 'b' : 'a', i % 2 === 0));
  assert.equal((await post(c.url, first)).json.accepted, 57);
  let s = (await stats(c.url, 'predict')).total;
  assert.equal(s.pairs, 19);
  assert.deepEqual(s.noise, []);
  assert.equal(s.match_rate, 0);
  assert.equal(s.adjusted_match_rate, 0);
  assert.deepEqual(s.fields.map((f: { path: string }) => f.path).sort(), ['/items/0/at', '/items/1/at', '/label', '/ts']);

  // The baseline of the 20th triple arrives after its pair (the pair is in the first post of this step).
  const t19 = triple(19, 'a', false);
  await post(c.url, t19.slice(0, 2));
  assert.deepEqual((await stats(c.url, 'predict')).total.noise, []);
  await post(c.url, t19.slice(2));
  for (let i = 20; i < 30; i++) await post(c.url, triple(i, i % 3 === 0 ? 'b' : 'a', true));
  // Pairs without a baseline are judged with the learned noise too; an `added` diff
  // at a noise path is never excused.
  const pairsOnly = [];
  for (let i = 30; i < 40; i++) pairsOnly.push(rec({ id: `p${i}`, role: 'production', response_body: prodBody(i) }), rec({ id: `p${i}`, role: 'shadow', response_body: otherCall() }));
  pairsOnly.push(rec({ id: 'added', role: 'production', response_body: prodBody(99, 'a', false) }), rec({ id: 'added', role: 'shadow', response_body: otherCall() }));
  await post(c.url, pairsOnly);

  s = (await stats(c.url, 'predict')).total;
  assert.equal(s.pairs, 41);
  assert.deepEqual(s.noise, [
    { path: '/items/*/at', baseline_diffs: 30, shadow_diffs: 30, triples: 30 },
    { path: '/ts', baseline_diffs: 30, shadow_diffs: 30, triples: 30 },
  ]);
  // Of the 30 triples, 10 (i % 3 === 0) have a shadow label "b": a real regression.
  assert.equal(s.match_rate, 0);
  assert.equal(s.adjusted_match, 20 + 10);
  assert.equal(s.adjusted_match_rate, 30 / 41);
  assert.deepEqual(s.fields, [{ path: '/label', diffs: 10 }]);
  const all = await stats(c.url);
  assert.equal(all.total.adjusted_match, 30);
  assert.deepEqual(all.total.fields, [{ path: '/label', diffs: 10 }]);
  assert.equal(all.total.noise.length, 2);
  assert.equal(all.total.noise[0].route, 'predict');

  await c.kill9();
  const again = await startCollector(args, t);
  assert.deepEqual(await stats(again.url), all);
  assert.equal(await again.stop(), 0);
});

test('noise and verdict config keys are validated: exit 2 naming the key', async (t) => {
  const dir = tempDir(t);
  const cases: [unknown, RegExp][] = [
    [{ routes: { predict: { noise: { min_triple: 3 } } } }, /noise.*min_triple/],
    [{ routes: { '*': { noise: { min_rate: 1.5 } } } }, /noise\/min_rate/],
    [{ routes: { '*': { noise: { min_triples: 0 } } } }, /noise\/min_triples/],
    [{ routes: { '*': { noise: { relative: -1 } } } }, /noise\/relative/],
    [{ verdict: { min_join_rate: 2 } }, /verdict\/min_join_rate/],
    [{ verdict: { sequential: 'yes' } }, /verdict\/sequential/],
    [{ verdict: { confidence: 1 } }, /verdict\/confidence/],
    [{ verdict: { max_pairs: 3 } }, /max_pairs/],
  ];
  for (const [i, [config, message]] of cases.entries()) {
    const r = await runCollectorToExit(['--db', ':memory:', '--config', writeConfig(dir, config, `c${i}.json`)]);
    assert.equal(r.code, 2, JSON.stringify(config));
    // One line a person reads (a structured log line may come with it).
    const line = r.stderr.split('\n').find((l) => l.startsWith('shadowmesh collector: '));
    assert.ok(line, r.stderr);
    assert.match(line, message);
  }
});
