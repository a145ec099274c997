// Plugin removal (Envoy/Istio replacing the plugin): the root answers proxy_on_done with
// false while records are queued or calls are in flight, flushes, and calls proxy_done when
// the last answer arrives or its deadline passes. Nothing recorded before the removal is lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFilter, exchange, type TestVM, type RecordJson } from './support/vm.js';

function records(vm: TestVM, into: RecordJson[]): void {
  for (const c of vm.takeHttpCalls('collector')) {
    into.push(...(JSON.parse(c.bodyText) as RecordJson[]));
    vm.respond(c, { status: 200, body: '{}' });
  }
}

test('removed with queued records, a batch in flight and unanswered copies: every record reaches the collector, then proxy_done', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', batch_max_records: 4, flush_interval_ms: 60000 });
  for (let i = 0; i < 6; i++) exchange(vm, { headers: [['x-request-id', `rl-${i}`]] });
  // 6 production records: one batch of 4 is in flight (unanswered), 2 are queued; 6 copies wait.
  const inFlight = vm.takeHttpCalls('collector');
  assert.equal(inFlight.length, 1);
  const copies = vm.takeHttpCalls('shadow');
  assert.equal(copies.length, 6);

  assert.equal(vm.close(), false, 'not done yet: proxy_on_done answered false');
  assert.equal(vm.closed, false);
  const got: RecordJson[] = [];
  records(vm, got); // the 2 queued records were flushed by on_done
  for (const c of inFlight) {
    got.push(...(JSON.parse(c.bodyText) as RecordJson[]));
    vm.respond(c, { status: 200, body: '{}' });
  }
  for (const c of copies) {
    vm.respond(c, { status: 201, body: 'shadow' });
    assert.equal(vm.closed, false, 'a copy answered, its record sent, not yet taken');
    records(vm, got);
  }
  assert.equal(vm.closed, true, 'proxy_done after the last answer; the host deleted the root');
  assert.equal(got.length, 12);
  for (let i = 0; i < 6; i++) {
    assert.deepEqual(got.filter((r) => r.id === `rl-${i}`).map((r) => r.role).sort(), ['production', 'shadow']);
  }
  assert.equal(got.find((r) => r.role === 'shadow')!.status, 201);
  assert.equal(vm.httpCalls.length, 0);
});

test('removed with nothing outstanding: done at once', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow' });
  exchange(vm, { headers: [['x-request-id', 'idle-1']] });
  for (const c of vm.takeHttpCalls('shadow')) vm.respond(c, { status: 200 });
  vm.tick();
  for (const c of vm.takeHttpCalls('collector')) vm.respond(c, { status: 200 });
  assert.equal(vm.close(), true);
  assert.equal(vm.closed, true);
});

test('a copy that never answers: proxy_done once the deadline (shadow timeout + collector timeout) passed; the call is then cancelled', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', shadow_timeout_ms: 2000, flush_interval_ms: 60000 });
  exchange(vm, { headers: [['x-request-id', 'stuck-1']] });
  assert.equal(vm.httpCalls.filter((c) => c.cluster === 'shadow').length, 1);
  assert.equal(vm.close(), false);
  const got: RecordJson[] = [];
  records(vm, got);
  assert.equal(got.length, 1, 'the production record was flushed at once');
  vm.advance(11000);
  assert.equal(vm.closed, false, 'still waiting within 2 s + 10 s');
  vm.advance(1500);
  assert.equal(vm.closed, true, 'gave up at the deadline');
  assert.equal(vm.httpCalls.length, 0, 'the host cancelled the copy');
});

test('a stream still running when the plugin is removed is recorded and flushed before proxy_done', async () => {
  const vm = await startFilter({ flush_interval_ms: 60000 });
  exchange(vm, { headers: [['x-request-id', 'before']] });
  const s = vm.stream();
  s.sendRequestHeaders([[':method', 'GET'], [':path', '/late'], [':authority', 'api'], ['x-request-id', 'late']], { endOfStream: true });
  assert.equal(vm.close(), false);
  const got: RecordJson[] = [];
  const [batch] = vm.takeHttpCalls('collector');
  s.sendResponseHeaders([[':status', '200']], { endOfStream: true });
  s.complete();
  got.push(...(JSON.parse(batch!.bodyText) as RecordJson[]));
  vm.respond(batch!, { status: 200 });
  assert.equal(vm.closed, false, 'the late record is queued');
  vm.advance(1000); // ticks come every second while removed
  records(vm, got);
  assert.equal(vm.closed, true);
  assert.deepEqual(got.map((r) => r.id).sort(), ['before', 'late']);
});

test('a baseline copy still in flight also keeps the removed root until its record is delivered', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', baseline_cluster: 'baseline', flush_interval_ms: 60000 },
    { clusters: ['shadow', 'baseline', 'collector'] });
  exchange(vm, { headers: [['x-request-id', 'bl-1']] });
  for (const c of vm.takeHttpCalls('shadow')) vm.respond(c, { status: 200 });
  const [baseline] = vm.takeHttpCalls('baseline');
  assert.ok(baseline);
  assert.equal(vm.close(), false);
  const got: RecordJson[] = [];
  records(vm, got);
  assert.equal(vm.closed, false, 'the baseline copy is unanswered');
  vm.respond(baseline, { status: 200, body: 'base' });
  records(vm, got);
  assert.equal(vm.closed, true);
  assert.deepEqual(got.map((r) => r.role).sort(), ['baseline', 'production', 'shadow']);
});
