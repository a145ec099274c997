// baseline_cluster / baseline_authority (contract §1, 1.1): every sampled request is
// also copied to a second production instance, marked like the shadow copy and
// recorded with role "baseline"; isolated like the shadow copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFilter, exchange, flushRecords, header, START_MS, type TestVM } from './support/vm.js';

const CORR = 'x-shadow-correlation-id';
const CLUSTERS = { clusters: ['shadow', 'baseline', 'collector'] };

async function withBaseline(config: Record<string, unknown> = {}): Promise<TestVM> {
  return startFilter({ role: 'production', shadow_cluster: 'shadow', baseline_cluster: 'baseline', ...config }, CLUSTERS);
}

test('the baseline copy: same request and id, the marker, the production authority unchanged', async () => {
  const vm = await withBaseline({ strip_headers: ['authorization'] });
  const { stream } = exchange(vm, {
    method: 'POST', path: '/predict?v=1', authority: 'model.ns:8080', body: '{"x":1}',
    headers: [['x-request-id', 'b-1'], ['authorization', 'Bearer t'], ['content-type', 'application/json']],
  });
  const [copy, ...more] = vm.takeHttpCalls('baseline');
  assert.equal(more.length, 0);
  assert.ok(copy);
  assert.equal(copy.header(':method'), 'POST');
  assert.equal(copy.header(':path'), '/predict?v=1');
  assert.equal(copy.header(':authority'), 'model.ns:8080', 'a second production instance: no -shadow');
  assert.equal(copy.header(CORR), 'b-1');
  assert.equal(copy.header('x-shadow-request'), '1');
  assert.equal(copy.header('authorization'), undefined, 'strip_headers applies to the baseline copy too');
  assert.equal(copy.bodyText, '{"x":1}');
  const [shadow] = vm.takeHttpCalls('shadow');
  assert.equal(shadow!.header(':authority'), 'model.ns-shadow:8080');
  assert.equal(shadow!.header(CORR), 'b-1');
  assert.equal(header(stream.requestHeaders, 'x-shadow-request'), undefined, 'production never carries the marker');
});

test('baseline_authority replaces the baseline copy\'s authority only', async () => {
  const vm = await withBaseline({ baseline_authority: 'model-baseline.ns' });
  exchange(vm, { authority: 'model.ns', headers: [['x-request-id', 'b-2']] });
  assert.equal(vm.takeHttpCalls('baseline')[0]!.header(':authority'), 'model-baseline.ns');
  assert.equal(vm.takeHttpCalls('shadow')[0]!.header(':authority'), 'model.ns-shadow');
});

test('three records per sampled request: production, shadow and baseline, with one id', async () => {
  const vm = await withBaseline();
  exchange(vm, { method: 'POST', path: '/score', body: '{"a":1}', headers: [['x-request-id', 'tri-1']], responseBody: '{"s":1,"t":100}' });
  const [b] = vm.takeHttpCalls('baseline');
  const [s] = vm.takeHttpCalls('shadow');
  vm.advance(7);
  vm.respond(b!, { status: 200, headers: [['content-type', 'application/json']], body: '{"s":1,"t":107}' });
  vm.respond(s!, { status: 200, body: '{"s":2,"t":107}' });
  const recs = flushRecords(vm);
  const byRole = Object.fromEntries(recs.map((r) => [r.role, r]));
  assert.deepEqual(Object.keys(byRole).sort(), ['baseline', 'production', 'shadow']);
  assert.deepEqual(byRole['baseline'], {
    v: 1, id: 'tri-1', role: 'baseline', route: '/score', method: 'POST', path: '/score', status: 200,
    latency_ms: 7, ts_ms: START_MS, response_headers: { 'content-type': 'application/json' }, response_body: '{"s":1,"t":107}',
  });
  assert.equal(byRole['shadow']!.response_body, '{"s":2,"t":107}');
  assert.equal(vm.metric('shadowmesh_baseline_copies_total'), 1);
  assert.equal(vm.metric('shadowmesh_mirrored_total'), 1);
});

test('only sampled requests are copied to the baseline', async () => {
  const vm = await withBaseline({ sample_percent: 30 });
  for (let i = 0; i < 200; i++) exchange(vm, { headers: [['x-request-id', `bs-${i}`]] });
  const shadowIds = vm.takeHttpCalls('shadow').map((c) => c.header(CORR));
  const baselineIds = vm.takeHttpCalls('baseline').map((c) => c.header(CORR));
  assert.ok(shadowIds.length > 30 && shadowIds.length < 100, String(shadowIds.length));
  assert.deepEqual(baselineIds, shadowIds);
});

test('a dead baseline gives baseline records with status 0 and never touches production or the shadow', async () => {
  const vm = await withBaseline({ shadow_breaker: { failures: 0 } });
  const actions: number[] = [];
  for (let i = 0; i < 5; i++) {
    const x = exchange(vm, { method: 'POST', body: `b${i}`, headers: [['x-request-id', `dead-${i}`]], responseBody: `p${i}` });
    actions.push(...x.actions);
    assert.equal(new TextDecoder().decode(x.stream.forwardedRequestBody), `b${i}`);
  }
  assert.ok(actions.every((a) => a === 0), 'every callback continued');
  for (const c of vm.takeHttpCalls('baseline')) vm.failCall(c);
  for (const c of vm.takeHttpCalls('shadow')) vm.respond(c, { status: 200, body: 'ok' });
  const recs = flushRecords(vm);
  const base = recs.filter((r) => r.role === 'baseline');
  assert.equal(base.length, 5);
  assert.ok(base.every((r) => r.status === 0 && r.error === 'reset'));
  assert.ok(recs.filter((r) => r.role === 'shadow').every((r) => r.status === 200));
  assert.deepEqual(recs.filter((r) => r.role === 'production').map((r) => r.response_body), ['p0', 'p1', 'p2', 'p3', 'p4']);
  assert.equal(vm.metric('shadowmesh_baseline_failures_total'), 5);
  assert.equal(vm.metric('shadowmesh_shadow_failures_total'), 0);
});

test('a baseline that never answers is capped at max_queued_records, apart from the shadow\'s cap', async () => {
  const vm = await withBaseline({ shadow_timeout_ms: 0, max_queued_records: 4, batch_max_records: 1, shadow_breaker: { failures: 0 } });
  const recs: { id: string; role: string; error?: string }[] = [];
  for (let i = 0; i < 6; i++) {
    exchange(vm, { headers: [['x-request-id', `cap-${i}`]] });
    for (const c of vm.takeHttpCalls('shadow')) vm.respond(c, { status: 200 });
    for (const c of vm.takeHttpCalls('collector')) { recs.push(...(JSON.parse(c.bodyText) as typeof recs)); vm.respond(c, { status: 200 }); }
  }
  assert.equal(vm.httpCalls.filter((c) => c.cluster === 'baseline').length, 4);
  assert.deepEqual(recs.filter((r) => r.role === 'baseline').map((r) => [r.id, r.error]), [['cap-4', 'overloaded'], ['cap-5', 'overloaded']]);
  assert.equal(recs.filter((r) => r.role === 'shadow').length, 6, 'the shadow keeps its own slots');
});

test('a baseline refused inline (unknown cluster) is recorded "rejected"', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', baseline_cluster: 'nowhere' });
  exchange(vm, { headers: [['x-request-id', 'rej']] });
  const base = flushRecords(vm).find((r) => r.role === 'baseline')!;
  assert.equal(base.status, 0);
  assert.equal(base.error, 'rejected');
});

test('a baseline without a shadow cluster still copies and records (Envoy mirrors the shadow itself)', async () => {
  const vm = await startFilter({ role: 'production', baseline_cluster: 'baseline' }, CLUSTERS);
  exchange(vm, { headers: [['x-request-id', 'only-b']] });
  assert.equal(vm.takeHttpCalls('shadow').length, 0);
  const [b] = vm.takeHttpCalls('baseline');
  vm.respond(b!, { status: 200, body: 'x' });
  assert.deepEqual(flushRecords(vm).map((r) => r.role).sort(), ['baseline', 'production']);
});

test('the shadow role never copies to the baseline', async () => {
  const vm = await startFilter({ role: 'shadow', baseline_cluster: 'baseline' }, CLUSTERS);
  exchange(vm, { headers: [['x-request-id', 'sh-side']] });
  assert.equal(vm.takeHttpCalls('baseline').length, 0);
});
