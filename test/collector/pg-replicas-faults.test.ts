// Faults under load with replicas on PostgreSQL: a replica killed with SIGKILL loses
// nothing it acknowledged and the others carry on; PostgreSQL stopped under load makes
// ingestion answer 503, and the replicas recover by themselves once it is back.
// Bounded: a few thousand records on loopback. Skipped, with the reason, where
// PostgreSQL cannot be started.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startReplicas } from '../support/collector-replicas.js';
import { ownPgCluster, pgClusterPerFile, pgSkip } from '../support/pg-test-cluster.js';
import { get, rec } from './helpers.js';
import { agreed, allPairs, postOnce, statsEverywhere } from './pg-helpers.js';

const shared = pgClusterPerFile();

type Role = 'production' | 'shadow';
interface Outcome {
  batch: number;
  status: number;
  /** The sides the batch carried. */
  sides: { id: string; role: Role }[];
  startedAt: number;
  endedAt: number;
}

const PER_BATCH = 25;
const idOf = (k: number, j: number) => `b${k}-${j}`;
/** Batch k: production sides of its own 25 ids and shadow sides of batch k-1's. */
function batch(k: number, tag: string): { id: string; role: Role }[] {
  const out: { id: string; role: Role }[] = [];
  for (let j = 0; j < PER_BATCH; j++) out.push({ id: `${tag}${idOf(k, j)}`, role: 'production' });
  if (k > 0) for (let j = 0; j < PER_BATCH; j++) out.push({ id: `${tag}${idOf(k - 1, j)}`, role: 'shadow' });
  return out;
}

/**
 * Sends batches 0..n-1 through `url` (fewer once `done()` says so), `inFlight` at a
 * time, each on a connection of its own; after a failed batch a sender waits a
 * little, as the filter waits for its next flush, instead of spinning.
 */
function load(url: string, n: number, inFlight: number, tag: string, onAnswer: (o: Outcome) => void, done: () => boolean = () => false): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let next = 0;
  return Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n && !done()) {
        const k = next++;
        const sides = batch(k, tag);
        const startedAt = performance.now();
        const ans = await postOnce(url, '/v1/records', sides.map((s) => rec({ ...s, route: 'load' }))).catch(() => ({ status: 0, json: null }));
        const o = { batch: k, status: ans.status, sides, startedAt, endedAt: performance.now() };
        if (ans.status === 200) assert.equal(ans.json.accepted, sides.length);
        outcomes.push(o);
        onAnswer(o);
        if (o.status !== 200) await new Promise((res) => setTimeout(res, 20));
      }
    }),
  ).then(() => outcomes);
}

/** Every acknowledged side is stored: paired ids from the pages, the rest looked up one by one. */
async function assertStored(url: string, acknowledged: { id: string; role: Role }[]): Promise<void> {
  const paired = new Set((await allPairs(url, 'route=load')).map((p) => p.id));
  const missing: string[] = [];
  for (const s of acknowledged) {
    if (paired.has(s.id)) continue;
    const r = await get(url, `/v1/pairs/${s.id}`);
    if (r.status !== 200 || r.json[s.role] === null) missing.push(`${s.id}/${s.role}`);
  }
  assert.deepEqual(missing, [], 'acknowledged sides are all stored');
}

test('SIGKILL of one of three replicas mid-load: nothing acknowledged is lost, the others carry on, it comes back knowing everything', { skip: pgSkip }, async (t) => {
  const db = await shared().createDatabase('replicas_sigkill');
  const r = await startReplicas(t, { count: 3, db, args: ['--join-window-ms', '600000'] });
  const BATCHES = 120;
  let acked = 0;
  let killedAt = Infinity;
  let killed!: Promise<void>;
  const outcomes = await load(r.url, BATCHES, 4, '', (o) => {
    if (o.status === 200) acked++;
    // A third of the way in, kill the first replica with requests still in flight.
    if (acked === BATCHES / 3 && killedAt === Infinity) {
      killedAt = performance.now();
      killed = r.kill9(0);
    }
  });
  await killed;
  assert.ok(killedAt < Infinity, 'the kill happened mid-load');
  const ok = outcomes.filter((o) => o.status === 200);
  const failed = outcomes.filter((o) => o.status !== 200);
  // Only batches the killed replica held at that moment may fail (at most one per
  // request in flight); every later batch finds a live replica.
  assert.ok(failed.length <= 4, `failed batches: ${failed.map((o) => `${o.batch}:${o.status}`).join(', ')}`);
  for (const o of failed) assert.ok(o.startedAt <= killedAt + 1000 && o.status === 502, `batch ${o.batch} failed with ${o.status}`);
  assert.ok(ok.filter((o) => o.startedAt > killedAt).length >= BATCHES / 2, 'the survivors took the rest of the load');

  const survivors = r.urls().slice(1);
  const acknowledged = ok.flatMap((o) => o.sides);
  const ackedProduction = new Set(acknowledged.filter((s) => s.role === 'production').map((s) => s.id)).size;
  const s = await statsEverywhere(survivors, (x) => x.total.production >= ackedProduction);
  assert.ok(s.total.production <= BATCHES * PER_BATCH, 'nothing counted twice');
  await assertStored(survivors[0]!, acknowledged);

  const back = await r.restart(0);
  const everywhere = await statsEverywhere(r.urls(), () => true);
  assert.deepEqual(everywhere, await statsEverywhere(survivors, () => true));
  assert.equal((await get(back.url, '/v1/stats')).json.total.pairs, everywhere.total.pairs);
  await assertStored(back.url, acknowledged);
  assert.deepEqual(await r.stop(), [0, 0, 0]);
});

test('PostgreSQL stopped under load: ingestion answers 503 while it is down, then recovers by itself; nothing acknowledged is lost', { skip: pgSkip }, async (t) => {
  const cluster = await ownPgCluster(t);
  const db = await cluster.createDatabase('restart_under_load');
  const r = await startReplicas(t, { count: 2, db, args: ['--join-window-ms', '600000'] });

  // Phases, by event: load runs → PostgreSQL is stopped → 503s seen → it starts again → 200s again.
  let phase: 'up' | 'stopping' | 'down' | 'starting' | 'recovered' = 'up';
  let upAcks = 0;
  let downAnswers = 0;
  let recoveredAcks = 0;
  let downFrom = 0;
  let downUntil = 0;
  const statusesWhileDown: number[] = [];
  const cycle: Promise<void>[] = [];

  // At most this many batches, fewer once 20 have been acknowledged after the restart.
  const BATCHES = 3000;
  const loadDone = load(r.url, BATCHES, 2, 'pg-', (o) => {
    if (phase === 'up' && o.status === 200 && ++upAcks === 20) {
      phase = 'stopping';
      cycle.push(
        cluster.stopServer().then(() => {
          downFrom = performance.now();
          phase = 'down';
        }),
      );
    } else if (phase === 'down' && o.startedAt > downFrom) {
      statusesWhileDown.push(o.status);
      if (++downAnswers === 10) {
        phase = 'starting';
        downUntil = performance.now();
        cycle.push(cluster.start().then(() => void (phase = 'recovered')));
      }
    } else if (phase === 'recovered' && o.status === 200 && o.startedAt > downUntil) {
      recoveredAcks++;
    }
  }, () => recoveredAcks >= 20);
  // Bounded: the load ends by itself after BATCHES batches whatever happens.
  const outcomes = await loadDone;
  await Promise.all(cycle);
  assert.equal(phase, 'recovered', `the cycle went through (phase ${phase}, ${upAcks} acks before, ${downAnswers} answers while down)`);
  assert.deepEqual([...new Set(statusesWhileDown)], [503], 'every batch sent while PostgreSQL was down answered 503');
  assert.ok(recoveredAcks >= 20, `batches acknowledged again after the restart without restarting any replica: ${recoveredAcks}`);

  const acknowledged = outcomes.filter((o) => o.status === 200).flatMap((o) => o.sides);
  const ackedProduction = new Set(acknowledged.filter((s) => s.role === 'production').map((s) => s.id)).size;
  const s = await statsEverywhere(r.urls(), (x) => x.total.production >= ackedProduction);
  assert.ok(s.total.production <= outcomes.length * PER_BATCH, 'nothing counted twice');
  for (const u of r.urls()) await assertStored(u, acknowledged);
  // Both replicas follow the database again: a side to one pairs with a side to the other, seen by both.
  assert.equal((await postOnce(r.urls()[0]!, '/v1/records', [rec({ id: 'after-restart', role: 'production', route: 'after' })])).status, 200);
  assert.equal((await postOnce(r.urls()[1]!, '/v1/records', [rec({ id: 'after-restart', role: 'shadow', route: 'after' })])).status, 200);
  const after = await statsEverywhere(r.urls(), (x) => x.total.pairs === 1, 'after');
  assert.equal(after.total.pending, 0);
  await agreed(r.urls(), (u) => get(u, '/v1/pairs/after-restart').then((x) => x.json.shadow?.id), (id) => id === 'after-restart');
  assert.deepEqual(await r.stop(), [0, 0]);
});
