// The production record written at proxy_on_log, and the JSON the collector gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFilter, exchange, flushRecords, START_MS } from './support/vm.js';

test('production record: status, latency from the virtual clock, lower-case redacted headers, bodies', async () => {
  const vm = await startFilter({});
  vm.advance(1234);
  const s = vm.stream();
  s.sendRequestHeaders([[':method', 'POST'], [':path', '/predict?id=9'], [':authority', 'api'], ['x-request-id', 'pr-1'], ['cookie', 'req-cookie']], { endOfStream: false });
  s.sendRequestBody('{"x":', { endOfStream: false });
  vm.advance(10);
  s.sendRequestBody('1}', { endOfStream: true });
  vm.advance(25.5);
  s.sendResponseHeaders([[':status', '418'], ['content-type', 'application/json'], ['set-cookie', 'sid=1'], ['Authorization', 'x'], ['cookie', 'c'], ['proxy-authorization', 'p'], ['x-model', 'v2']], { endOfStream: false });
  s.sendResponseBody('{"y":', { endOfStream: false });
  s.sendResponseBody('2}', { endOfStream: true });
  vm.advance(2);
  s.complete();
  const [rec, ...rest] = flushRecords(vm);
  assert.equal(rest.length, 0);
  assert.deepEqual(rec, {
    v: 1, id: 'pr-1', role: 'production', route: '/predict', method: 'POST', path: '/predict?id=9',
    ts_ms: START_MS + 1234, status: 418, latency_ms: 37.5,
    request_body: '{"x":1}',
    response_headers: {
      'content-type': 'application/json', 'set-cookie': '[redacted]', authorization: '[redacted]', cookie: '[redacted]',
      'proxy-authorization': '[redacted]', 'x-model': 'v2',
    },
    response_body: '{"y":2}',
  });
});

test('a response body over max_body_bytes is truncated and flagged', async () => {
  const vm = await startFilter({ max_body_bytes: 5 });
  const s = vm.stream();
  s.sendRequestHeaders([[':method', 'GET'], [':path', '/t'], [':authority', 'a'], ['x-request-id', 'trunc']], { endOfStream: true });
  s.sendResponseHeaders([[':status', '200']], { endOfStream: false });
  s.sendResponseBody('abc', { endOfStream: false });
  s.sendResponseBody('defgh', { endOfStream: false });
  s.sendResponseBody('ijk', { endOfStream: true });
  assert.equal(new TextDecoder().decode(s.forwardedResponseBody), 'abcdefghijk', 'downstream gets everything');
  s.complete();
  const [rec] = flushRecords(vm);
  assert.equal(rec!.response_body, 'abcde');
  assert.equal(rec!.response_body_truncated, true);
});

test('a body exactly max_body_bytes long is not flagged', async () => {
  const vm = await startFilter({ max_body_bytes: 5 });
  exchange(vm, { headers: [['x-request-id', 'exact']], responseBody: '12345' });
  const [rec] = flushRecords(vm);
  assert.equal(rec!.response_body, '12345');
  assert.equal(rec!.response_body_truncated, undefined);
});

test('odd paths, methods and header values are escaped into valid JSON', async () => {
  const vm = await startFilter({});
  const path = '/a"b\\c\u0001d/é/✓?q="x"&t=\t';
  exchange(vm, {
    method: 'M"X', path, headers: [['x-request-id', 'esc']],
    responseHeaders: [['x-quote', 'say "hi"\\'], ['x-utf8', 'naïve']],
    responseBody: 'line1\nline2\r\n\u0000end "quoted" \\ é 😀',
  });
  const vm2Calls = vm.takeHttpCalls();
  assert.equal(vm2Calls.length, 0);
  vm.tick();
  const [call] = vm.takeHttpCalls('collector');
  const recs = JSON.parse(call!.bodyText) as Record<string, unknown>[];
  const rec = recs[0]!;
  assert.equal(rec.path, path);
  assert.equal(rec.route, '/a"b\\c\u0001d/é/✓');
  assert.equal(rec.method, 'M"X');
  assert.deepEqual(rec.response_headers, { 'x-quote': 'say "hi"\\', 'x-utf8': 'naïve' });
  assert.equal(rec.response_body, 'line1\nline2\r\n\u0000end "quoted" \\ é 😀');
  assert.equal(rec.body_encoding, undefined);
  assert.ok(call!.bodyText.includes('é 😀'), 'non-ASCII is sent as UTF-8, not escaped');
  assert.ok(call!.bodyText.includes('\\u0001'), 'control characters are \\u escaped');
});

test('binary bodies are sent base64, and the encoding covers both bodies', async () => {
  const vm = await startFilter({});
  const bin = new Uint8Array([0x00, 0xff, 0xfe, 0x41, 0x80]);
  exchange(vm, { method: 'POST', body: 'plain text', headers: [['x-request-id', 'b64']], responseBody: bin });
  const [rec] = flushRecords(vm);
  assert.equal(rec!.body_encoding, 'base64');
  assert.equal(Buffer.from(rec!.response_body as string, 'base64').toString('hex'), Buffer.from(bin).toString('hex'));
  assert.equal(Buffer.from(rec!.request_body as string, 'base64').toString(), 'plain text');
});

test('a binary request body makes the record base64 too', async () => {
  const vm = await startFilter({});
  exchange(vm, { method: 'POST', body: new Uint8Array([0xc3, 0x28]), headers: [['x-request-id', 'b64req']], responseBody: 'ok' });
  const [rec] = flushRecords(vm);
  assert.equal(rec!.body_encoding, 'base64');
  assert.equal(rec!.response_body, 'b2s=');
  assert.equal(rec!.request_body, 'wyg=');
});

test('a UTF-8 body cut in the middle of a character by truncation is sent base64', async () => {
  const vm = await startFilter({ max_body_bytes: 4 });
  exchange(vm, { headers: [['x-request-id', 'cut']], responseBody: 'abcé' });
  const [rec] = flushRecords(vm);
  assert.equal(rec!.response_body_truncated, true);
  assert.equal(rec!.body_encoding, 'base64');
  assert.deepEqual([...Buffer.from(rec!.response_body as string, 'base64')], [0x61, 0x62, 0x63, 0xc3]);
});

test('every record has the required fields with the contract types', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow' });
  for (let i = 0; i < 5; i++) exchange(vm, { headers: [['x-request-id', `req-${i}`]], status: 200 + i });
  for (const c of vm.takeHttpCalls('shadow')) vm.failCall(c);
  const recs = flushRecords(vm);
  assert.equal(recs.length, 10);
  for (const r of recs) {
    assert.equal(r.v, 1);
    assert.match(r.id, /^[A-Za-z0-9._:-]{1,128}$/);
    assert.ok(r.role === 'production' || r.role === 'shadow');
    assert.equal(typeof r.route, 'string');
    assert.ok((r.route as string).length > 0);
    assert.equal(typeof r.method, 'string');
    assert.equal(typeof r.path, 'string');
    assert.ok(Number.isInteger(r.status) && r.status >= 0 && r.status <= 999);
    assert.ok(typeof r.latency_ms === 'number' && r.latency_ms >= 0);
    assert.ok(Number.isInteger(r.ts_ms));
  }
});

test('records carry the node id the host reports as "source"', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow' }, { properties: { 'node.id': 'sidecar~10.1.2.3~model-v1.ns~ns.svc.cluster.local' } });
  exchange(vm, { headers: [['x-request-id', 'src-1']] });
  for (const c of vm.takeHttpCalls('shadow')) vm.respond(c, { status: 200 });
  const recs = flushRecords(vm);
  assert.equal(recs.length, 2);
  for (const r of recs) assert.equal(r.source, 'sidecar~10.1.2.3~model-v1.ns~ns.svc.cluster.local');
});

test('source comes from xds.node.id on current Envoy and from node.id on an older one', async () => {
  for (const legacyAttributes of [false, true]) {
    const vm = await startFilter({}, { legacyAttributes, properties: { 'node.id': `node-${legacyAttributes}` } });
    exchange(vm, { headers: [['x-request-id', `src-${legacyAttributes}`]] });
    const [rec] = flushRecords(vm);
    assert.equal(rec!.source, `node-${legacyAttributes}`, legacyAttributes ? 'falls back on node.id' : 'reads xds.node.id');
  }
});

test('without a node id there is no source field', async () => {
  const vm = await startFilter({});
  exchange(vm, { headers: [['x-request-id', 'src-2']] });
  const [rec] = flushRecords(vm);
  assert.equal('source' in rec!, false);
});
