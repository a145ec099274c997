// The joiner in-process, with an injected clock and a real SQLite file: pairing,
// duplicates, the join window's edges (pending → unmatched, late pairs), the
// memory bound, baseline sides, and rebuild() after a restart giving the same numbers.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CollectorConfig, parseConfig } from '../../src/collector/config.js';
import type { PredictionSample } from '../../src/collector/compare/prediction.js';
import { Joiner, type JoinerOptions, type PairEvent } from '../../src/collector/join/joiner.js';
import { PreComparer } from '../../src/collector/ingest/pre-compare.js';
import { prepareItems } from '../../src/collector/ingest/prepare.js';
import { Repository } from '../../src/collector/store/repository.js';

const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-join-'));
const open: Repository[] = [];
after(async () => {
  for (const r of open) await r.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

function setup(opts: { windowMs?: number; maxPending?: number; config?: CollectorConfig; file?: string; start?: number } = {}) {
  const clock = { now: opts.start ?? 1_000_000 };
  // A file only where a restart is tested; :memory: elsewhere (no checkpointer thread).
  const file = opts.file ?? ':memory:';
  const repo = new Repository(file);
  open.push(repo);
  const joiner = new Joiner(repo, opts.config ?? new CollectorConfig(), { joinWindowMs: opts.windowMs ?? 1000, maxPending: opts.maxPending ?? 100, clock: () => clock.now });
  return { clock, repo, joiner, file };
}

let n = 0;
function rec(id: string, role: string, extra: Record<string, unknown> = {}) {
  return { index: n++, value: { v: 1, id, role, route: 'predict', method: 'POST', path: '/p', status: 200, latency_ms: 5, ts_ms: 1, response_body: '{"a":1}', ...extra } };
}

const route = (j: Joiner, name = 'predict') => j.stats.answer().routes[name]!;

test('a production and a shadow side with one id make one pair; a duplicate counts once', () => {
  const { joiner } = setup();
  assert.deepEqual(joiner.ingest([rec('a', 'production')]), { accepted: 1, rejected: 0, errors: [] });
  let s = route(joiner);
  assert.equal(s.pending, 1);
  assert.equal(s.pairs, 0);
  joiner.ingest([rec('a', 'shadow', { response_body: '{"a":2}' }), rec('a', 'shadow')]);
  s = route(joiner);
  assert.equal(s.pairs, 1);
  assert.equal(s.shadow, 1, 'the duplicate is not counted');
  assert.equal(s.match, 0);
  assert.equal(s.pending, 0);
  assert.deepEqual(s.fields, [{ path: '/a', diffs: 1 }]);
  assert.deepEqual(joiner.memoryState(), { cachedPending: 0, windowBuckets: 1, lone: 0 });
});

test('invalid items are rejected with their index; valid ones in the same batch are kept', () => {
  const { joiner } = setup();
  const r = joiner.ingest([rec('a', 'production'), { index: 7, value: { v: 1 } }, { index: 8, error: 'bad line' }]);
  assert.equal(r.accepted, 1);
  assert.equal(r.rejected, 2);
  assert.deepEqual(r.errors.map((e) => e.index), [7, 8]);
  assert.equal(r.errors[1]!.error, 'bad line');
});

test('the window: pending until exactly windowMs after arrival, then unmatched; a partner after that is a late pair', () => {
  const { joiner, clock } = setup({ windowMs: 1000 });
  joiner.ingest([rec('a', 'production')]);
  clock.now += 999;
  joiner.tick();
  assert.equal(route(joiner).pending, 1);
  assert.equal(route(joiner).unmatched_production, 0);
  clock.now += 1;
  joiner.tick();
  assert.equal(route(joiner).pending, 0);
  assert.equal(route(joiner).unmatched_production, 1);
  joiner.ingest([rec('a', 'shadow')]);
  const s = route(joiner);
  assert.equal(s.pairs, 1);
  assert.equal(s.late, 1);
  assert.equal(s.unmatched_production, 0);
  assert.deepEqual(joiner.memoryState(), { cachedPending: 0, windowBuckets: 0, lone: 0 });
});

test('a partner inside the window is not late; a clock that goes back does not reopen a window', () => {
  const { joiner, clock } = setup({ windowMs: 1000 });
  joiner.ingest([rec('a', 'shadow')]);
  clock.now += 500;
  joiner.ingest([rec('a', 'production')]);
  assert.equal(route(joiner).late, 0);
  joiner.ingest([rec('b', 'production')]);
  clock.now += 1000;
  joiner.tick();
  assert.equal(route(joiner).unmatched_production, 1);
  clock.now -= 5000;
  joiner.tick();
  assert.equal(joiner.now(), 1_001_500);
  assert.equal(route(joiner).unmatched_production, 1);
});

test('beyond maxPending a lone side lives in SQLite only and still finds its partner', () => {
  const { joiner } = setup({ maxPending: 2 });
  joiner.ingest(['a', 'b', 'c', 'd'].map((id) => rec(id, 'production')));
  assert.deepEqual(joiner.memoryState(), { cachedPending: 2, windowBuckets: 1, lone: 4 });
  joiner.ingest(['d', 'c', 'b', 'a'].map((id) => rec(id, 'shadow')));
  const s = route(joiner);
  assert.equal(s.pairs, 4);
  assert.equal(s.pending, 0);
  assert.deepEqual(joiner.memoryState(), { cachedPending: 0, windowBuckets: 1, lone: 0 });
});

test('with maxPending 0 every partner is found in SQLite', () => {
  const { joiner } = setup({ maxPending: 0 });
  joiner.ingest([rec('a', 'production'), rec('b', 'shadow')]);
  joiner.ingest([rec('a', 'shadow'), rec('b', 'production')]);
  assert.equal(route(joiner).pairs, 2);
  assert.equal(joiner.memoryState().lone, 0);
});

test('baseline sides are counted (with their errors) but never pair or wait', () => {
  const { joiner } = setup();
  joiner.ingest([rec('a', 'baseline', { status: 503 }), rec('a', 'baseline', { id: 'b', status: 0 }), rec('c', 'baseline', { status: 200 })]);
  const s = route(joiner);
  assert.equal(s.baseline, 3);
  assert.equal(s.baseline_errors, 2);
  assert.equal(s.pending, 0);
  assert.equal(s.pairs, 0);
  joiner.ingest([rec('a', 'production'), rec('a', 'shadow')]);
  assert.equal(route(joiner).pairs, 1);
});

test('pairs are compared under the production side\'s route rules and counted there', () => {
  const config = parseConfig('routes:\n  predict:\n    ignore: ["/a"]\n');
  const { joiner } = setup({ config });
  joiner.ingest([rec('a', 'production'), rec('a', 'shadow', { route: 'other', response_body: '{"a":2}' })]);
  const answer = joiner.stats.answer();
  assert.equal(answer.routes.predict!.pairs, 1);
  assert.equal(answer.routes.predict!.match, 1);
  assert.equal(answer.routes.other!.shadow, 1);
  assert.equal(answer.routes.other!.pairs, 0);
  assert.equal(answer.routes.other!.pending, 0);
});

test('rebuild() from the file gives the same numbers, pending sides included, and they still pair', async () => {
  const config = parseConfig('routes:\n  predict:\n    prediction: { score: "/a" }\n');
  const first = setup({ windowMs: 1000, config, file: join(dir, 'restart.db') });
  first.joiner.ingest([rec('a', 'production'), rec('a', 'shadow', { response_body: '{"a":3}' }), rec('b', 'production', { status: 500 }), rec('c', 'shadow')]);
  first.clock.now += 1000;
  first.joiner.ingest([rec('d', 'production')]);
  first.joiner.tick();
  const before = first.joiner.stats.answer();
  await first.repo.close();
  open.splice(open.indexOf(first.repo), 1);
  const second = setup({ windowMs: 1000, config, file: first.file, start: first.clock.now });
  assert.deepEqual(second.joiner.stats.answer(), before);
  assert.equal(before.routes.predict!.pending, 1);
  assert.equal(before.routes.predict!.unmatched_production, 1);
  assert.equal(before.routes.predict!.production_errors, 1);
  second.joiner.ingest([rec('d', 'shadow'), rec('b', 'shadow')]);
  const s = route(second.joiner);
  assert.equal(s.pairs, 3);
  assert.equal(s.late, 1, 'b arrived after its window; d inside it');
  assert.equal(s.pending, 0);
  assert.equal(s.unmatched_shadow, 1, 'c, whose window ended before the restart');
});

// ---- what the mutation run (docs/testing.md) showed unpinned ----

function setupWith(opts: Partial<JoinerOptions>, config = new CollectorConfig()) {
  const clock = { now: 1_000_000 };
  const repo = new Repository(':memory:');
  open.push(repo);
  const joiner = new Joiner(repo, config, { joinWindowMs: 1000, maxPending: 100, clock: () => clock.now, ...opts });
  return { clock, repo, joiner };
}

test('a side whose window ended leaves the cache and the window; only the lone count remains', () => {
  const { joiner, clock } = setup({ windowMs: 1000 });
  joiner.ingest([rec('a', 'production')]);
  assert.deepEqual(joiner.memoryState(), { cachedPending: 1, windowBuckets: 1, lone: 1 });
  clock.now += 1000;
  joiner.tick();
  assert.deepEqual(joiner.memoryState(), { cachedPending: 0, windowBuckets: 0, lone: 1 });
});

test('a record that fails for a reason of ours is undone alone, with its index; the rest of the batch is kept', () => {
  const { joiner, repo } = setup();
  let fail = true;
  let rebuilt = 0;
  joiner.listeners.push({
    pair: (e) => { if (fail && e.id === 'bad') throw new TypeError('listener bug'); },
    rebuilt: () => { rebuilt++; },
  });
  const items = [
    { index: 0, value: { v: 1 } },
    { ...rec('a', 'production'), index: 1 },
    { ...rec('a', 'shadow'), index: 2 },
    { ...rec('bad', 'production'), index: 3 },
    { ...rec('bad', 'shadow'), index: 4 },
    { ...rec('c', 'production'), index: 5 },
    { index: 6, error: 'bad line' },
  ];
  const r = joiner.ingest(items);
  assert.equal(r.accepted, 4);
  assert.equal(r.rejected, 3);
  assert.deepEqual(r.errors.map((e) => e.index), [0, 4, 6], 'errors in index order');
  assert.equal(r.errors[1]!.error, 'internal error while storing this record (logged by the collector)');
  const internal = (r as { internal?: { index: number; error: unknown }[] }).internal;
  assert.equal(internal?.length, 1);
  assert.equal(internal![0]!.index, 4);
  assert.ok(internal![0]!.error instanceof TypeError);
  assert.ok(!Object.keys(r).includes('internal'), 'not part of the JSON answer');
  assert.ok(rebuilt >= 1, 'listeners heard that the state was rebuilt');
  // Memory agrees with what was committed: the failed side is not counted.
  const s = route(joiner);
  assert.deepEqual([s.production, s.shadow, s.pairs, s.pending], [3, 1, 1, 2]);
  assert.equal(repo.findSide('bad', 'shadow'), undefined);
  assert.deepEqual(joiner.memoryState().lone, 2);
  // Sent again once the bug is gone, it pairs.
  fail = false;
  assert.deepEqual(joiner.ingest([rec('bad', 'shadow')]), { accepted: 1, rejected: 0, errors: [] });
  assert.deepEqual([route(joiner).pairs, route(joiner).pending], [2, 1]);
});

test('a storage failure fails the whole batch: nothing committed, memory as before, and a retry pairs', () => {
  const { joiner, repo } = setup();
  joiner.ingest([rec('x', 'production')]);
  let broken: 'sqlite' | 'both' | null = 'sqlite';
  joiner.listeners.push({
    pair: (e) => {
      if (broken === 'both' && e.id === 'y') throw new TypeError('listener bug');
      if (broken !== null && e.id === 'z') repo.db.prepare('SELECT * FROM no_such_table').get();
    },
  });
  const batch = () => [rec('y', 'production'), rec('y', 'shadow'), rec('z', 'production'), rec('z', 'shadow')];
  assert.throws(() => joiner.ingest(batch()), (e: Error) => e.constructor.name === 'SqliteError');
  const before = route(joiner);
  assert.deepEqual([before.production, before.shadow, before.pairs, before.pending], [1, 0, 0, 1]);
  assert.deepEqual(joiner.memoryState(), { cachedPending: 1, windowBuckets: 1, lone: 1 });
  // The same when a record of ours failed first and the one-by-one retry meets the storage failure.
  broken = 'both';
  assert.throws(() => joiner.ingest(batch()), (e: Error) => e.constructor.name === 'SqliteError');
  const still = route(joiner);
  assert.deepEqual([still.production, still.shadow, still.pairs, still.pending], [1, 0, 0, 1]);
  assert.equal(repo.findSide('y', 'production'), undefined);
  broken = null;
  assert.equal(joiner.ingest(batch()).accepted, 4);
  assert.deepEqual([route(joiner).pairs, route(joiner).pending], [2, 1]);
});

test('--max-routes: a record of one route too many is rejected alone; known routes keep being accepted', () => {
  const { joiner } = setupWith({ maxRoutes: 1 });
  const r = joiner.ingest([rec('a', 'production'), rec('b', 'production', { route: 'other' }), rec('a', 'shadow')]);
  assert.equal(r.accepted, 2);
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0]!.error, /^\/route: new route "other" would be one over the --max-routes cap of 1/);
  assert.deepEqual(Object.keys(joiner.stats.answer().routes), ['predict']);
  assert.equal(route(joiner).pairs, 1);
});

test('a record nesting too deeply to store is rejected alone, with the reason', () => {
  const { joiner } = setup();
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = { d: deep };
  const r = joiner.ingest([rec('a', 'production', { extra: deep }), rec('b', 'production')]);
  assert.equal(r.accepted, 1);
  assert.deepEqual(r.errors.map((e) => e.error), ['record nests too deeply to store']);
  assert.equal(route(joiner).production, 1);
});

test('the side observer hears every stored side once, and all of them again after reset() on a rebuild', () => {
  const heard: string[] = [];
  const { joiner } = setupWith({ sides: { reset: () => heard.push('reset'), side: (r, role, ms) => heard.push(`${r}/${role}/${ms}`) } });
  heard.length = 0; // the constructor's own rebuild
  joiner.ingest([rec('a', 'production', { latency_ms: 7 }), rec('a', 'production'), rec('a', 'shadow', { latency_ms: 9 }), rec('b', 'baseline', { latency_ms: 3 })]);
  assert.deepEqual(heard, ['predict/production/7', 'predict/shadow/9', 'predict/baseline/3']);
  heard.length = 0;
  joiner.rebuild();
  assert.deepEqual(heard, ['reset', 'predict/production/7', 'predict/shadow/9', 'predict/baseline/3']);
});

test('listeners: a pair event names production and shadow whichever came first, with the stored pair\'s seq; baselines are heard', () => {
  const config = parseConfig('routes:\n  predict:\n    prediction: { score: "/a" }\n');
  const { joiner, repo } = setup({ config });
  const pairs: PairEvent[] = [];
  const baselines: string[] = [];
  // A listener without a baseline hook first: the others still hear baselines.
  joiner.listeners.push({ pair: () => {} }, { pair: (e) => pairs.push(e), baseline: (r) => baselines.push(r.id) });
  joiner.ingest([rec('s-first', 'shadow', { response_body: '{"a":2}' }), rec('s-first', 'production'), rec('p-first', 'production'), rec('p-first', 'shadow', { response_body: '{"a":3}' }), rec('z', 'baseline')]);
  assert.deepEqual(baselines, ['z']);
  assert.deepEqual(pairs.map((e) => [e.id, e.production.role, e.shadow.role]), [['s-first', 'production', 'shadow'], ['p-first', 'production', 'shadow']]);
  assert.deepEqual(pairs[0]!.comparison.diffs, [{ path: '/a', kind: 'changed', production: 1, shadow: 2 }]);
  assert.deepEqual(pairs[1]!.comparison.diffs, [{ path: '/a', kind: 'changed', production: 1, shadow: 3 }]);
  assert.deepEqual(pairs[1]!.sample, { productionLabel: null, shadowLabel: null, productionScore: 1, shadowScore: 3 });
  for (const e of pairs) {
    const row = repo.pairById(e.id)!;
    assert.equal(row.seq, e.pairSeq);
    assert.equal(row.prod_seq, repo.findSide(e.id, 'production')!.seq);
    assert.equal(row.shadow_seq, repo.findSide(e.id, 'shadow')!.seq);
    assert.equal(row.late, 0);
  }
});

test('prediction: a pair without the configured value is still a pair but not in the model metrics', () => {
  const config = parseConfig('routes:\n  predict:\n    prediction: { score: "/a" }\n');
  const { joiner, repo } = setup({ config });
  const samples: (PredictionSample | null)[] = [];
  joiner.listeners.push({ pair: (e) => samples.push(e.sample) });
  const r = joiner.ingest([rec('a', 'production'), rec('a', 'shadow', { response_body: '{"b":1}' }), rec('b', 'production'), rec('b', 'shadow')]);
  assert.equal(r.accepted, 4);
  assert.deepEqual(samples, [null, { productionLabel: null, shadowLabel: null, productionScore: 1, shadowScore: 1 }]);
  const s = route(joiner);
  assert.equal(s.pairs, 2);
  assert.equal(joiner.stats.route('predict').predictionStats().snapshot({ psi: null, ks: null }).pairs, 1);
  assert.equal([...repo.scanPredictions()].length, 1, 'only the pair with both scores is stored for the metrics');
  // A route without a prediction rule has no model metrics and hears no sample.
  const plain = setup();
  const heard: (PredictionSample | null)[] = [];
  plain.joiner.listeners.push({ pair: (e) => heard.push(e.sample) });
  plain.joiner.ingest([rec('a', 'production'), rec('a', 'shadow')]);
  assert.deepEqual(heard, [null]);
  assert.equal(plain.joiner.stats.route('predict').hasPrediction, false);
  assert.equal([...plain.repo.scanPredictions()].length, 0);
});

/** A new joiner over the same database, as a restart builds one (its constructor rebuilds from SQLite). */
function restarted(repo: Repository, start: number, windowMs = 1000) {
  const clock = { now: start };
  return { clock, repo, joiner: new Joiner(repo, new CollectorConfig(), { joinWindowMs: windowMs, maxPending: 100, clock: () => clock.now }) };
}

test('after a restart a pending side held in the cache still finds its partner in SQLite', () => {
  const first = setup({ windowMs: 1000 });
  first.joiner.ingest([rec('a', 'production', { response_body: '{"a":5}' })]);
  const second = restarted(first.repo, first.clock.now + 10);
  assert.deepEqual(second.joiner.memoryState(), { cachedPending: 1, windowBuckets: 1, lone: 1 });
  const pairs: PairEvent[] = [];
  second.joiner.listeners.push({ pair: (e) => pairs.push(e) });
  second.joiner.ingest([rec('a', 'shadow')]);
  assert.equal(route(second.joiner).pairs, 1);
  assert.equal(route(second.joiner).late, 0);
  assert.deepEqual(pairs[0]!.comparison.diffs, [{ path: '/a', kind: 'changed', production: 5, shadow: 1 }]);
  assert.deepEqual(second.joiner.memoryState(), { cachedPending: 0, windowBuckets: 1, lone: 0 });
});

test('after a restart the clock does not go back before the last stored arrival', () => {
  const first = setup({ windowMs: 1000, start: 5_000_000 });
  first.joiner.ingest([rec('a', 'production')]);
  const second = restarted(first.repo, 4_000_000);
  assert.equal(second.joiner.now(), 5_000_000);
  // The side is pending for its full window measured on the stored arrival.
  assert.equal(route(second.joiner).pending, 1);
  second.clock.now = 5_000_999;
  second.joiner.tick();
  assert.equal(route(second.joiner).pending, 1);
  second.clock.now = 5_001_000;
  second.joiner.tick();
  assert.equal(route(second.joiner).unmatched_production, 1);
});

test('a shadow side waiting on its own route stops pending there when its production partner (another route) arrives', () => {
  const { joiner } = setup();
  joiner.ingest([rec('a', 'shadow', { route: 'other' })]);
  assert.equal(joiner.stats.answer().routes.other!.pending, 1);
  joiner.ingest([rec('a', 'production')]);
  const routes = joiner.stats.answer().routes;
  assert.equal(routes.other!.pending, 0);
  assert.equal(routes.other!.unmatched_shadow, 0);
  assert.equal(routes.predict!.pairs, 1);
  assert.equal(routes.predict!.pending, 0);
});

// ---- group commit and comparisons made on the prepare thread (PreComparer), in-process ----

test('pairs compared ahead by the preparer give the same pairs, stats and samples as the joiner comparing itself', () => {
  const config = parseConfig('routes:\n  predict:\n    prediction: { score: "/a" }\n');
  const items = () => [rec('a', 'production'), rec('a', 'shadow', { response_body: '{"a":2}' }), rec('b', 'shadow'), rec('b', 'production', { status: 500 })];
  const own = setup({ config });
  own.joiner.ingest(items());
  const ahead = setup({ config });
  const pre = new PreComparer(config);
  const batch = prepareItems(items(), pre.find);
  assert.ok(batch.records.filter((r) => r.pair).length === 2, 'the preparer compared both pairs');
  const [outcome] = ahead.joiner.commit([batch]);
  assert.deepEqual(outcome, { result: { accepted: 4, rejected: 0, errors: [] } });
  assert.deepEqual(ahead.joiner.stats.answer(), own.joiner.stats.answer());
  const s = route(ahead.joiner);
  assert.deepEqual([s.pairs, s.match, s.status_match, s.body_match], [2, 0, 1, 1]);
  assert.deepEqual(s.fields, [{ path: '/a', diffs: 1 }]);
  for (const id of ['a', 'b']) {
    const { seq: _a, ...mine } = own.repo.pairById(id)!;
    const { seq: _b, ...theirs } = ahead.repo.pairById(id)!;
    assert.deepEqual(theirs, mine, id);
  }
  assert.deepEqual([...ahead.repo.scanPredictions()].map((p) => [p.productionScore, p.shadowScore]), [[1, 2], [1, 1]]);
});

test('an outcome compared against another side than the one the joiner joins is not used', () => {
  // The first production copy of "a" is held by the preparer but rejected by the route cap;
  // the second copy (a known route) is the one stored, and the shadow joins that one.
  const config = new CollectorConfig();
  const { joiner, repo } = setupWith({ maxRoutes: 1 }, config);
  joiner.ingest([rec('known', 'production')]);
  const pre = new PreComparer(config);
  const r1 = joiner.commit([prepareItems([rec('a', 'production', { route: 'other', response_body: '{"a":9}' })], pre.find)]);
  assert.equal((r1[0] as { result: { rejected: number } }).result.rejected, 1);
  joiner.commit([prepareItems([rec('a', 'production')], pre.find)]);
  const batch = prepareItems([rec('a', 'shadow')], pre.find);
  assert.equal(JSON.parse(batch.records[0]!.pair!.diffs)[0].path, '/a', 'the preparer compared with the rejected copy');
  joiner.commit([batch]);
  assert.equal(repo.pairById('a')!.match, 1, 'compared with the stored copy');
  assert.equal(route(joiner).match, 1);
});

test('group commit: each batch gets its own answer; a failing record fails only its own batch\'s record; storage failure fails all', () => {
  const { joiner, repo } = setup();
  let mode: 'ours' | 'storage' | null = 'ours';
  joiner.listeners.push({
    pair: (e) => {
      if (mode === 'ours' && e.id === 'bad') throw new TypeError('listener bug');
      if (mode === 'storage' && e.id === 's') repo.db.prepare('SELECT * FROM no_such_table').get();
    },
  });
  const out = joiner.commit([
    prepareItems([rec('a', 'production'), rec('a', 'shadow')]),
    prepareItems([{ index: 0, value: { v: 1 } }, { ...rec('bad', 'production'), index: 1 }, { ...rec('bad', 'shadow'), index: 2 }]),
    prepareItems([rec('c', 'production')]),
  ]);
  assert.deepEqual(out[0], { result: { accepted: 2, rejected: 0, errors: [] } });
  const second = (out[1] as { result: { accepted: number; errors: { index: number }[] } }).result;
  assert.equal(second.accepted, 1);
  assert.deepEqual(second.errors.map((e) => e.index), [0, 2]);
  assert.deepEqual(out[2], { result: { accepted: 1, rejected: 0, errors: [] } });
  assert.deepEqual([route(joiner).pairs, route(joiner).production, route(joiner).shadow], [1, 3, 1]);
  mode = 'storage';
  const failed = joiner.commit([prepareItems([rec('s', 'production'), rec('s', 'shadow')]), prepareItems([rec('t', 'production')])]);
  assert.equal(failed.length, 2);
  for (const o of failed) assert.equal(('error' in o ? (o.error as Error).constructor.name : 'result'), 'SqliteError');
  assert.deepEqual([route(joiner).pairs, route(joiner).production, route(joiner).shadow], [1, 3, 1], 'nothing of the group committed');
  assert.equal(repo.findSide('t', 'production'), undefined);
  assert.deepEqual(joiner.commit([]), []);
});

test('rejections of the route cap and of validation come back in index order', () => {
  const { joiner } = setupWith({ maxRoutes: 1 });
  const r = joiner.ingest([{ ...rec('x', 'production', { route: 'one' }), index: 0 }, { index: 50, value: { v: 1 } }, { ...rec('y', 'production', { route: 'two' }), index: 1 }, { ...rec('z', 'production', { route: 'three' }), index: 60 }]);
  assert.deepEqual(r.errors.map((e) => e.index), [1, 50, 60]);
  assert.equal(r.accepted, 1);
});

test('rebuild() restores every kind of pair as it was counted: status and body matches, late, field paths, model metrics', async () => {
  const config = parseConfig('routes:\n  predict:\n    prediction: { score: "/a" }\n');
  const first = setup({ windowMs: 1000, config, file: join(dir, 'restart-kinds.db') });
  first.joiner.ingest([
    rec('same', 'production'), rec('same', 'shadow'), // match
    rec('status', 'production'), rec('status', 'shadow', { status: 500 }), // status only differs
    rec('body', 'production'), rec('body', 'shadow', { response_body: '{"a":2}' }), // body differs at /a
    rec('late', 'production'),
  ]);
  first.clock.now += 5000;
  first.joiner.tick();
  first.joiner.ingest([rec('late', 'shadow')]);
  const before = first.joiner.stats.answer().routes.predict!;
  const predictionsBefore = first.joiner.stats.route('predict').predictionStats().snapshot({ psi: null, ks: null });
  assert.equal(before.pairs, 4);
  assert.equal(before.status_match, 3);
  assert.equal(before.body_match, 3);
  assert.equal(before.match, 2, 'same and late match; status and body do not');
  assert.equal(before.late, 1);
  assert.deepEqual(before.fields, [{ path: '/a', diffs: 1 }]);
  assert.equal(predictionsBefore.pairs, 4);
  await first.repo.close();
  open.splice(open.indexOf(first.repo), 1);

  const second = setup({ windowMs: 1000, config, file: first.file, start: first.clock.now });
  assert.deepEqual(second.joiner.stats.answer().routes.predict, before);
  assert.deepEqual(second.joiner.stats.route('predict').predictionStats().snapshot({ psi: null, ks: null }), predictionsBefore);
});
