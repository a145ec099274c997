// The race: the two sides of 10,000 ids, production to replica A and shadow to
// replica B, batch k of each side sent at the same moment, several batches in
// flight. Every pair must be formed exactly once: none lost, none doubled, no side
// left alone. Skipped, with the reason, where PostgreSQL cannot be started.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startReplicas } from '../support/collector-replicas.js';
import { pgClusterPerFile, pgSkip } from '../support/pg-test-cluster.js';
import { get, post, rec } from './helpers.js';
import { agreed, allPairs, sharedSeries, statsEverywhere } from './pg-helpers.js';

const cluster = pgClusterPerFile();

const IDS = 10_000;
const BATCH = 250;
const IN_FLIGHT = 4;

test(`race: both sides of ${IDS} ids to two replicas at the same moment, every pair exactly once`, { skip: pgSkip }, async (t) => {
  const db = await cluster().createDatabase('replicas_race');
  const r = await startReplicas(t, { count: 2, db, args: ['--join-window-ms', '600000'] });
  const [A, B] = r.urls() as [string, string];
  const id = (i: number) => `race-${i.toString(16).padStart(5, '0')}`;
  const side = (i: number, role: 'production' | 'shadow') =>
    rec({ id: id(i), role, route: i % 2 ? 'even' : 'odd', response_body: JSON.stringify({ n: i, v: role === 'shadow' && i % 10 === 0 ? 1 : 0 }) });

  const batches = Math.ceil(IDS / BATCH);
  let next = 0;
  let accepted = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < batches) {
        const k = next++;
        const ids = Array.from({ length: Math.min(BATCH, IDS - k * BATCH) }, (_, j) => k * BATCH + j);
        // Within a batch the shadow side comes in the reverse order, so the two
        // transactions touch the same ids from opposite ends.
        const [p, s] = await Promise.all([post(A, ids.map((i) => side(i, 'production'))), post(B, ids.reverse().map((i) => side(i, 'shadow')))]);
        assert.equal(p.status, 200, JSON.stringify(p.json));
        assert.equal(s.status, 200, JSON.stringify(s.json));
        assert.equal(p.json.rejected + s.json.rejected, 0);
        accepted += p.json.accepted + s.json.accepted;
      }
    }),
  );
  assert.equal(accepted, 2 * IDS);

  const s = await statsEverywhere(r.urls(), (x) => x.total.production === IDS && x.total.shadow === IDS && x.total.pending === 0);
  assert.equal(s.total.pairs, IDS, 'every id paired once');
  assert.equal(s.total.unmatched_production, 0);
  assert.equal(s.total.unmatched_shadow, 0);
  assert.equal(s.total.late, 0);
  assert.equal(s.routes.odd.pairs + s.routes.even.pairs, IDS);
  assert.equal(s.total.body_match, IDS - IDS / 10, 'one pair in ten differs');

  const pages = await agreed(r.urls(), (u) => allPairs(u));
  assert.equal(pages.length, IDS, 'the pages list each pair once');
  const seen = new Set(pages.map((p) => p.id));
  assert.equal(seen.size, IDS, 'no id twice');
  for (let i = 0; i < IDS; i++) assert.ok(seen.has(id(i)), `${id(i)} is paired`);
  for (const p of pages) {
    assert.ok(p.production && p.shadow, `${p.id} has both sides`);
    assert.equal(p.production.id, p.id);
    assert.equal(p.shadow.role, 'shadow');
  }
  const mismatched = await agreed(r.urls(), (u) => allPairs(u, 'mismatch=true'));
  assert.equal(mismatched.length, IDS / 10);

  const series = await agreed(r.urls(), sharedSeries, (x) => x.length > 0);
  const pairsTotal = series.filter((l) => l.startsWith('shadowmesh_pairs_total')).reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  assert.equal(pairsTotal, IDS);
  for (const probe of [0, 4321, IDS - 1]) {
    const one = await agreed(r.urls(), (u) => get(u, `/v1/pairs/${id(probe)}`).then((x) => x.json));
    assert.equal(one.production.id, id(probe));
    assert.equal(one.shadow.id, id(probe));
  }
  assert.deepEqual(await r.stop(), [0, 0]);
});
