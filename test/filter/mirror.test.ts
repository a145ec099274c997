// Filter-driven mirroring: the copy's headers and body, sampling, bodies over the
// limit, and the shadow record built from the call's answer or failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFilter, exchange, flushRecords, header, START_MS } from './support/vm.js';

const CORR = 'x-shadow-correlation-id';

test('the copy: same request, hop-by-hop and stripped headers removed, marker added, authority rewritten', async () => {
  // role production: with role auto a request carrying the marker would be a shadow's
  const vm = await startFilter({ role: 'production', shadow_cluster: 'shadow', strip_headers: ['Authorization', 'x-api-key'], shadow_timeout_ms: 750 });
  const { stream } = exchange(vm, {
    method: 'POST', path: '/predict?v=2', authority: 'model.ns:8080', body: '{"features":[1,2,3]}',
    headers: [
      ['x-request-id', 'm-1'], ['content-type', 'application/json'], ['authorization', 'Bearer s3cr3t'],
      ['x-api-key', 'k'], ['connection', 'keep-alive, X-Hop-Private'], ['x-hop-private', 'h'], ['keep-alive', 'timeout=5'], ['proxy-connection', 'x'],
      ['transfer-encoding', 'chunked'], ['te', 'trailers'], ['trailer', 'x-t'],
      ['content-length', '20'], ['x-shadow-request', 'spoofed'], ['accept', '*/*'],
    ],
  });
  const [call, ...more] = vm.takeHttpCalls('shadow');
  assert.equal(more.length, 0);
  assert.ok(call);
  assert.equal(call.timeoutMs, 750);
  assert.equal(call.bodyText, '{"features":[1,2,3]}');
  const names = call.headers.map(([k]) => k);
  // (`upgrade` is not in this list: a request that carries it is not copied at all,
  // see the upgrades test below.)
  for (const gone of ['authorization', 'x-api-key', 'x-hop-private', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer']) {
    assert.ok(!names.includes(gone), `${gone} was copied`);
  }
  // The filter drops the production content-length; the host sets one from the body.
  assert.deepEqual(call.headers.filter(([k]) => k === 'content-length'), [['content-length', '20']]);
  assert.equal(call.header(':method'), 'POST');
  assert.equal(call.header(':path'), '/predict?v=2');
  assert.equal(call.header(':authority'), 'model.ns-shadow:8080');
  assert.equal(call.header('content-type'), 'application/json');
  assert.equal(call.header('accept'), '*/*');
  assert.equal(call.header(CORR), 'm-1');
  assert.deepEqual(call.headers.filter(([k]) => k === 'x-shadow-request'), [['x-shadow-request', '1']]);
  // production keeps its own headers (only the correlation header was added)
  assert.equal(header(stream.requestHeaders, 'authorization'), 'Bearer s3cr3t');
  assert.equal(header(stream.requestHeaders, 'x-shadow-request'), 'spoofed');
  assert.equal(header(stream.requestHeaders, ':authority'), 'model.ns:8080');
});

test('shadow_authority replaces the authority; a new id reaches the copy', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', shadow_authority: 'candidate.internal', shadow_marker_header: 'x-mirror' });
  const { stream } = exchange(vm, { authority: 'api:80' });
  const [call] = vm.takeHttpCalls('shadow');
  assert.equal(call!.header(':authority'), 'candidate.internal');
  assert.equal(call!.header('x-mirror'), '1');
  assert.equal(call!.header('x-shadow-request'), undefined);
  assert.match(call!.header(CORR) ?? '', /^[0-9a-f]{32}$/);
  assert.equal(call!.header(CORR), header(stream.requestHeaders, CORR));
  assert.equal(call!.body.length, 0);
});

test('the body is copied chunk by chunk while production flows', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow' });
  const s = vm.stream();
  assert.equal(s.sendRequestHeaders([[':method', 'PUT'], [':path', '/x'], [':authority', 'a'], ['x-request-id', 'chunks']], { endOfStream: false }), 0);
  assert.equal(s.sendRequestBody('hello ', { endOfStream: false }), 0);
  assert.equal(vm.httpCalls.length, 0, 'the copy waits for the end of the request');
  assert.equal(s.sendRequestBody(new Uint8Array([0xe2, 0x9c]), { endOfStream: false }), 0);
  assert.equal(s.sendRequestBody(new Uint8Array([0x93]), { endOfStream: true }), 0);
  assert.equal(new TextDecoder().decode(s.forwardedRequestBody), 'hello ✓', 'production body untouched');
  const [call] = vm.takeHttpCalls('shadow');
  assert.equal(call!.bodyText, 'hello ✓');
  s.sendResponseHeaders([[':status', '204']], { endOfStream: true });
  s.complete();
});

test('a request with trailers is mirrored when the trailers arrive', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow' });
  const s = vm.stream();
  s.sendRequestHeaders([[':method', 'POST'], [':path', '/g'], [':authority', 'a'], ['x-request-id', 'tr']], { endOfStream: false });
  s.sendRequestBody('abc', { endOfStream: false });
  assert.equal(vm.httpCalls.length, 0);
  s.sendRequestTrailers([['grpc-timeout', '1S']]);
  const [call] = vm.takeHttpCalls('shadow');
  assert.equal(call!.bodyText, 'abc');
});

test('a request body over max_body_bytes is not mirrored and is counted', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', max_body_bytes: 8 });
  exchange(vm, { method: 'POST', body: '123456789', headers: [['x-request-id', 'big']] });
  exchange(vm, { method: 'POST', body: '12345678', headers: [['x-request-id', 'fits']] });
  const s = vm.stream();
  s.sendRequestHeaders([[':method', 'POST'], [':path', '/p'], [':authority', 'a'], ['x-request-id', 'big2']], { endOfStream: false });
  s.sendRequestBody('12345', { endOfStream: false });
  s.sendRequestBody('6789', { endOfStream: true });
  s.sendResponseHeaders([[':status', '200']], { endOfStream: true });
  s.complete();
  const calls = vm.takeHttpCalls('shadow');
  assert.deepEqual(calls.map((c) => c.header(CORR)), ['fits']);
  for (const c of calls) vm.respond(c, { status: 200 });
  const recs = flushRecords(vm);
  assert.equal(vm.metric('shadowmesh_body_too_large_total'), 2);
  assert.equal(vm.metric('shadowmesh_mirrored_total'), 1);
  const big = recs.find((r) => r.id === 'big' && r.role === 'production');
  assert.equal(big?.request_body, '12345678', 'the record keeps the first max_body_bytes');
});

test('sampling picks the ids FNV-1a says, and counts the rest', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', sample_percent: 30 });
  const fnv = (s: string): number => { let h = 0x811c9dc5; for (const b of Buffer.from(s)) { h ^= b; h = Math.imul(h, 16777619) >>> 0; } return h; };
  const expected: string[] = [];
  for (let i = 0; i < 400; i++) {
    const id = `sample-${i}`;
    if (fnv(id) % 10000 < 3000) expected.push(id);
    exchange(vm, { headers: [['x-request-id', id]] });
  }
  const calls = vm.takeHttpCalls('shadow');
  assert.deepEqual(calls.map((c) => c.header(CORR)), expected);
  assert.ok(expected.length > 80 && expected.length < 160);
  for (const c of calls) vm.respond(c, { status: 200 });
  vm.tick();
  assert.equal(vm.metric('shadowmesh_mirrored_total'), expected.length);
  assert.equal(vm.metric('shadowmesh_sampled_out_total'), 400 - expected.length);
});

test('per-route sample_percent overrides the global one', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', sample_percent: 0, routes: [{ name: 'all', path_prefix: '/all', sample_percent: 100 }, { name: 'none', path_prefix: '/' }] });
  for (let i = 0; i < 10; i++) exchange(vm, { path: '/all', headers: [['x-request-id', `a${i}`]] });
  for (let i = 0; i < 10; i++) exchange(vm, { path: '/none', headers: [['x-request-id', `n${i}`]] });
  assert.equal(vm.takeHttpCalls('shadow').length, 10);
});

test('the shadow record comes from the call response, its latency from the virtual clock', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', redact_headers: ['x-token'], max_body_bytes: 10 });
  exchange(vm, { method: 'POST', path: '/score', body: '{"a":1}', headers: [['x-request-id', 'sh-1']], responseBody: '{"s":1}' });
  const [call] = vm.takeHttpCalls('shadow');
  vm.advance(42);
  vm.respond(call!, { status: 201, headers: [['x-token', 'secret'], ['content-type', 'application/json']], body: '{"score":0.75}' });
  const recs = flushRecords(vm);
  const sh = recs.find((r) => r.role === 'shadow')!;
  assert.deepEqual(sh, {
    v: 1, id: 'sh-1', role: 'shadow', route: '/score', method: 'POST', path: '/score', status: 201,
    latency_ms: 42, ts_ms: START_MS, response_headers: { 'x-token': '[redacted]', 'content-type': 'application/json' },
    response_body: '{"score":0', response_body_truncated: true,
  });
});

test('a failed shadow call (reset) gives a record with status 0 and error "reset"', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow' });
  exchange(vm, { headers: [['x-request-id', 'f-1']] });
  const [call] = vm.takeHttpCalls('shadow');
  vm.advance(3);
  vm.failCall(call!);
  const recs = flushRecords(vm);
  const sh = recs.find((r) => r.role === 'shadow')!;
  assert.equal(sh.status, 0);
  assert.equal(sh.error, 'reset');
  assert.equal(sh.latency_ms, 3);
  assert.equal(vm.metric('shadowmesh_shadow_failures_total'), 1);
  assert.equal(recs.find((r) => r.role === 'production')!.status, 200, 'production unaffected');
});

test('a timed-out shadow call (Envoy 504) gives status 0 and error "timeout"', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', shadow_timeout_ms: 100 });
  exchange(vm, { headers: [['x-request-id', 't-1']] });
  exchange(vm, { headers: [['x-request-id', 't-2']] });
  const [a, b] = vm.takeHttpCalls('shadow');
  vm.timeoutCall(a!);
  vm.advance(150);
  vm.respond(b!, { status: 504, body: 'gateway' });
  const recs = flushRecords(vm).filter((r) => r.role === 'shadow');
  const byId = Object.fromEntries(recs.map((r) => [r.id, r]));
  assert.equal(byId['t-1']!.status, 0);
  assert.equal(byId['t-1']!.error, 'timeout');
  assert.equal(byId['t-2']!.status, 0, 'a 504 after the timeout is the timeout');
  assert.equal(byId['t-2']!.error, 'timeout');
});

test('a genuine 504 from the shadow before the timeout is kept as 504', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', shadow_timeout_ms: 1000 });
  exchange(vm, { headers: [['x-request-id', 'g-1']] });
  const [a] = vm.takeHttpCalls('shadow');
  vm.advance(10);
  vm.respond(a!, { status: 504, body: 'model overloaded' });
  const sh = flushRecords(vm).find((r) => r.role === 'shadow')!;
  assert.equal(sh.status, 504);
  assert.equal(sh.error, undefined);
});

test("Envoy's connect-failure reply (503 upstream connect error / no healthy upstream) is a reset, not a shadow answer", async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow' });
  for (const id of ['c-1', 'c-2', 'c-3']) exchange(vm, { headers: [['x-request-id', id]] });
  const [a, b, c] = vm.takeHttpCalls('shadow');
  vm.respond(a!, {
    status: 503,
    headers: [['content-type', 'text/plain']],
    body: 'upstream connect error or disconnect/reset before headers. reset reason: remote connection failure',
  });
  vm.respond(b!, { status: 503, body: 'no healthy upstream' });
  vm.respond(c!, { status: 503, body: '{"error":"model warming up"}' });
  const byId = Object.fromEntries(flushRecords(vm).filter((r) => r.role === 'shadow').map((r) => [r.id, r]));
  for (const id of ['c-1', 'c-2']) {
    assert.equal(byId[id]!.status, 0, id);
    assert.equal(byId[id]!.error, 'reset', id);
    assert.equal(byId[id]!.response_body, undefined, `${id}: Envoy's text is not the shadow's body`);
  }
  assert.equal(byId['c-3']!.status, 503, "the shadow's own 503 is its answer");
  assert.equal(byId['c-3']!.error, undefined);
  assert.equal(vm.metric('shadowmesh_shadow_failures_total'), 2);
});

test('a copy refused inline (unknown cluster) is recorded as "rejected" at once', async () => {
  const vm = await startFilter({ shadow_cluster: 'no-such-cluster' });
  const { actions } = exchange(vm, { headers: [['x-request-id', 'r-1']] });
  assert.ok(actions.every((a) => a === 0));
  const sh = flushRecords(vm).find((r) => r.role === 'shadow')!;
  assert.equal(sh.status, 0);
  assert.equal(sh.error, 'rejected');
  assert.equal(vm.metric('shadowmesh_shadow_failures_total'), 1);
});

test('tag-only mode (no shadow_cluster) records production but makes no copy', async () => {
  const vm = await startFilter({});
  exchange(vm, { method: 'POST', body: 'x', headers: [['x-request-id', 'tag-1']] });
  assert.equal(vm.httpCalls.filter((c) => c.cluster !== 'collector').length, 0);
  const recs = flushRecords(vm);
  assert.deepEqual(recs.map((r) => [r.id, r.role]), [['tag-1', 'production']]);
});

test('the shadow answer still counts when the production stream has long ended', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow' });
  exchange(vm, { headers: [['x-request-id', 'late']] });
  const prod = flushRecords(vm);
  assert.deepEqual(prod.map((r) => r.role), ['production']);
  const [call] = vm.takeHttpCalls('shadow');
  vm.advance(2500);
  vm.respond(call!, { status: 200, body: 'ok' });
  const sh = flushRecords(vm);
  assert.equal(sh.length, 1);
  assert.equal(sh[0]!.role, 'shadow');
});

test('a request without :authority gets the shadow cluster as the copy\'s authority', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow' });
  const s = vm.stream();
  s.sendRequestHeaders([[':method', 'GET'], [':path', '/old'], ['x-request-id', 'h10']], { endOfStream: true });
  const [call] = vm.takeHttpCalls('shadow');
  assert.equal(call!.header(':authority'), 'shadow');
});

test('copies never answered are capped at max_queued_records; the rest are recorded "overloaded"', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', shadow_timeout_ms: 0, max_queued_records: 5, batch_max_records: 1 });
  const recs: { id: string; role: string; error?: string }[] = [];
  for (let i = 0; i < 8; i++) {
    exchange(vm, { headers: [['x-request-id', `ov-${i}`]] });
    for (const c of vm.takeHttpCalls('collector')) { recs.push(...(JSON.parse(c.bodyText) as typeof recs)); vm.respond(c, { status: 200 }); }
  }
  const copies = vm.takeHttpCalls('shadow');
  assert.equal(copies.length, 5);
  const over = recs.filter((r) => r.role === 'shadow').map((r) => [r.id, r.error]);
  assert.deepEqual(over, [['ov-5', 'overloaded'], ['ov-6', 'overloaded'], ['ov-7', 'overloaded']]);
  // answers free the slots
  for (const c of copies) vm.respond(c, { status: 200 });
  exchange(vm, { headers: [['x-request-id', 'ov-8']] });
  assert.equal(vm.takeHttpCalls('shadow').length, 1);
});

test('upgrades and CONNECT are tagged but neither copied nor recorded (as Envoy\'s mirroring)', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow' });
  const ws = exchange(vm, { headers: [['x-request-id', 'ws-1'], ['connection', 'upgrade'], ['upgrade', 'websocket']], status: 101 });
  const tunnel = exchange(vm, { method: 'CONNECT', path: '/', headers: [['x-request-id', 'tun-1']] });
  // An upgrade header alone (h2c, without connection: upgrade) is enough to leave the request alone.
  const h2c = exchange(vm, { method: 'POST', body: 'b', headers: [['x-request-id', 'h2c-1'], ['upgrade', 'h2c']] });
  assert.equal(h2c.stream.requestHeader('x-shadow-correlation-id'), 'h2c-1');
  assert.equal(ws.stream.requestHeader('x-shadow-correlation-id'), 'ws-1');
  assert.equal(tunnel.stream.requestHeader('x-shadow-correlation-id'), 'tun-1');
  assert.equal(vm.takeHttpCalls('shadow').length, 0);
  assert.equal(flushRecords(vm).length, 0);
});
