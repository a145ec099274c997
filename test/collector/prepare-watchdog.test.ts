// The prepare supervisor's watchdog, in process with real threads: which bound applies
// to a thread that has not said it is ready, and that a long backlog behind a thread
// that answers steadily is not taken for a hang. The collector-level case (a thread
// that spins with bodies in flight) is in test/faults/prepare-thread.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { CollectorConfig } from '../../src/collector/config.js';
import { PrepareSupervisor, type LossCause, type PreparedWhere, type PrepareObserver, type SupervisorTiming } from '../../src/collector/ingest/prepare-supervisor.js';
import { prepareBodyHere } from '../../src/collector/ingest/prepare-body.js';
import { TEST_CRASH_ENV } from '../../src/collector/ingest/prepare-test-crash.js';
import type { CollectorLogger } from '../../src/collector/log.js';
import { rec } from './helpers.js';

interface Seen extends PrepareObserver {
  where: PreparedWhere[];
  losses: LossCause[];
  restarts: number;
  /** Times a thread said it was ready. */
  readies: number;
}

function observer(): Seen {
  return {
    where: [],
    losses: [],
    restarts: 0,
    readies: 0,
    prepared(w) {
      this.where.push(w);
    },
    lost(c) {
      this.losses.push(c);
    },
    restarted() {
      this.restarts++;
    },
    running(up) {
      if (up) this.readies++;
    },
  };
}

async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The thread and the watchdog's timer are unref'd (a collector's server keeps it alive); here a timer does. */
function keepAlive(t: { after: (fn: () => void) => void }): void {
  const timer = setInterval(() => {}, 1000);
  t.after(() => clearInterval(timer));
}

function capturingLogger(): { logger: CollectorLogger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

type TestContext = { after: (fn: () => unknown) => void };

/** A supervisor whose threads crash as SHADOWMESH_TEST_PREPARE_CRASH=plan says, with its observer and log lines. */
function crashingSupervisor(t: TestContext, plan: string, timing: Partial<SupervisorTiming>): { sup: PrepareSupervisor; seen: Seen; lines: Array<Record<string, unknown>> } {
  process.env[TEST_CRASH_ENV] = plan;
  t.after(() => {
    delete process.env[TEST_CRASH_ENV];
  });
  keepAlive(t);
  const seen = observer();
  const { logger, lines } = capturingLogger();
  const sup = new PrepareSupervisor(new CollectorConfig().file, { mode: 'on', logger, observer: seen, timing });
  t.after(() => sup.close());
  return { sup, seen, lines };
}

test('watchdog: a thread that hangs before it is ready is held to the start bound, not the shorter one; its body is prepared on the main thread', { timeout: 60_000 }, async (t) => {
  const { sup, seen, lines } = crashingSupervisor(t, 'start:spin', { hungAfterMs: 200, startHungAfterMs: 700, giveUpAfter: 1 });
  const batch = await sup.prepare(JSON.stringify([rec({ id: 's1', role: 'production' })]), false);
  assert.equal(batch.records.length, 1);
  assert.equal(batch.records[0]!.record?.id, 's1');
  assert.deepEqual(seen.losses, ['hung']);
  assert.deepEqual(seen.where, ['main_thread']);
  const lost = lines.filter((l) => l.msg === 'prepare thread lost');
  assert.equal(lost.length, 1);
  assert.equal(lost[0]!.cause, 'hung');
  assert.equal(lost[0]!.was_ready, false);
  assert.match(String(lost[0]!.problem), /\(bound 700 ms\)$/);
  assert.equal(lost[0]!.bodies_rerun_on_main_thread, 1);
  // giveUpAfter 1: a thread that never got ready is short-lived, so no new one.
  assert.equal(lost[0]!.next, 'main thread from now on');
  assert.equal(sup.mode, 'main_thread');
});

test('watchdog: a backlog that takes the thread many times the bound in all, answered steadily, is not a hang', { timeout: 120_000 }, async (t) => {
  const hungAfterMs = 300;
  const text = JSON.stringify(
    Array.from({ length: 100 }, (_, i) => rec({ id: `b${i}`, role: i % 2 ? 'shadow' : 'production', response_body: JSON.stringify({ i, pad: 'x'.repeat(200), a: [1, 2, 3] }) })),
  );
  // Enough bodies that the thread needs about ten bounds for them all (estimated from
  // this body's warm cost here), each one far below the bound.
  for (let i = 0; i < 20; i++) prepareBodyHere(text, false);
  const t0 = performance.now();
  for (let i = 0; i < 10; i++) prepareBodyHere(text, false);
  const each = (performance.now() - t0) / 10;
  const n = Math.min(5000, Math.max(50, Math.ceil((10 * hungAfterMs) / each)));
  t.diagnostic(`${each.toFixed(2)} ms a body here, ${n} bodies at once`);

  keepAlive(t);
  const seen = observer();
  const { logger, lines } = capturingLogger();
  const sup = new PrepareSupervisor(new CollectorConfig().file, { mode: 'on', logger, observer: seen, timing: { hungAfterMs } });
  t.after(() => sup.close());
  // The thread started and ready first: the start bound is not what this is about.
  await sup.prepare(text, false);
  const started = performance.now();
  // Counted, not kept: thousands of prepared batches would only fill the heap.
  const counts = await Promise.all(Array.from({ length: n }, () => sup.prepare(text, false).then((b) => b.records.length)));
  t.diagnostic(`the backlog took ${(performance.now() - started).toFixed(0)} ms`);
  assert.ok(counts.every((c) => c === 100));
  assert.deepEqual(seen.losses, [], JSON.stringify(lines));
  assert.equal(seen.where.length, n + 1);
  assert.ok(seen.where.every((w) => w === 'thread'));
});

test('watchdog: threads that are ready but hang on the first body they get count as short-lived, so the main thread takes over for good', { timeout: 60_000 }, async (t) => {
  // Each hang takes longer than shortLifeMs, as with the defaults (10 s each).
  const { sup, seen, lines } = crashingSupervisor(t, 'marker', { hungAfterMs: 300, shortLifeMs: 100, firstDelayMs: 10, giveUpAfter: 3 });
  const good = JSON.stringify([rec({ id: 'g1', role: 'production' })]);
  const spin = (i: number): string => JSON.stringify([rec({ id: `h${i}`, role: 'production', response_body: 'shadowmesh-test-crash:spin' })]);

  assert.equal((await sup.prepare(good, false)).records.length, 1);
  assert.deepEqual(seen.where, ['thread']);
  // A thread that answered a body, then hung: it lived long, a new one follows.
  assert.equal((await sup.prepare(spin(0), false)).records[0]!.record?.id, 'h0');
  for (let i = 1; i <= 3; i++) {
    await until(() => seen.readies === i + 1, `thread ${i + 1} ready`);
    assert.equal((await sup.prepare(spin(i), false)).records[0]!.record?.id, `h${i}`);
  }
  assert.deepEqual(seen.losses, ['hung', 'hung', 'hung', 'hung']);
  assert.equal(seen.restarts, 3);
  const lost = lines.filter((l) => l.msg === 'prepare thread lost');
  assert.ok(lost.every((l) => l.was_ready === true && Number(l.lived_ms) >= 300), JSON.stringify(lost));
  assert.deepEqual(lost.map((l) => l.bodies_answered), [1, 0, 0, 0]);
  assert.deepEqual(lost.map((l) => l.short_lived_in_a_row), [0, 1, 2, 3]);
  assert.equal(lost[3]!.next, 'main thread from now on');
  assert.equal(sup.mode, 'main_thread');
  // From now on every body is prepared here, and no thread is started again.
  assert.equal((await sup.prepare(good, false)).records.length, 1);
  assert.equal(seen.where.at(-1), 'main_thread');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(seen.readies, 4);
});
