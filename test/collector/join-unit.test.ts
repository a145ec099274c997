// The joiner in-process, with an injected clock and a real SQLite file: pairing,
// duplicates, the join window's edges (pending → unmatched, late pairs), the
// memory bound, baseline sides, and rebuild() after a restart giving the same numbers.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CollectorConfig, parseConfig } from '../../src/collector/config.js';
import { Joiner } from '../../src/collector/join/joiner.js';
import { Repository } from '../../src/collector/store/repository.js';

const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-join-'));
const open: Repository[] = [];
after(async () => {
  for (const r of open) await r.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

let files = 0;
function setup(opts: { windowMs?: number; maxPending?: number; config?: CollectorConfig; file?: string; start?: number } = {}) {
  const clock = { now: opts.start ?? 1_000_000 };
  const file = opts.file ?? join(dir, `j${files++}.db`);
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
  const first = setup({ windowMs: 1000, config });
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
