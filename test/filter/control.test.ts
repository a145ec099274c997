// Remote control (contract §1, 1.1): the collector's batch answer may carry
// {"control": {"sample_percent": {ROUTE or "*": x}}}; the filter then samples at
// min(configured, x) until an answer carries another value or none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFilter, exchange, type TestVM } from './support/vm.js';

const fnv = (s: string): number => { let h = 0x811c9dc5; for (const b of Buffer.from(s)) { h ^= b; h = Math.imul(h, 16777619) >>> 0; } return h; };
const bucket = (id: string): number => fnv(id) % 10000;
let seq = 0;

/** Flushes and answers every collector call with this body (status 200 unless given). */
function answer(vm: TestVM, body: string, status = 200): number {
  vm.tick();
  const calls = vm.takeHttpCalls('collector');
  for (const c of calls) vm.respond(c, { status, body });
  return calls.length;
}

/** Sends n requests on a path; returns which ids were copied to the shadow, and the ids sent. */
function traffic(vm: TestVM, n: number, path = '/predict'): { sent: string[]; copied: string[] } {
  const sent: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `ctl-${seq++}`;
    sent.push(id);
    exchange(vm, { path, headers: [['x-request-id', id]] });
  }
  const copied = vm.takeHttpCalls('shadow').map((c) => c.header('x-shadow-correlation-id')!);
  return { sent, copied };
}

const expected = (ids: string[], percent: number): string[] => ids.filter((id) => bucket(id) < percent * 100);

/** One request sampled at `percent`, so that the next flush has a batch to be answered. */
function sampledRequest(vm: TestVM, percent: number): void {
  let id = `s-${seq++}`;
  while (bucket(id) >= percent * 100) id = `s-${seq++}`;
  exchange(vm, { headers: [['x-request-id', id]] });
  vm.takeHttpCalls('shadow');
}

test('"*": 0 pauses copies and records from the next request on; production is still tagged and untouched', async () => {
  const vm = await startFilter({ role: 'production', shadow_cluster: 'shadow', shadow_breaker: { failures: 0 } });
  assert.equal(traffic(vm, 5).copied.length, 5);
  assert.ok(answer(vm, '{"accepted":10,"rejected":0,"errors":[],"control":{"sample_percent":{"*":0}}}') > 0);
  const paused = traffic(vm, 20);
  assert.deepEqual(paused.copied, []);
  const { stream, actions } = exchange(vm, { headers: [['x-request-id', 'while-paused']] });
  assert.ok(actions.every((a) => a === 0));
  assert.equal(stream.requestHeader('x-shadow-correlation-id'), 'while-paused');
  vm.tick();
  assert.deepEqual(vm.takeHttpCalls('collector').map((c) => c.bodyText), ['[]'], 'nothing recorded while paused, only the poll');
  assert.equal(vm.metric('shadowmesh_sampled_out_total'), 21);
});

test('an answer without control restores the configured percent', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', sample_percent: 50 });
  sampledRequest(vm, 50);
  answer(vm, '{"accepted":3,"control":{"sample_percent":{"*":10}}}');
  const low = traffic(vm, 200);
  assert.deepEqual(low.copied, expected(low.sent, 10));
  answer(vm, '{"accepted":1,"rejected":0,"errors":[]}');
  const back = traffic(vm, 200);
  assert.deepEqual(back.copied, expected(back.sent, 50));
  answer(vm, '{"accepted":1,"control":{"sample_percent":{"*":20}}}');
  const again = traffic(vm, 200);
  assert.deepEqual(again.copied, expected(again.sent, 20));
  answer(vm, '{"accepted":1,"control":null}');
  const nulled = traffic(vm, 200);
  assert.deepEqual(nulled.copied, expected(nulled.sent, 50), '"control": null is no control');
  answer(vm, '{"accepted":1,"control":{"sample_percent":{"*":20}}}');
  sampledRequest(vm, 20);
  assert.equal(answer(vm, '{"accepted":1,"control":{}}'), 1);
  const empty = traffic(vm, 200);
  assert.deepEqual(empty.copied, expected(empty.sent, 50), 'a control without sample_percent lowers nothing');
});

test('per route: a route\'s own value, else "*"; never above the configuration', async () => {
  const vm = await startFilter({
    shadow_cluster: 'shadow',
    routes: [{ name: 'a', path_prefix: '/a' }, { name: 'b', path_prefix: '/b', sample_percent: 30 }, { name: 'c', path_prefix: '/c', sample_percent: 40 }],
  });
  traffic(vm, 1, '/a');
  answer(vm, '{"accepted":1,"control":{"sample_percent":{"a":15,"b":90,"unknown-route":0}}}');
  const a = traffic(vm, 300, '/a');
  assert.deepEqual(a.copied, expected(a.sent, 15));
  const b = traffic(vm, 300, '/b');
  assert.deepEqual(b.copied, expected(b.sent, 30), 'a control cannot raise b above its configured 30');
  const c = traffic(vm, 300, '/c');
  assert.deepEqual(c.copied, expected(c.sent, 40), 'no value for c and no "*": c keeps its configuration');
  answer(vm, '{"accepted":1,"control":{"sample_percent":{"*":25,"c":12.5}}}');
  const a2 = traffic(vm, 300, '/a');
  const b2 = traffic(vm, 300, '/b');
  const c2 = traffic(vm, 300, '/c');
  assert.deepEqual(a2.copied, expected(a2.sent, 25));
  assert.deepEqual(b2.copied, expected(b2.sent, 25));
  assert.deepEqual(c2.copied, expected(c2.sent, 12.5));
});

test('"*": 100 never raises a configured 30', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', sample_percent: 30 });
  sampledRequest(vm, 30);
  answer(vm, '{"accepted":1,"control":{"sample_percent":{"*":100}}}');
  const t = traffic(vm, 300);
  assert.deepEqual(t.copied, expected(t.sent, 30));
});

test('without routes only "*" applies (route names are paths there)', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow' });
  traffic(vm, 1);
  answer(vm, '{"accepted":1,"control":{"sample_percent":{"/predict":0}}}');
  assert.equal(traffic(vm, 10).copied.length, 10);
});

test('a malformed control is ignored as a whole, counted, and never traps; a failed answer changes nothing', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', sample_percent: 80 });
  sampledRequest(vm, 80);
  answer(vm, '{"accepted":1,"control":{"sample_percent":{"*":5}}}');
  const bad = [
    '{"accepted":1,"control":"pause"}',
    '{"accepted":1,"control":{"sample_percent":[0]}}',
    '{"accepted":1,"control":{"sample_percent":{"*":"0"}}}',
    '{"accepted":1,"control":{"sample_percent":{"*":150}}}',
    '{"accepted":1,"control":{"sample_percent":{"*":-1}}}',
    '{"accepted":1,"control":{"sample_percent":{"a":50,"*":null}}}',
    'accepted',
    '[1,2]',
    '{"accepted":1,"control":{"sample_percent":{"*":0}',
    '{"a":' + '['.repeat(5000),
  ];
  for (const body of bad) {
    sampledRequest(vm, 5);
    assert.ok(answer(vm, body) >= 1, body);
    assert.equal(vm.failed, false, body);
    const t = traffic(vm, 200);
    assert.deepEqual(t.copied, expected(t.sent, 5), `the previous control stays after ${body}`);
  }
  vm.tick();
  assert.equal(vm.metric('shadowmesh_control_malformed_total'), bad.length);
  // A 503 from the collector (or a proxy in front of it) is not an answer: nothing changes.
  sampledRequest(vm, 5);
  assert.ok(answer(vm, '{"accepted":1}', 503) >= 1);
  const t = traffic(vm, 200);
  assert.deepEqual(t.copied, expected(t.sent, 5));
});

test('while paused, each tick sends an empty batch (one at a time) so the resume is heard', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow' });
  sampledRequest(vm, 100);
  answer(vm, '{"accepted":1,"control":{"sample_percent":{"*":0}}}');
  assert.equal(traffic(vm, 10).copied.length, 0);
  vm.tick();
  const [poll, ...more] = vm.takeHttpCalls('collector');
  assert.equal(more.length, 0);
  assert.equal(poll!.bodyText, '[]');
  vm.tick();
  assert.equal(vm.takeHttpCalls('collector').length, 0, 'one poll out at a time');
  vm.respond(poll!, { status: 200, body: '{"accepted":0,"rejected":0,"errors":[],"control":{"sample_percent":{"*":0}}}' });
  vm.tick();
  const [poll2] = vm.takeHttpCalls('collector');
  assert.equal(poll2!.bodyText, '[]');
  vm.respond(poll2!, { status: 200, body: '{"accepted":0,"rejected":0,"errors":[]}' });
  assert.equal(traffic(vm, 10).copied.length, 10, 'resumed');
  vm.tick();
  for (const c of vm.takeHttpCalls('collector')) {
    assert.notEqual(c.bodyText, '[]');
    vm.respond(c, { status: 200, body: '{"accepted":20}' });
  }
  vm.tick();
  assert.equal(vm.takeHttpCalls('collector').length, 0, 'no control in force: no polls');
});
