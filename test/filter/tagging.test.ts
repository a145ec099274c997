// Correlation ids, routes, roles and the promise never to hold or change production
// traffic beyond the correlation header.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFilter, exchange, flushRecords, header, type Headers } from './support/vm.js';
import { recordError } from '../../src/collector/ingest/record-schema.js';

const CORR = 'x-shadow-correlation-id';

test('keeps a valid correlation header and changes nothing else', async () => {
  const vm = await startFilter({});
  const sent: Headers = [[':method', 'GET'], [':path', '/a?b=1'], [':authority', 'api'], [CORR, 'keep.me:1-2_3'], ['x-request-id', 'other']];
  const s = vm.stream();
  assert.equal(s.sendRequestHeaders(sent, { endOfStream: true }), 0);
  assert.deepEqual(s.requestHeaders, sent);
  s.sendResponseHeaders([[':status', '200'], ['content-type', 'text/plain']], { endOfStream: true });
  assert.deepEqual(s.responseHeaders, [[':status', '200'], ['content-type', 'text/plain']]);
  s.complete();
  const recs = flushRecords(vm);
  assert.equal(recs.length, 1);
  assert.equal(recs[0]!.id, 'keep.me:1-2_3');
});

test('reuses a valid x-request-id when the correlation header is missing or invalid', async () => {
  const vm = await startFilter({});
  const a = exchange(vm, { headers: [['x-request-id', '7f0c2a1e-94b3-4bd0-9c1b-3b1f0c9e5a11']] });
  assert.equal(header(a.stream.requestHeaders, CORR), '7f0c2a1e-94b3-4bd0-9c1b-3b1f0c9e5a11');
  const b = exchange(vm, { headers: [[CORR, 'has space'], ['x-request-id', 'rid-2']] });
  assert.equal(header(b.stream.requestHeaders, CORR), 'rid-2');
  assert.equal(b.stream.requestHeaders.filter(([k]) => k === CORR).length, 1, 'the invalid one is replaced, not duplicated');
  const recs = flushRecords(vm);
  assert.deepEqual(recs.map((r) => r.id).sort(), ['7f0c2a1e-94b3-4bd0-9c1b-3b1f0c9e5a11', 'rid-2']);
});

test('makes a new 32-hex-digit id from WASI random when no valid id arrives', async () => {
  const vm = await startFilter({});
  const ids = new Set<string>();
  for (const bad of [undefined, 'x'.repeat(129), 'é', '']) {
    const headers: Headers = bad === undefined ? [] : [['x-request-id', bad]];
    const { stream } = exchange(vm, { headers });
    const id = header(stream.requestHeaders, CORR);
    assert.match(id ?? '', /^[0-9a-f]{32}$/);
    ids.add(id!);
  }
  assert.equal(ids.size, 4, 'ids differ');
});

test('uses a configured correlation header name', async () => {
  const vm = await startFilter({ correlation_header: 'X-Trace-Id' });
  const { stream } = exchange(vm, { headers: [['x-request-id', 'r-9']] });
  assert.equal(header(stream.requestHeaders, 'x-trace-id'), 'r-9');
  assert.equal(header(stream.requestHeaders, CORR), undefined);
});

test('routes: first match wins, methods filter, no match passes untouched', async () => {
  const vm = await startFilter({
    shadow_cluster: 'shadow',
    routes: [
      { name: 'predict-post', path_prefix: '/predict', methods: ['POST'] },
      { name: 'predict-any', path_prefix: '/predict' },
      { name: 'api', path_prefix: '/api/' },
    ],
  });
  exchange(vm, { method: 'POST', path: '/predict/v2', body: 'x', headers: [['x-request-id', 'p1']] });
  exchange(vm, { method: 'GET', path: '/predict?q=1', headers: [['x-request-id', 'p2']] });
  exchange(vm, { method: 'GET', path: '/api/users', headers: [['x-request-id', 'p3']] });
  const untouched: Headers = [[':method', 'GET'], [':path', '/health'], [':authority', 'api'], ['x-request-id', 'p4']];
  const s = vm.stream();
  assert.equal(s.sendRequestHeaders(untouched, { endOfStream: true }), 0);
  s.sendResponseHeaders([[':status', '200']], { endOfStream: true });
  s.complete();
  assert.deepEqual(s.requestHeaders, untouched, 'not tagged');
  const shadowCalls = vm.takeHttpCalls('shadow');
  assert.deepEqual(shadowCalls.map((c) => c.header(CORR)), ['p1', 'p2', 'p3'], 'not mirrored');
  for (const c of shadowCalls) vm.respond(c, { status: 200 });
  const recs = flushRecords(vm);
  const routes = new Map(recs.filter((r) => r.role === 'production').map((r) => [r.id, r.route]));
  assert.deepEqual(Object.fromEntries(routes), { p1: 'predict-post', p2: 'predict-any', p3: 'api' });
  assert.ok(!recs.some((r) => r.id === 'p4'), 'not recorded');
});

test('without routes the route is the path without its query', async () => {
  const vm = await startFilter({});
  exchange(vm, { path: '/v1/score?model=a&x=1', headers: [['x-request-id', 'q1']] });
  const [rec] = flushRecords(vm);
  assert.equal(rec!.route, '/v1/score');
  assert.equal(rec!.path, '/v1/score?model=a&x=1');
});

test('without routes a path longer than 256 characters names the route by its first 256, and the collector accepts the record', async () => {
  const vm = await startFilter({});
  const long = '/' + 'a'.repeat(299);
  exchange(vm, { path: `${long}?q=1`, headers: [['x-request-id', 'q2']] });
  exchange(vm, { path: '/' + 'b'.repeat(255), headers: [['x-request-id', 'q3']] });
  const recs = flushRecords(vm);
  const byId = new Map(recs.map((r) => [r.id, r]));
  assert.equal(byId.get('q2')!.route, long.slice(0, 256));
  assert.equal(byId.get('q2')!.path, `${long}?q=1`, 'the path itself is kept whole');
  assert.equal(byId.get('q3')!.route, '/' + 'b'.repeat(255), 'a 256-character path is not cut');
  for (const r of recs) assert.equal(recordError(r), null);
});

test('auto role: a -shadow authority or the marker header makes the stream a shadow', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow' });
  exchange(vm, { authority: 'model-shadow', headers: [['x-request-id', 's1']] });
  exchange(vm, { authority: 'model-shadow:8080', headers: [['x-request-id', 's2']] });
  exchange(vm, { authority: 'model', headers: [['x-request-id', 's3'], ['x-shadow-request', '1']] });
  exchange(vm, { authority: 'model-shadowy', headers: [['x-request-id', 'p1']] });
  exchange(vm, { authority: 'shadow:8080', headers: [['x-request-id', 'p2']] });
  const shadowCalls = vm.takeHttpCalls('shadow');
  assert.deepEqual(shadowCalls.map((c) => c.header(CORR)), ['p1', 'p2'], 'shadows are never mirrored again');
  const recs = flushRecords(vm);
  const roles = Object.fromEntries(recs.map((r) => [r.id, r.role]));
  assert.deepEqual(roles, { s1: 'shadow', s2: 'shadow', s3: 'shadow', p1: 'production', p2: 'production' });
});

test('fixed roles: production never records as shadow, shadow records everything', async () => {
  const prod = await startFilter({ role: 'production', sample_percent: 0 });
  exchange(prod, { authority: 'x-shadow', headers: [['x-request-id', 'a']] });
  assert.equal(flushRecords(prod).length, 0, 'production role samples even -shadow authorities');
  const shadow = await startFilter({ role: 'shadow', sample_percent: 0, shadow_cluster: 'shadow' });
  for (let i = 0; i < 20; i++) exchange(shadow, { headers: [['x-request-id', `id-${i}`]] });
  assert.equal(shadow.takeHttpCalls('shadow').length, 0);
  const recs = flushRecords(shadow);
  assert.equal(recs.length, 20, 'shadow role ignores sampling');
  assert.ok(recs.every((r) => r.role === 'shadow'));
});

test('every callback answers Continue, for sampled, unsampled and unmatched requests', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', sample_percent: 50, routes: [{ name: 'r', path_prefix: '/r' }] });
  const all: number[] = [];
  for (let i = 0; i < 40; i++) {
    const { actions } = exchange(vm, {
      method: 'POST', path: i % 4 === 0 ? '/other' : '/r', body: 'b'.repeat(i * 10 + 1), responseBody: 'ok',
      headers: [['x-request-id', `c-${i}`]],
    });
    all.push(...actions);
  }
  const s = vm.stream();
  all.push(s.sendRequestHeaders([[':method', 'POST'], [':path', '/r'], [':authority', 'a']], { endOfStream: false }));
  all.push(s.sendRequestBody('x', { endOfStream: false }));
  all.push(s.sendRequestTrailers([['grpc-status', '0']]));
  all.push(s.sendResponseHeaders([[':status', '200']], { endOfStream: false }));
  all.push(s.sendResponseBody('x', { endOfStream: false }));
  all.push(s.sendResponseTrailers([['x', 'y']]));
  s.complete();
  assert.ok(all.length > 100);
  assert.ok(all.every((a) => a === 0), `non-Continue actions: ${all.filter((a) => a !== 0)}`);
  assert.equal(vm.failed, false);
});

test('no per-request logging at info level', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow' }, { logLevel: 'trace' });
  for (let i = 0; i < 10; i++) exchange(vm, { headers: [['x-request-id', `l-${i}`]] });
  for (const c of vm.takeHttpCalls('shadow')) vm.respond(c, { status: 200 });
  flushRecords(vm);
  assert.deepEqual(vm.logs, []);
});

test('a stream answered before the filter saw headers leaves no trace', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow' });
  const s = vm.stream();
  s.complete();
  assert.equal(vm.httpCalls.length, 0);
  assert.equal(flushRecords(vm).length, 0);
  assert.equal(vm.failed, false);
});

test('a request reset before any response is recorded with status 0 and error "reset"', async () => {
  const vm = await startFilter({});
  const s = vm.stream();
  s.sendRequestHeaders([[':method', 'GET'], [':path', '/x'], [':authority', 'a'], ['x-request-id', 'gone']], { endOfStream: true });
  s.complete();
  const [rec] = flushRecords(vm);
  assert.equal(rec!.status, 0);
  assert.equal(rec!.error, 'reset');
});
