// Issue 14: debug_response_header (off by default) returns the correlation id to
// the caller, so one request's pair can be looked up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFilter, exchange, flushRecords } from './support/vm.js';

test('off by default: the response is not changed', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow' });
  const { stream } = exchange(vm, { headers: [['x-request-id', 'd-0']], responseHeaders: [['content-type', 'text/plain']] });
  assert.deepEqual(stream.responseHeaders, [[':status', '200'], ['content-type', 'text/plain']]);
});

test('when set, the response carries the id: a caller-sent one, x-request-id, or a new one', async () => {
  const vm = await startFilter({ debug_response_header: 'X-Shadow-Correlation-Id' });
  const mine = exchange(vm, { headers: [['x-shadow-correlation-id', 'my-own-id-1'], ['x-request-id', 'r-1']] });
  assert.equal(mine.stream.responseHeader('x-shadow-correlation-id'), 'my-own-id-1');
  const fromRid = exchange(vm, { headers: [['x-request-id', 'r-2']] });
  assert.equal(fromRid.stream.responseHeader('x-shadow-correlation-id'), 'r-2');
  const fresh = exchange(vm);
  const id = fresh.stream.responseHeader('x-shadow-correlation-id');
  assert.match(id ?? '', /^[0-9a-f]{32}$/);
  assert.equal(id, fresh.stream.requestHeader('x-shadow-correlation-id'));
  const ids = flushRecords(vm).map((r) => r.id);
  assert.deepEqual(ids, ['my-own-id-1', 'r-2', id]);
});

test('unsampled requests get it too; unmatched routes and the upstream\'s own header are left alone', async () => {
  const vm = await startFilter({ debug_response_header: 'x-debug-id', sample_percent: 0, routes: [{ name: 'p', path_prefix: '/predict' }] });
  const unsampled = exchange(vm, { path: '/predict', headers: [['x-request-id', 'u-1']] });
  assert.equal(unsampled.stream.responseHeader('x-debug-id'), 'u-1');
  const other = exchange(vm, { path: '/health', headers: [['x-request-id', 'h-1']], responseHeaders: [['x-debug-id', 'upstream']] });
  assert.equal(other.stream.responseHeader('x-debug-id'), 'upstream');
  const spoofed = exchange(vm, { path: '/predict', headers: [['x-request-id', 'u-2']], responseHeaders: [['x-debug-id', 'upstream']] });
  assert.deepEqual(spoofed.stream.responseHeaders.filter(([k]) => k === 'x-debug-id'), [['x-debug-id', 'u-2']]);
});
