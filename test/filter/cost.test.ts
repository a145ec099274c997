// What a request costs the host, in counts (never timings): host calls per request
// for the common cases, and no logging on the request path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFilter, exchange } from './support/vm.js';

function mirroredGets(vm: Awaited<ReturnType<typeof startFilter>>, n: number, from: number): void {
  for (let i = 0; i < n; i++) {
    exchange(vm, { headers: [['x-request-id', `cost-${from + i}`]], responseHeaders: [['content-type', 'application/json']], responseBody: '{"ok":true}' });
    for (const c of vm.takeHttpCalls('shadow')) vm.respond(c, { status: 200, body: '{"ok":true}' });
    for (const c of vm.takeHttpCalls('collector')) vm.respond(c, { status: 200 });
  }
}

test('a mirrored GET with a small response costs at most 12 host calls (flush amortized)', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow' });
  mirroredGets(vm, 64, 0);
  vm.resetHostCalls();
  mirroredGets(vm, 640, 64);
  vm.tick();
  const perRequest = vm.hostCalls / 640;
  assert.ok(perRequest <= 12, `${perRequest} host calls per request`);
  assert.equal(vm.metric('shadowmesh_mirrored_total'), 704);
});

test('an unsampled request costs 2 host calls (read headers, add the correlation header)', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', sample_percent: 0 });
  vm.resetHostCalls();
  for (let i = 0; i < 100; i++) exchange(vm, { headers: [['x-request-id', `u-${i}`]], responseBody: 'x' });
  assert.equal(vm.hostCalls, 200);
});

test('a request no route matches costs 1 host call', async () => {
  const vm = await startFilter({ routes: [{ name: 'r', path_prefix: '/only' }] });
  vm.resetHostCalls();
  for (let i = 0; i < 100; i++) exchange(vm, { path: '/other', method: 'POST', body: 'abc', responseBody: 'x' });
  assert.equal(vm.hostCalls, 100);
});
