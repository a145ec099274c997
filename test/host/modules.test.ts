// Real modules in the host: the shadowmesh filter (build/shadowmesh.wasm, `npm run build:wasm`)
// and a filter built on the published AssemblyScript SDK 0.1.8, ABI 0.2.0
// (bench/sdk-baseline/build/sdk_filter.wasm, `npm --prefix bench/sdk-baseline ci && npm --prefix bench/sdk-baseline run build`).
// Both must be built before this file runs; a missing file fails with the command to build it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { TestVM } from '../../src/host/testing.js';
import { wat } from './wat.js';

const FILTER = 'build/shadowmesh.wasm';
const SDK = 'bench/sdk-baseline/build/sdk_filter.wasm';
const REQ: [string, string][] = [[':method', 'POST'], [':path', '/predict'], [':authority', 'api'], ['x-request-id', 'req-123']];

function need(path: string, build: string): void {
  assert.ok(existsSync(path), `${path} is missing: build it with \`${build}\``);
}

test('the shadowmesh filter (ABI 0.2.1) loads, configures and passes a request through without trapping', async () => {
  need(FILTER, 'npm run build:wasm');
  const vm = await TestVM.start({ wasm: FILTER, config: { shadow_cluster: 'shadow' }, clusters: ['shadow', 'collector'] });
  assert.equal(vm.plugin?.abiVersion, '0.2.1');
  assert.equal(vm.configured, true, vm.rejection);
  const s = vm.stream();
  assert.equal(s.sendRequestHeaders(REQ), 0);
  assert.equal(s.sendRequestBody('{"x":1}', { endOfStream: true }), 0);
  assert.equal(s.requestHeader('x-shadow-correlation-id'), 'req-123', 'the correlation id is taken from x-request-id');
  assert.equal(s.sendResponseHeaders([[':status', '200']]), 0);
  assert.equal(s.sendResponseBody('{"y":2}', { endOfStream: true }), 0);
  s.complete();
  assert.equal(vm.failed, false, vm.failMessage);
  assert.equal(vm.httpCalls.filter((c) => c.cluster === 'shadow').length, 1, 'filter-driven mirroring sent one shadow copy');
});

test('the shadowmesh filter rejects an unknown configuration key (on_configure false, one error line)', async () => {
  need(FILTER, 'npm run build:wasm');
  const vm = await TestVM.start({ wasm: FILTER, config: { no_such_key: 1 } });
  assert.equal(vm.configured, false);
  assert.equal(vm.logsAt('error').length, 1);
  assert.match(vm.logsAt('error')[0]!, /no_such_key/);
});

test('a filter built with the published SDK 0.1.8 (ABI 0.2.0) loads and runs a stream', async () => {
  need(SDK, 'npm --prefix bench/sdk-baseline ci && npm --prefix bench/sdk-baseline run build');
  const vm = await TestVM.start({ wasm: SDK, clusters: ['shadow', 'collector'] });
  assert.equal(vm.plugin?.abiVersion, '0.2.0');
  assert.equal(vm.configured, true, vm.rejection);
  const s = vm.stream();
  assert.equal(s.sendRequestHeaders(REQ), 0);
  assert.equal(s.sendRequestBody('{"x":1}', { endOfStream: true }), 0);
  assert.equal(s.sendResponseHeaders([[':status', '200']]), 0);
  assert.equal(s.sendResponseBody('{"y":2}', { endOfStream: true }), 0);
  s.complete();
  assert.equal(vm.failed, false, vm.failMessage);
  const [shadow] = vm.takeHttpCalls('shadow');
  assert.ok(shadow, 'the SDK filter mirrored the request');
  assert.equal(shadow.bodyText, '{"x":1}');
  vm.respond(shadow, { status: 200, body: '{"y":2}' });
  vm.advance(1000);
  assert.equal(vm.failed, false, vm.failMessage);
  assert.equal(vm.takeHttpCalls('collector').length, 1, 'its tick flushed a record batch');
});

test('the canary VM\'s outbound calls never leave; only the worker VM\'s call reaches the data plane', async () => {
  const vm = await TestVM.start({ wasm: await wat('configure-call'), clusters: ['upstream'] });
  assert.equal(vm.httpCalls.length, 1);
  assert.equal(vm.httpCalls[0]!.header(':authority'), 'a');
});
