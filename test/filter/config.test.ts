// Configuration through the host: bad input is refused with one error line naming
// the key, never a trap; an empty configuration means all defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFilter, exchange, flushRecords } from './support/vm.js';

const BAD: [unknown, string, RegExp][] = [
  [{ sample_pct: 5 }, 'sample_pct', /not a known configuration key/],
  [{ sample_percent: '50' }, 'sample_percent', /must be a number/],
  [{ sample_percent: 250 }, 'sample_percent', /from 0 to 100/],
  [{ role: 'canary' }, 'role', /"production", "shadow" or "auto"/],
  [{ shadow_cluster: 7 }, 'shadow_cluster', /must be a string/],
  [{ routes: [] }, 'routes', /must not be empty/],
  [{ routes: [{ name: 'a', path_prefix: '/a', methods: 'GET' }] }, 'routes[0].methods', /must be an array/],
  [{ routes: [{ name: 'a', prefix: '/a' }] }, 'routes[0].prefix', /not a known route key/],
  [{ max_body_bytes: -1 }, 'max_body_bytes', /must be from 0/],
  [{ max_body_bytes: 1048577 }, 'max_body_bytes', /must be from 0 to 1048576/],
  [{ body_budget_bytes: '1' }, 'body_budget_bytes', /must be an integer/],
  [{ body_budget_bytes: 134217729 }, 'body_budget_bytes', /must be from 0 to 134217728/],
  [{ batch_max_records: 2.5 }, 'batch_max_records', /must be an integer/],
  [{ strip_headers: ['ok', 'not ok'] }, 'strip_headers[1]', /header name/],
  [{ collector_path: 'records' }, 'collector_path', /path starting with \//],
  [{ flush_interval_ms: 0 }, 'flush_interval_ms', /must be from 1/],
  [{ redact_headers: 'cookie' }, 'redact_headers', /must be an array/],
  [{ baseline_cluster: 5 }, 'baseline_cluster', /must be a string/],
  [{ baseline_cluster: 'has space' }, 'baseline_cluster', /cluster name/],
  [{ baseline_authority: 'b' }, 'baseline_authority', /needs "baseline_cluster"/],
  [{ shadow_breaker: 20 }, 'shadow_breaker', /must be an object/],
  [{ shadow_breaker: { failures: -1 } }, 'shadow_breaker.failures', /from 0 to/],
  [{ shadow_breaker: { failures: 3, cooldown: 10 } }, 'shadow_breaker.cooldown', /not a known shadow_breaker key/],
  [{ shadow_breaker: { cooldown_ms: 1.5 } }, 'shadow_breaker.cooldown_ms', /must be an integer/],
  [{ strip_trace_headers: 'no' }, 'strip_trace_headers', /must be a boolean/],
  [{ debug_response_header: true }, 'debug_response_header', /must be a string/],
  [{ debug_response_header: 'x y' }, 'debug_response_header', /header name/],
  [{ mesh_mirror_cluster_header: 'x-mirror' }, 'mesh_mirror_cluster_header', /together with "mesh_mirror_cluster"/],
  [{ mesh_mirror_cluster: 'shadow' }, 'mesh_mirror_cluster', /together with "mesh_mirror_cluster_header"/],
  [{ mesh_mirror_cluster: 'shadow', mesh_mirror_cluster_header: 'x-m', shadow_cluster: 'shadow' }, 'mesh_mirror_cluster_header', /cannot be used with "shadow_cluster"/],
];

for (const [config, key, what] of BAD) {
  test(`rejects ${JSON.stringify(config)} naming "${key}"`, async () => {
    const vm = await startFilter(config);
    assert.equal(vm.configured, false);
    assert.equal(vm.failed, false);
    const errors = vm.logsAt('error');
    assert.equal(errors.length, 1, `one error line, got ${JSON.stringify(vm.logs)}`);
    assert.ok(errors[0]!.includes(`"${key}"`), errors[0]);
    assert.match(errors[0]!, what);
    assert.equal(vm.logs.length, 1, 'nothing else is logged');
  });
}

test('rejects text that is not JSON, with the position', async () => {
  const vm = await startFilter('{"role": "auto",');
  assert.equal(vm.configured, false);
  const errors = vm.logsAt('error');
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /not valid JSON.*at byte \d+/);
});

test('rejects a JSON value that is not an object', async () => {
  const vm = await startFilter('["role"]');
  assert.equal(vm.configured, false);
  assert.match(vm.logsAt('error')[0]!, /must be a JSON object/);
});

test('binary garbage and deep nesting are refused without a trap', async () => {
  for (const cfg of [new Uint8Array([0xff, 0x00, 0x7b, 0x22]), '['.repeat(5000), '{"a":' + '"\\'.repeat(100)]) {
    const vm = await startFilter(cfg);
    assert.equal(vm.configured, false);
    assert.equal(vm.failed, false);
    assert.equal(vm.logsAt('error').length, 1);
  }
});

test('an empty configuration means all defaults', async () => {
  const vm = await startFilter(undefined);
  assert.equal(vm.configured, true);
  assert.deepEqual(vm.logs, []);
  assert.equal(vm.tickPeriodMs, 1000);
  const { stream } = exchange(vm, { headers: [['x-request-id', 'd-1']] });
  assert.equal(stream.requestHeader('x-shadow-correlation-id'), 'd-1');
  const recs = flushRecords(vm);
  assert.equal(recs.length, 1, 'sample_percent 100, no routes: recorded');
  assert.equal(vm.httpCalls.length, 0, 'no shadow_cluster: no copy');
});

test('the root id the host gives does not matter (Istio passes an empty one)', async () => {
  for (const rootId of ['', 'shadowmesh', 'anything']) {
    const vm = await startFilter({ sample_percent: 100 }, { rootId });
    assert.equal(vm.configured, true, rootId);
    exchange(vm, { headers: [['x-request-id', 'root']] });
    assert.equal(flushRecords(vm).length, 1);
  }
});

test('the counters are defined at configure time, at zero', async () => {
  const vm = await startFilter({});
  for (const name of ['shadowmesh_mirrored_total', 'shadowmesh_sampled_out_total', 'shadowmesh_shadow_failures_total',
    'shadowmesh_body_too_large_total', 'shadowmesh_records_sent_total', 'shadowmesh_records_dropped_total',
    'shadowmesh_collector_failures_total', 'shadowmesh_baseline_copies_total', 'shadowmesh_baseline_failures_total',
    'shadowmesh_breaker_skipped_total', 'shadowmesh_breaker_opened_total', 'shadowmesh_baseline_breaker_skipped_total',
    'shadowmesh_control_malformed_total']) {
    assert.equal(vm.metric(name), 0, name);
    assert.equal(vm.metrics.get(name)?.type, 'counter');
  }
});
