// Joining production and shadow sides: any order, windows, late partners, the memory bound.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually, get, post, rec, startCollector, stats, tempDir } from './helpers.js';

test('join inside a long window', async (t) => {
  const dir = tempDir(t);
  const c = await startCollector(['--db', join(dir, 'c.db'), '--join-window-ms', '600000'], t);

  await t.test('shadow before production: one pair, nothing late or pending', async () => {
    await post(c.url, [rec({ id: 'o1', role: 'shadow' })]);
    let s = await stats(c.url, 'predict');
    assert.equal(s.total.pending, 1);
    assert.equal(s.total.unmatched_shadow, 0);
    await post(c.url, [rec({ id: 'o1', role: 'production' })]);
    s = await stats(c.url, 'predict');
    assert.equal(s.total.pairs, 1);
    assert.equal(s.total.pending, 0);
    assert.equal(s.total.late, 0);
    assert.equal(s.total.match_rate, 1);
  });

  await t.test('both sides in one batch join', async () => {
    const r = await post(c.url, [rec({ id: 'o2', role: 'production' }), rec({ id: 'o2', role: 'shadow', status: 500 })]);
    assert.equal(r.json.accepted, 2);
    const p = await get(c.url, '/v1/pairs/o2');
    assert.equal(p.json.status_match, false);
    assert.equal(p.json.match, false);
    assert.equal((await stats(c.url)).total.shadow_errors, 1);
  });

  await t.test('the pair belongs to the production side route', async () => {
    await post(c.url, [rec({ id: 'o3', role: 'shadow', route: 'shadow-route' })]);
    await post(c.url, [rec({ id: 'o3', role: 'production', route: 'prod-route' })]);
    const s = await stats(c.url);
    assert.equal(s.routes['prod-route'].pairs, 1);
    assert.equal(s.routes['prod-route'].production, 1);
    assert.equal(s.routes['shadow-route'].shadow, 1);
    assert.equal(s.routes['shadow-route'].pairs, 0);
    assert.equal(s.routes['shadow-route'].pending, 0);
    assert.equal((await get(c.url, '/v1/pairs/o3')).json.route, 'prod-route');
  });

  await t.test('baseline sides are stored and counted, never paired on their own', async () => {
    await post(c.url, [rec({ id: 'o4', role: 'baseline', status: 0 })]);
    const p = await get(c.url, '/v1/pairs/o4');
    assert.equal(p.status, 200);
    assert.equal(p.json.production, null);
    assert.equal(p.json.shadow, null);
    assert.equal(p.json.match, null);
    assert.equal(p.json.baseline.id, 'o4');
    const s = (await stats(c.url)).total;
    assert.equal(s.baseline, 1);
    assert.equal(s.pending, 0);
    await post(c.url, [rec({ id: 'o4', role: 'production' }), rec({ id: 'o4', role: 'shadow' })]);
    assert.equal((await get(c.url, '/v1/pairs/o4')).json.match, true);
  });

  await t.test('a lone side shows nulls where the partner is missing', async () => {
    await post(c.url, [rec({ id: 'o5', role: 'production' })]);
    const p = await get(c.url, '/v1/pairs/o5');
    assert.equal(p.json.shadow, null);
    assert.equal(p.json.status_match, null);
    assert.equal(p.json.body_match, null);
    assert.deepEqual(p.json.diffs, []);
    assert.equal((await get(c.url, '/v1/pairs/never-seen')).status, 404);
  });
  assert.equal(await c.stop(), 0);
});

test('join window ends: unmatched sides, then late partners', async (t) => {
  const dir = tempDir(t);
  const c = await startCollector(['--db', join(dir, 'c.db'), '--join-window-ms', '200'], t);
  await post(c.url, [rec({ id: 'l1', role: 'production' }), rec({ id: 'l2', role: 'shadow' }), rec({ id: 'l3', role: 'shadow' })]);
  const s1 = await eventually(() => stats(c.url), (s) => s.total.pending === 0);
  assert.equal(s1.total.unmatched_production, 1);
  assert.equal(s1.total.unmatched_shadow, 2);
  assert.equal(s1.total.pairs, 0);
  assert.equal(s1.total.match_rate, null);

  await post(c.url, [rec({ id: 'l1', role: 'shadow' }), rec({ id: 'l2', role: 'production' })]);
  const s2 = await stats(c.url);
  assert.equal(s2.total.pairs, 2);
  assert.equal(s2.total.late, 2);
  assert.equal(s2.total.unmatched_production, 0);
  assert.equal(s2.total.unmatched_shadow, 1);
  assert.equal((await get(c.url, '/v1/pairs/l1')).json.late, true);
  assert.equal(await c.stop(), 0);
});

test('pending sides beyond --max-pending live only in SQLite and still join', async (t) => {
  const dir = tempDir(t);
  const c = await startCollector(['--db', join(dir, 'c.db'), '--max-pending', '2', '--join-window-ms', '600000'], t);
  const prods = Array.from({ length: 10 }, (_, i) => rec({ id: `m${i}`, role: 'production' }));
  await post(c.url, prods);
  const h = await get(c.url, '/healthz');
  assert.equal(h.json.join.cachedPending, 2);
  assert.equal(h.json.join.lone, 10);
  assert.equal((await stats(c.url)).total.pending, 10);

  const shadows = Array.from({ length: 10 }, (_, i) => rec({ id: `m${i}`, role: 'shadow' }));
  await post(c.url, shadows.reverse());
  const s = (await stats(c.url)).total;
  assert.equal(s.pairs, 10);
  assert.equal(s.late, 0);
  assert.equal(s.pending, 0);
  assert.equal((await get(c.url, '/healthz')).json.join.lone, 0);
  assert.equal(await c.stop(), 0);
});

test('spilled sides expire like cached ones and join late', async (t) => {
  const dir = tempDir(t);
  const c = await startCollector(['--db', join(dir, 'c.db'), '--max-pending', '1', '--join-window-ms', '200'], t);
  await post(c.url, Array.from({ length: 5 }, (_, i) => rec({ id: `e${i}`, role: 'shadow' })));
  const s1 = await eventually(() => stats(c.url), (s) => s.total.pending === 0);
  assert.equal(s1.total.unmatched_shadow, 5);
  await post(c.url, Array.from({ length: 5 }, (_, i) => rec({ id: `e${i}`, role: 'production' })));
  const s2 = (await stats(c.url)).total;
  assert.equal(s2.pairs, 5);
  assert.equal(s2.late, 5);
  assert.equal(s2.unmatched_shadow, 0);
  assert.equal(await c.stop(), 0);
});
