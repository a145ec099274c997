// Shipping records: batches by count, by bytes and by tick; the bounded queue; a
// failing collector.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFilter, exchange, type TestVM } from './support/vm.js';

/** Bytes of the module's linear memory. */
function memoryOf(vm: TestVM): number {
  const exports = vm.plugin?.moduleExports;
  assert.ok(exports, 'the VM is running');
  return (exports.memory as WebAssembly.Memory).buffer.byteLength;
}

function run(vm: TestVM, n: number, prefix = 'r', body = ''): void {
  for (let i = 0; i < n; i++) exchange(vm, { headers: [['x-request-id', `${prefix}-${i}`]], responseBody: body });
}

test('a batch is POSTed as a JSON array with the configured headers', async () => {
  const vm = await startFilter({ collector_cluster: 'collector', collector_authority: 'collector.obs:8700', collector_path: '/v1/records', collector_token: 's3cret' });
  run(vm, 3);
  assert.equal(vm.httpCalls.length, 0, 'nothing before the tick');
  assert.equal(vm.tickPeriodMs, 1000);
  vm.advance(1000);
  const [call, ...more] = vm.takeHttpCalls('collector');
  assert.equal(more.length, 0);
  assert.equal(call!.header(':method'), 'POST');
  assert.equal(call!.header(':path'), '/v1/records');
  assert.equal(call!.header(':authority'), 'collector.obs:8700');
  assert.equal(call!.header('content-type'), 'application/json');
  assert.equal(call!.header('authorization'), 'Bearer s3cret');
  const recs = JSON.parse(call!.bodyText) as { id: string }[];
  assert.deepEqual(recs.map((r) => r.id), ['r-0', 'r-1', 'r-2']);
  vm.respond(call!, { status: 200 });
  vm.advance(1000);
  assert.equal(vm.metric('shadowmesh_records_sent_total'), 3);
  assert.equal(vm.httpCalls.length, 0, 'an empty queue sends nothing');
});

test('no authorization header without a token', async () => {
  const vm = await startFilter({});
  run(vm, 1);
  vm.tick();
  const [call] = vm.takeHttpCalls('collector');
  assert.equal(call!.header('authorization'), undefined);
});

test('flush_interval_ms sets the tick period', async () => {
  const vm = await startFilter({ flush_interval_ms: 250 });
  assert.equal(vm.tickPeriodMs, 250);
  run(vm, 1);
  vm.advance(249);
  assert.equal(vm.httpCalls.length, 0);
  vm.advance(1);
  assert.equal(vm.takeHttpCalls('collector').length, 1);
});

test('batch_max_records flushes without waiting for the tick', async () => {
  const vm = await startFilter({ batch_max_records: 4 });
  run(vm, 10);
  const calls = vm.takeHttpCalls('collector');
  assert.deepEqual(calls.map((c) => (JSON.parse(c.bodyText) as unknown[]).length), [4, 4]);
  vm.tick();
  const last = vm.takeHttpCalls('collector');
  assert.deepEqual(last.map((c) => (JSON.parse(c.bodyText) as unknown[]).length), [2]);
});

test('batch_max_bytes: a batch is sent before it would pass the limit', async () => {
  const vm = await startFilter({ batch_max_bytes: 2048 });
  run(vm, 12, 'b', 'x'.repeat(300));
  vm.tick();
  const calls = vm.takeHttpCalls('collector');
  assert.ok(calls.length >= 3, `${calls.length} batches`);
  let total = 0;
  for (const c of calls) {
    assert.ok(c.body.length <= 2048, `batch of ${c.body.length} bytes`);
    total += (JSON.parse(c.bodyText) as unknown[]).length;
  }
  assert.equal(total, 12);
});

test('a record larger than batch_max_bytes goes alone', async () => {
  const vm = await startFilter({ batch_max_bytes: 1024 });
  run(vm, 1, 'small');
  run(vm, 1, 'huge', 'y'.repeat(3000));
  run(vm, 1, 'after');
  vm.tick();
  const calls = vm.takeHttpCalls('collector');
  const sizes = calls.map((c) => (JSON.parse(c.bodyText) as { id: string }[]).map((r) => r.id));
  assert.deepEqual(sizes, [['small-0'], ['huge-0'], ['after-0']]);
});

test('max_queued_records: beyond it records are dropped and counted', async () => {
  const vm = await startFilter({ max_queued_records: 5, batch_max_records: 100 });
  run(vm, 8);
  vm.tick();
  const [call] = vm.takeHttpCalls('collector');
  assert.equal((JSON.parse(call!.bodyText) as unknown[]).length, 5);
  assert.equal(vm.metric('shadowmesh_records_dropped_total'), 3);
  // unanswered batches still count against the queue
  run(vm, 2, 'more');
  vm.tick();
  assert.equal(vm.takeHttpCalls('collector').length, 0);
  assert.equal(vm.metric('shadowmesh_records_dropped_total'), 5);
  // once the collector answers there is room again
  vm.respond(call!, { status: 200 });
  run(vm, 2, 'again');
  vm.tick();
  const [next] = vm.takeHttpCalls('collector');
  assert.equal((JSON.parse(next!.bodyText) as unknown[]).length, 2);
});

test('a failing collector: batches dropped and counted, memory and calls stay bounded', async () => {
  const vm = await startFilter({ batch_max_records: 10, max_queued_records: 50 });
  for (let round = 0; round < 30; round++) {
    run(vm, 20, `f${round}`, 'z'.repeat(100));
    vm.tick();
    const calls = vm.takeHttpCalls('collector');
    assert.ok(calls.length <= 5, `${calls.length} calls in a round`);
    calls.forEach((c, i) => {
      if (i % 3 === 0) vm.failCall(c);
      else if (i % 3 === 1) vm.respond(c, { status: 503, body: 'down' });
      else vm.timeoutCall(c);
    });
  }
  vm.tick();
  const failures = vm.metric('shadowmesh_collector_failures_total')!;
  const dropped = vm.metric('shadowmesh_records_dropped_total')!;
  assert.equal(vm.metric('shadowmesh_records_sent_total'), 0);
  assert.ok(failures >= 30 * 2, `${failures} failures`);
  assert.equal(dropped, 30 * 20, 'every record is accounted for as dropped');
  assert.equal(vm.failed, false);
  const mem = memoryOf(vm);
  assert.ok(mem <= 2 * 1024 * 1024, `memory ${mem}`);
  // nothing is retried later
  vm.advance(10_000);
  assert.equal(vm.takeHttpCalls('collector').length, 0);
});

test('an unknown collector cluster counts a failure per batch, nothing else happens', async () => {
  const vm = await startFilter({ collector_cluster: 'missing', batch_max_records: 2 });
  const all: number[] = [];
  for (let i = 0; i < 6; i++) all.push(...exchange(vm, { headers: [['x-request-id', `u-${i}`]] }).actions);
  vm.tick();
  assert.ok(all.every((a) => a === 0));
  assert.equal(vm.metric('shadowmesh_collector_failures_total'), 3);
  assert.equal(vm.metric('shadowmesh_records_dropped_total'), 6);
});

test('memory stays flat over many requests with a dead collector', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', batch_max_records: 64 });
  const memory = (): number => memoryOf(vm);
  const round = (n: number): void => {
    for (let i = 0; i < n; i++) {
      exchange(vm, { method: 'POST', body: 'q'.repeat(200), headers: [['x-request-id', `mem-${i}`]], responseBody: 'r'.repeat(500) });
      for (const c of vm.takeHttpCalls('shadow')) vm.respond(c, { status: 200, body: 'r'.repeat(500) });
      for (const c of vm.takeHttpCalls('collector')) vm.failCall(c);
    }
    vm.tick();
    for (const c of vm.takeHttpCalls('collector')) vm.failCall(c);
  };
  round(500);
  const before = memory();
  round(3000);
  const after = memory();
  assert.equal(after, before, `memory grew from ${before} to ${after}`);
  assert.equal(vm.failed, false);
});

test('interleaved shadow and collector answers: every record arrives once, the counters agree', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', batch_max_records: 8 });
  const ids = new Map<string, number>();
  let sent = 0;
  for (let i = 0; i < 300; i++) {
    exchange(vm, { headers: [['x-request-id', `il-${i}`]], responseBody: '{}' });
    for (const c of vm.takeHttpCalls('shadow')) vm.respond(c, { status: 200, body: '{}' });
    for (const c of vm.takeHttpCalls('collector')) {
      for (const r of JSON.parse(c.bodyText) as { id: string; role: string }[]) {
        const k = `${r.id}/${r.role}`;
        ids.set(k, (ids.get(k) ?? 0) + 1);
        sent++;
      }
      vm.respond(c, { status: 200 });
    }
  }
  vm.tick();
  for (const c of vm.takeHttpCalls('collector')) {
    for (const r of JSON.parse(c.bodyText) as { id: string; role: string }[]) ids.set(`${r.id}/${r.role}`, (ids.get(`${r.id}/${r.role}`) ?? 0) + 1);
    sent += (JSON.parse(c.bodyText) as unknown[]).length;
    vm.respond(c, { status: 200 });
  }
  vm.tick();
  assert.equal(ids.size, 600);
  assert.ok([...ids.values()].every((n) => n === 1));
  assert.equal(sent, 600);
  assert.equal(vm.metric('shadowmesh_records_sent_total'), 600);
  assert.equal(vm.metric('shadowmesh_mirrored_total'), 300);
  assert.equal(vm.metric('shadowmesh_records_dropped_total'), 0);
});

test('a collector call times out after 10 s (docs/filter.md), on the injected clock', async () => {
  const vm = await startFilter({ batch_max_records: 1 }, { httpCallTimeouts: true });
  run(vm, 1);
  const [call] = vm.takeHttpCalls('collector');
  assert.ok(call);
  assert.equal(call.timeoutMs, 10_000);
  vm.advance(9_999);
  assert.equal(vm.metric('shadowmesh_collector_failures_total'), 0, 'still waiting just before 10 s');
  vm.advance(1);
  vm.advance(1000); // the next tick pushes the counters
  assert.equal(vm.metric('shadowmesh_collector_failures_total'), 1, 'a failure at 10 s');
});
