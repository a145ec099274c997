// shadow_breaker (contract §1, 1.1) through the host: a shadow that fails, then
// recovers. Skipped requests are counted and leave no record at all (no fake
// shadow failures, no production side that could never pair).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFilter, exchange, flushRecords, type TestVM, type RecordJson } from './support/vm.js';

const CORR = 'x-shadow-correlation-id';
let seq = 0;

/** One request; answers its shadow copy (if one was made) with `status`, or a reset when status is 0. */
function request(vm: TestVM, status: number): boolean {
  exchange(vm, { headers: [['x-request-id', `br-${seq++}`]] });
  const calls = vm.takeHttpCalls('shadow');
  assert.ok(calls.length <= 1);
  for (const c of calls) {
    if (status === 0) vm.failCall(c);
    else vm.respond(c, { status, body: 'x' });
  }
  return calls.length === 1;
}

test('N consecutive failures open it; skipped requests are counted, not recorded; the probe closes it', async () => {
  const vm = await startFilter({ role: 'production', shadow_cluster: 'shadow', shadow_breaker: { failures: 3, cooldown_ms: 1000 } });
  assert.equal(request(vm, 200), true);
  assert.equal(request(vm, 500), true);
  assert.equal(request(vm, 0), true);
  assert.equal(request(vm, 503), true, 'the third failure is still sent');
  const before = flushRecords(vm);
  assert.equal(before.filter((r) => r.role === 'shadow').length, 4);
  assert.equal(vm.metric('shadowmesh_breaker_opened_total'), 1);

  for (let i = 0; i < 5; i++) assert.equal(request(vm, 200), false, 'open: no copy');
  assert.deepEqual(flushRecords(vm), [], 'open: neither a production nor a shadow record');
  assert.equal(vm.metric('shadowmesh_breaker_skipped_total'), 5);
  assert.equal(vm.metric('shadowmesh_shadow_failures_total'), 1, 'only the real reset counts as a failure');

  vm.advance(999);
  assert.equal(request(vm, 200), false, 'still cooling down');
  vm.advance(1);
  // The probe: sent, and nothing else passes while it is out.
  exchange(vm, { headers: [['x-request-id', 'probe']] });
  const [probe, ...others] = vm.takeHttpCalls('shadow');
  assert.equal(others.length, 0);
  assert.equal(probe!.header(CORR), 'probe');
  assert.equal(request(vm, 200), false, 'one probe at a time');
  vm.respond(probe!, { status: 200, body: 'ok' });
  for (let i = 0; i < 4; i++) assert.equal(request(vm, 200), true, 'closed again');
  const after = flushRecords(vm);
  const ids = new Set(after.filter((r) => r.role === 'shadow').map((r) => r.id));
  assert.ok(ids.has('probe'));
  assert.equal(ids.size, 5);
  assert.equal(vm.metric('shadowmesh_breaker_skipped_total'), 7);
});

test('a failed probe opens it for another cooldown; timeouts count as failures', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', shadow_timeout_ms: 50, shadow_breaker: { failures: 2, cooldown_ms: 500 } });
  for (let i = 0; i < 2; i++) {
    exchange(vm, { headers: [['x-request-id', `to-${i}`]] });
    vm.timeoutCall(vm.takeHttpCalls('shadow')[0]!);
  }
  assert.equal(request(vm, 200), false);
  vm.advance(500);
  assert.equal(request(vm, 502), true, 'the probe');
  vm.tick();
  assert.equal(vm.metric('shadowmesh_breaker_opened_total'), 2);
  vm.advance(499);
  assert.equal(request(vm, 200), false);
  vm.advance(1);
  assert.equal(request(vm, 200), true, 'the second probe succeeds');
  assert.equal(request(vm, 200), true);
  const shadows = flushRecords(vm).filter((r: RecordJson) => r.role === 'shadow');
  assert.deepEqual(shadows.filter((r) => r.error === 'timeout').map((r) => r.id), ['to-0', 'to-1']);
});

test('copies refused inline count as failures too', async () => {
  const vm = await startFilter({ shadow_cluster: 'nowhere', shadow_breaker: { failures: 2, cooldown_ms: 1000 } });
  for (let i = 0; i < 6; i++) exchange(vm, { headers: [['x-request-id', `in-${i}`]] });
  const recs = flushRecords(vm);
  assert.equal(recs.filter((r) => r.role === 'shadow' && r.error === 'rejected').length, 2);
  assert.equal(recs.filter((r) => r.role === 'production').length, 2);
  assert.equal(vm.metric('shadowmesh_breaker_skipped_total'), 4);
});

test('{"failures": 0} turns it off', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', shadow_breaker: { failures: 0 } });
  for (let i = 0; i < 40; i++) assert.equal(request(vm, 500), true);
  vm.tick();
  assert.equal(vm.metric('shadowmesh_breaker_skipped_total'), 0);
});

test('the default opens after 20 consecutive failures', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow' });
  for (let i = 0; i < 20; i++) assert.equal(request(vm, 0), true, `copy ${i}`);
  assert.equal(request(vm, 200), false);
  vm.advance(29_999);
  assert.equal(request(vm, 200), false);
  vm.advance(1);
  assert.equal(request(vm, 200), true);
});

test('the baseline has a breaker of its own: an open one skips only the baseline copy', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', baseline_cluster: 'baseline', shadow_breaker: { failures: 1, cooldown_ms: 1000 } },
    { clusters: ['shadow', 'baseline', 'collector'] });
  exchange(vm, { headers: [['x-request-id', 'bb-0']] });
  vm.failCall(vm.takeHttpCalls('baseline')[0]!);
  vm.respond(vm.takeHttpCalls('shadow')[0]!, { status: 200 });
  exchange(vm, { headers: [['x-request-id', 'bb-1']] });
  assert.equal(vm.takeHttpCalls('baseline').length, 0);
  vm.respond(vm.takeHttpCalls('shadow')[0]!, { status: 200 });
  const recs = flushRecords(vm);
  assert.deepEqual(recs.filter((r) => r.id === 'bb-1').map((r) => r.role).sort(), ['production', 'shadow']);
  assert.equal(vm.metric('shadowmesh_baseline_breaker_skipped_total'), 1);
  assert.equal(vm.metric('shadowmesh_breaker_skipped_total'), 0);
});
