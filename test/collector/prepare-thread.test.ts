// The two-thread ingest path: bodies prepared (and most pairs compared) on the
// prepare thread, batches group-committed. Its outcome must not depend on which
// thread compared a pair, on duplicates with other content, or on a restart.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { CollectorConfig } from '../../src/collector/config.js';
import { PreComparer } from '../../src/collector/ingest/pre-compare.js';
import { comparisonOf } from '../../src/collector/ingest/prepare.js';
import { excusablePaths } from '../../src/collector/noise/excusable-paths.js';
import { KeyFilter } from '../../src/collector/store/key-filter.js';
import type { ShadowRecord } from '../../src/collector/types.js';
import { get, post, rec, startCollector, stats, tempDir } from './helpers.js';

const body = (o: unknown): string => JSON.stringify(o);

test('prepare thread: many batches in flight at once are all committed, every pair compared', async (t) => {
  const dir = tempDir(t);
  const c = await startCollector(['--db', join(dir, 'c.db'), '--join-window-ms', '600000'], t);
  // Batch j: production sides of ids j*8.., shadow sides of the previous batch's ids;
  // every fifth shadow differs in one field. All 24 requests go at once.
  const batch = (j: number): Record<string, unknown>[] => {
    const out: Record<string, unknown>[] = [];
    for (let k = 0; k < 8; k++) out.push(rec({ id: `g${j * 8 + k}`, role: 'production', response_body: body({ a: j * 8 + k, b: [1, 2] }) }));
    if (j > 0) {
      for (let k = 0; k < 8; k++) {
        const i = (j - 1) * 8 + k;
        out.push(rec({ id: `g${i}`, role: 'shadow', response_body: body({ b: [1, i % 5 === 0 ? 9 : 2], a: i }) }));
      }
    }
    return out;
  };
  const answers = await Promise.all(Array.from({ length: 24 }, (_, j) => post(c.url, batch(j))));
  for (const [j, a] of answers.entries()) {
    assert.equal(a.status, 200);
    assert.equal(a.json.accepted, j === 0 ? 8 : 16);
  }
  // Requests may arrive in any order: the pairs exist whichever side came first.
  const s = await stats(c.url);
  assert.equal(s.total.production, 24 * 8);
  assert.equal(s.total.shadow, 23 * 8);
  assert.equal(s.total.pairs, 23 * 8);
  const differ = Array.from({ length: 23 * 8 }, (_, i) => i).filter((i) => i % 5 === 0).length;
  assert.equal(s.total.match, 23 * 8 - differ);
  const differing = await get(c.url, '/v1/pairs/g5');
  assert.deepEqual(differing.json.diffs.map((d: { path: string; kind: string }) => [d.path, d.kind]), [['/b/1', 'changed']]);
});

test('prepare thread: a duplicate with other content never replaces the first copy in a comparison', async (t) => {
  const dir = tempDir(t);
  const c = await startCollector(['--db', join(dir, 'c.db'), '--join-window-ms', '600000'], t);
  await post(c.url, [rec({ id: 'd1', role: 'production', response_body: body({ s: 1 }) })]);
  const dup = await post(c.url, [rec({ id: 'd1', role: 'production', response_body: body({ s: 5 }) })]);
  assert.equal(dup.json.accepted, 1);
  await post(c.url, [rec({ id: 'd1', role: 'shadow', response_body: body({ s: 1 }) })]);
  const p = await get(c.url, '/v1/pairs/d1');
  assert.equal(p.json.body_match, true);
  assert.deepEqual(p.json.diffs, []);
  assert.equal((await stats(c.url)).total.production, 1);
});

test('prepare thread: a pair compared after a restart (partner read from SQLite) equals one compared live', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'c.db');
  const prod = body({ a: 1, items: [{ s: 0.5, k: 'x' }, { s: 0.25, k: 'y' }] });
  const shadow = body({ items: [{ k: 'x', s: 0.5 }, { k: 'y', s: 0.75 }], a: 1, extra: true });
  const first = await startCollector(['--db', db, '--join-window-ms', '600000']);
  await post(first.url, [rec({ id: 'live', role: 'production', response_body: prod }), rec({ id: 'later', role: 'production', response_body: prod })]);
  await post(first.url, [rec({ id: 'live', role: 'shadow', response_body: shadow })]);
  assert.equal(await first.stop(), 0);
  const second = await startCollector(['--db', db, '--join-window-ms', '600000'], t);
  await post(second.url, [rec({ id: 'later', role: 'shadow', response_body: shadow })]);
  const live = (await get(second.url, '/v1/pairs/live')).json;
  const later = (await get(second.url, '/v1/pairs/later')).json;
  assert.deepEqual(later.diffs, live.diffs);
  assert.deepEqual(live.diffs.map((d: { path: string; kind: string }) => [d.path, d.kind]), [['/items/1/s', 'changed'], ['/extra', 'added']]);
  assert.equal(later.match, false);
  assert.equal((await stats(second.url)).total.pairs, 2);
});

const side = (id: string, role: 'production' | 'shadow' | 'baseline', b: unknown): ShadowRecord =>
  rec({ id, role, response_body: body(b) }) as unknown as ShadowRecord;

test('PreComparer: compares with the first copy it holds, numbers every record, skips baselines', () => {
  const pre = new PreComparer(new CollectorConfig(), 1000, 2);
  const p1 = pre.find(side('a', 'production', { x: 1 }));
  const p1dup = pre.find(side('a', 'production', { x: 2 }));
  const base = pre.find(side('a', 'baseline', { x: 3 }));
  const s1 = pre.find(side('a', 'shadow', { x: 2 }));
  assert.deepEqual([p1.wseq, p1dup.wseq, base.wseq, s1.wseq], [1001, 1002, 1003, 1004]);
  assert.equal(p1.pair, undefined);
  assert.equal(base.pair, undefined);
  assert.equal(s1.pair?.partnerWseq, 1001);
  assert.equal(s1.pair?.bodyMatch, false);
  assert.equal(s1.pair?.diffs, JSON.stringify([{ path: '/x', kind: 'changed', production: 1, shadow: 2 }]));
  // Taken once: a second shadow copy finds no partner any more.
  assert.equal(pre.find(side('a', 'shadow', { x: 1 })).pair, undefined);
  // Bounded: the oldest held side is dropped first.
  pre.find(side('b', 'production', {}));
  pre.find(side('c', 'production', {}));
  pre.find(side('d', 'production', {}));
  assert.equal(pre.find(side('b', 'shadow', {})).pair, undefined);
  assert.equal(pre.find(side('d', 'shadow', {})).pair?.match, true);
});

test('PreComparer: works out the excusable paths the noise learner would, from the same records', () => {
  const pre = new PreComparer(new CollectorConfig(), 0);
  const prod = side('e', 'production', { items: [{ s: 0.5 }, { s: 0.25 }], n: 1 });
  const shadow = side('e', 'shadow', { n: 1, items: [{ s: 0.5 }, { s: 0.75 }] });
  pre.find(prod);
  const pair = pre.find(shadow).pair!;
  assert.deepEqual(pair.excusable, ['/items/*/s']);
  assert.deepEqual(pair.excusable, excusablePaths({ comparison: comparisonOf(pair), production: prod, shadow }));
  // An added field cannot be noise: nothing to excuse.
  pre.find(side('f', 'production', { a: 1 }));
  assert.equal(pre.find(side('f', 'shadow', { a: 2, b: 1 })).pair!.excusable, null);
  pre.find(side('g', 'production', { a: 1 }));
  assert.equal(pre.find(side('g', 'shadow', { a: 1 })).pair!.excusable, null);
});

test('KeyFilter: never forgets a key, and rarely claims one it never saw', () => {
  const f = new KeyFilter();
  const keys = Array.from({ length: 20_000 }, (_, i) => `${(i * 2654435761) >>> 0}-${i}\u0000production`);
  for (const k of keys) f.add(k);
  for (const k of keys) assert.equal(f.mayHave(k), true);
  let wrong = 0;
  for (let i = 0; i < 20_000; i++) if (f.mayHave(`other-${i}\u0000shadow`)) wrong++;
  assert.ok(wrong < 20, `${wrong} false positives in 20,000`);
});

test('prepared-wire: a batch survives the trip to the main thread field for field', async () => {
  const { toWire, fromWire } = await import('../../src/collector/ingest/prepared-wire.js');
  const { prepareItems } = await import('../../src/collector/ingest/prepare.js');
  const pre = new PreComparer(new CollectorConfig(), 7 * 2 ** 32);
  const items = [
    rec({ id: 'w1', role: 'production', route: 'a', status: 503, latency_ms: 1.25, response_body: body({ x: 1 }) }),
    { v: 2 },
    rec({ id: 'w1', role: 'shadow', route: 'b', response_body: body({ x: 'é\u2028' }) }),
    rec({ id: 'w2', role: 'baseline', route: 'a' }),
  ].map((value, index) => ({ index, value }));
  const batch = prepareItems(items, pre.find);
  assert.equal(batch.records[1]!.pair?.bodyMatch, false);
  const back = fromWire(structuredClone(toWire(batch)));
  assert.deepEqual(back, batch);
});
