// Durations come from the monotonic clock (WASI clock_time_get, clock 1); ts_ms from wall
// time. A wall clock stepped backwards mid-request (NTP) must not change a latency.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFilter, flushRecords, START_MS } from './support/vm.js';

test('wall clock stepped back 5 s mid-request: production and shadow latencies still count the real 30 ms and 12 ms', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow' });
  const s = vm.stream();
  s.sendRequestHeaders([[':method', 'GET'], [':path', '/predict'], [':authority', 'api'], ['x-request-id', 'ntp-1']], { endOfStream: true });
  const [copy] = vm.takeHttpCalls('shadow');
  vm.advance(12);
  vm.jumpWallClock(-5000);
  vm.respond(copy!, { status: 200, body: 'shadow' });
  vm.advance(18);
  s.sendResponseHeaders([[':status', '200']], { endOfStream: true });
  s.complete();
  const recs = flushRecords(vm);
  const prod = recs.find((r) => r.role === 'production')!;
  const shadow = recs.find((r) => r.role === 'shadow')!;
  assert.equal(prod.latency_ms, 30);
  assert.equal(shadow.latency_ms, 12);
  assert.equal(prod.ts_ms, START_MS, 'ts_ms is the wall time at the request start');
  assert.equal(shadow.ts_ms, START_MS);
});

test('a wall clock stepped forwards does not inflate a latency either; ts_ms follows the wall clock', async () => {
  const vm = await startFilter({});
  vm.jumpWallClock(3_600_000);
  const s = vm.stream();
  s.sendRequestHeaders([[':method', 'GET'], [':path', '/p'], [':authority', 'api'], ['x-request-id', 'ntp-2']], { endOfStream: true });
  vm.advance(7);
  vm.jumpWallClock(60_000);
  s.sendResponseHeaders([[':status', '204']], { endOfStream: true });
  s.complete();
  const [rec] = flushRecords(vm);
  assert.equal(rec!.latency_ms, 7);
  assert.equal(rec!.ts_ms, START_MS + 3_600_000);
});
