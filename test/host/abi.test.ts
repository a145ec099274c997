// Host functions: codes, encodings and semantics Envoy gives them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Probe, OUT1, OUT2, type Op } from './probe.js';
import { WasmResult as R, decodePairs, encodePairs } from '../../src/host/index.js';
import { TestVM } from '../../src/host/testing.js';
import { SharedStore } from '../../src/host/shared.js';
import { wat } from './wat.js';

const REQ: [string, string][] = [[':method', 'GET'], [':path', '/a/b?x=1'], [':authority', 'api'], [':scheme', 'http'], ['x-request-id', 'rid-7'], ['dup', 'one'], ['dup', 'two']];
const RESP: [string, string][] = [[':status', '201']];
const i64le = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength).getBigInt64(0, true);

test('WasmResult, map and buffer type codes are Envoy\'s', async () => {
  const { WasmResult, MapType, BufferType, MetricType } = await import('../../src/host/index.js');
  assert.deepEqual(Object.values(WasmResult), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.equal(WasmResult.CasMismatch, 8);
  assert.equal(WasmResult.Unimplemented, 12);
  assert.equal(MapType.HttpCallResponseHeaders, 6);
  assert.equal(MapType.HttpCallResponseTrailers, 7);
  assert.equal(BufferType.HttpCallResponseBody, 4);
  assert.equal(BufferType.PluginConfiguration, 7);
  assert.deepEqual(MetricType, { Counter: 0, Gauge: 1, Histogram: 2 });
});

test('header get returns the first value; names are lower-cased; replace of a missing key adds; remove of a missing key is Ok', async () => {
  const p = await Probe.start();
  const [dup, dupl] = p.data('DUP');
  const [nk, nkl] = p.data('X-New');
  const [v, vl] = p.data('v1');
  const [miss, missl] = p.data('nope');
  const r = p.on('request_headers', [
    { fn: 'get_header_map_value', args: [0, dup, dupl, OUT1, OUT2] },
    { fn: 'replace_header_map_value', args: [0, nk, nkl, v, vl] },
    { fn: 'remove_header_map_value', args: [0, miss, missl] },
    { fn: 'get_header_map_value', args: [0, miss, missl, OUT1, OUT2] },
    { fn: 'replace_header_map_value', args: [0, dup, dupl, v, vl] },
    { fn: 'get_header_map_value', args: [7, dup, dupl, OUT1, OUT2] },
    { fn: 'get_header_map_value', args: [8, dup, dupl, OUT1, OUT2] },
  ]);
  const s = p.vm.stream();
  s.sendRequestHeaders(REQ);
  assert.equal(r[0]!.text, 'one');
  assert.equal(r[1]!.code, R.Ok);
  assert.equal(s.requestHeader('x-new'), 'v1');
  assert.equal(r[2]!.code, R.Ok);
  assert.equal(r[3]!.code, R.NotFound);
  assert.deepEqual(s.requestHeaders.filter(([k]) => k === 'dup'), [['dup', 'v1']], 'replace leaves one value');
  assert.equal(r[5]!.code, R.BadArgument, 'map 7 (http call trailers) outside a call response');
  assert.equal(r[6]!.code, R.BadArgument, 'unknown map type');
});

test('added and replaced headers go where Envoy puts them: pseudo-headers ahead of the others', async () => {
  const p = await Probe.start();
  const [pk, pkl] = p.data(':path');
  const [v, vl] = p.data('/new');
  const [xk, xkl] = p.data('x-first');
  const [ak, akl] = p.data(':extra');
  p.on('request_headers', [
    { fn: 'replace_header_map_value', args: [0, xk, xkl, v, vl] },
    { fn: 'replace_header_map_value', args: [0, pk, pkl, v, vl] },
    { fn: 'add_header_map_value', args: [0, ak, akl, v, vl] },
  ]);
  const s = p.vm.stream();
  s.sendRequestHeaders([[':method', 'GET'], [':path', '/old'], [':authority', 'a'], ['x-first', '1'], ['b', '2']]);
  assert.deepEqual(s.requestHeaders, [[':method', 'GET'], [':authority', 'a'], [':path', '/new'], [':extra', '/new'], ['b', '2'], ['x-first', '/new']]);
});

test('header pairs encoding: u32 count, (u32 key_len, u32 value_len)×n, then NUL-terminated keys and values, little-endian', async () => {
  const enc = encodePairs([['ab', 'c'], ['', 'de']]);
  assert.deepEqual([...enc], [2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 97, 98, 0, 99, 0, 0, 100, 101, 0]);
  const p = await Probe.start();
  const r = p.on('request_headers', [{ fn: 'get_header_map_pairs', args: [0, OUT1, OUT2] }]);
  p.vm.stream().sendRequestHeaders(REQ);
  assert.deepEqual(decodePairs(r[0]!.bytes), REQ);
  assert.deepEqual([...r[0]!.bytes], [...encodePairs(REQ)]);
});

test('a malformed pairs buffer is read as an empty map (limits: 1 MiB, 1024 pairs)', async () => {
  const tooMany = new Uint8Array(4 + 1025 * 8 + 1025 * 2);
  new DataView(tooMany.buffer).setUint32(0, 1025, true);
  assert.deepEqual(decodePairs(tooMany), []);
  const ok = encodePairs(Array.from({ length: 1024 }, (_, i) => [`k${i}`, 'v'] as [string, string]));
  assert.equal(decodePairs(ok).length, 1024);
  assert.deepEqual(decodePairs(new Uint8Array([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 97, 1, 98, 0])), [], 'missing NUL');
  assert.deepEqual(decodePairs(new Uint8Array([...encodePairs([['a', 'b']]), 0])), [], 'trailing bytes');
  assert.deepEqual(decodePairs(new Uint8Array([5, 0])), [], 'short');
  const big = encodePairs([['k', 'x'.repeat(1024 * 1024)]]);
  assert.deepEqual(decodePairs(big), [], 'over 1 MiB');
  // In the host: set_header_map_pairs with a malformed buffer empties the map (Envoy replaces it with nothing).
  const p = await Probe.start();
  const [bad, badl] = p.data(new Uint8Array([3, 0, 0, 0, 9, 9]));
  const r = p.on('request_headers', [{ fn: 'set_header_map_pairs', args: [0, bad, badl] }]);
  const s = p.vm.stream();
  s.sendRequestHeaders(REQ);
  assert.equal(r[0]!.code, R.Ok);
  assert.deepEqual(s.requestHeaders, []);
});

test('set_header_map_pairs replaces the map (keys lower-cased)', async () => {
  const p = await Probe.start();
  const [pp, pl] = p.pairs([['A', '1'], [':path', '/new']]);
  p.on('request_headers', [{ fn: 'set_header_map_pairs', args: [0, pp, pl] }]);
  const s = p.vm.stream();
  s.sendRequestHeaders(REQ);
  assert.deepEqual(s.requestHeaders, [['a', '1'], [':path', '/new']]);
});

test('returned data: the allocator is called for exactly the bytes needed; empty results are (0, 0) without allocating', async () => {
  const p = await Probe.start();
  const [e, el] = p.data('empty');
  const [k, kl] = p.data(':path');
  const r = p.on('request_headers', [
    { fn: 'get_header_map_value', args: [0, e, el, OUT1, OUT2] },
    { fn: 'get_header_map_pairs', args: [1, OUT1, OUT2] },
    { fn: 'get_header_map_value', args: [0, k, kl, OUT1, OUT2] },
  ]);
  const before = p.mallocs();
  p.vm.stream().sendRequestHeaders([[':path', '/xyz'], ['empty', '']]);
  assert.equal(r[0]!.code, R.Ok);
  assert.deepEqual([r[0]!.u1, r[0]!.u2], [0, 0]);
  assert.deepEqual([r[1]!.u1, r[1]!.u2], [0, 0]);
  assert.equal(r[2]!.u2, 4);
  assert.equal(p.mallocs() - before, 1, 'one allocation, for the non-empty value');
});

test('memory growth during an allocation is handled (views re-read after the allocator)', async () => {
  const p = await Probe.start();
  const big = 'v'.repeat(300_000);
  const [k, kl] = p.data('big');
  const r = p.on('request_headers', [{ fn: 'get_header_map_value', args: [0, k, kl, OUT1, OUT2] }, { fn: 'get_header_map_pairs', args: [0, OUT1, OUT2] }]);
  p.vm.stream().sendRequestHeaders([['big', big]]);
  assert.equal(r[0]!.text, big);
  assert.deepEqual(decodePairs(r[1]!.bytes), [['big', big]]);
});

test('properties: NUL-separated paths; a dotted string is NotFound; strings raw; ints 8-byte LE; timestamps/durations int64 ns', async () => {
  const p = await Probe.start({ name: 'shadow-filter', rootId: 'root-x', nowMs: 1_700_000_000_000, properties: { 'node.id': 'sidecar~1' } });
  const path = (s: string) => p.data(s.split('.').join('\0'));
  const q = (s: string) => ({ fn: 'get_property' as const, args: [...path(s), OUT1, OUT2] });
  const reqOps = p.on('request_headers', [q('request.path'), { fn: 'get_property', args: [...p.data('request.path'), OUT1, OUT2] }, q('request.id'),
    q('request.time'), q('plugin_name'), q('plugin_root_id'), q('request.method'), q('request.host'), q('request.scheme'), q('request.url_path'),
    q('source.address'), q('source.port'), q('request.protocol'), q('connection.mtls'), q('xds.node.id'), q('request.headers.dup'), q('request.headers'), q('request.duration')]);
  const respOps = p.on('response_headers', [q('response.code'), q('upstream.address'), q('request.path'), q('request.time'), q('request.headers'),
    q('request.size'), q('destination.address'), q('xds.cluster_name')]);
  const logOps = p.on('log', [q('request.duration'), q('request.path'), q('response.code')]);
  const rootOps = p.on('tick', [q('request.path'), q('plugin_name')]);
  const s = p.vm.stream({ downstreamAddress: '10.1.2.3:5555', upstreamAddress: '10.9.9.9:8080', localAddress: '10.0.0.1:15006', clusterName: 'outbound|80||api' });
  s.sendRequestHeaders(REQ, { endOfStream: true });
  const v = reqOps.map((r) => (r.code === R.Ok ? r.bytes : r.code));
  assert.equal(new TextDecoder().decode(v[0] as Uint8Array), '/a/b?x=1');
  assert.equal(v[1], R.NotFound, 'dotted path is one segment');
  assert.equal(new TextDecoder().decode(v[2] as Uint8Array), 'rid-7');
  assert.equal(i64le(v[3] as Uint8Array), 1_700_000_000_000_000_000n);
  assert.deepEqual([4, 5, 6, 7, 8, 9, 10].map((i) => new TextDecoder().decode(v[i] as Uint8Array)), ['shadow-filter', 'root-x', 'GET', 'api', 'http', '/a/b', '10.1.2.3:5555']);
  assert.equal(i64le(v[11] as Uint8Array), 5555n);
  assert.equal(new TextDecoder().decode(v[12] as Uint8Array), 'HTTP/1.1');
  assert.deepEqual([...(v[13] as Uint8Array)], [0], 'bool is one byte');
  assert.equal(new TextDecoder().decode(v[14] as Uint8Array), 'sidecar~1');
  assert.equal(new TextDecoder().decode(v[15] as Uint8Array), 'one');
  assert.deepEqual(decodePairs(v[16] as Uint8Array), REQ, 'maps serialize as pairs');
  assert.equal(v[17], R.NotFound, 'request.duration only after completion');
  p.vm.advance(25);
  s.sendResponseHeaders(RESP, { endOfStream: true });
  assert.equal(respOps[0]!.bytes.length, 8);
  assert.equal(i64le(respOps[0]!.bytes), 201n);
  assert.equal(respOps[1]!.text, '10.9.9.9:8080');
  assert.equal(respOps[2]!.code, R.NotFound, 'request header attributes are gone after request headers continued (older Envoy)');
  assert.equal(respOps[3]!.code, R.Ok, 'stream info attributes stay');
  assert.deepEqual([...respOps[4]!.bytes], [0, 0, 0, 0], 'request.headers is then an empty map');
  assert.equal(i64le(respOps[5]!.bytes), 0n, 'request.size falls back to the body bytes received');
  assert.equal(respOps[6]!.text, '10.0.0.1:15006');
  assert.equal(respOps[7]!.text, 'outbound|80||api');
  s.complete();
  assert.equal(i64le(logOps[0]!.bytes), 25_000_000n);
  assert.equal(logOps[1]!.text, '/a/b?x=1', 'request attributes readable in on_log');
  assert.equal(i64le(logOps[2]!.bytes), 201n);
  p.on('request_headers', [{ fn: 'set_tick_period', args: [10] }]);
  p.vm.stream().sendRequestHeaders(REQ);
  p.vm.advance(10);
  assert.equal(rootOps[0]!.code, R.NotFound, 'no stream attributes in the root context');
  assert.equal(rootOps[1]!.text, 'shadow-filter');
});

test('requestAttributesAfterHeaders: request attributes stay readable in response callbacks (newer Envoy)', async () => {
  const p = await Probe.start({ requestAttributesAfterHeaders: true });
  const r = p.on('response_headers', [{ fn: 'get_property', args: [...p.data('request\0path'), OUT1, OUT2] }]);
  const s = p.vm.stream();
  s.sendRequestHeaders(REQ);
  s.sendResponseHeaders(RESP);
  assert.equal(r[0]!.text, '/a/b?x=1');
});

test('set_property stores a per-stream value get_property returns raw; on the root context it is NotFound', async () => {
  const p = await Probe.start();
  const [k, kl] = p.data('my_key');
  const [v, vl] = p.data(new Uint8Array([1, 2, 0, 3]));
  const r = p.on('request_headers', [{ fn: 'set_property', args: [k, kl, v, vl] }, { fn: 'get_property', args: [k, kl, OUT1, OUT2] }, { fn: 'set_tick_period', args: [5] }]);
  const t = p.on('tick', [{ fn: 'set_property', args: [k, kl, v, vl] }]);
  const s = p.vm.stream();
  s.sendRequestHeaders(REQ);
  assert.equal(r[0]!.code, R.Ok);
  assert.deepEqual([...r[1]!.bytes], [1, 2, 0, 3]);
  p.vm.advance(5);
  assert.equal(t[0]!.code, R.NotFound);
});

test('buffers: plugin configuration only during on_configure; VM configuration always; http call body only in its callback; bad type BadArgument', async () => {
  const p = await Probe.start({ config: 'cfg', vmConfig: 'vmc' });
  const r = p.on('request_headers', [
    { fn: 'get_buffer_bytes', args: [7, 0, 10, OUT1, OUT2] },
    { fn: 'get_buffer_bytes', args: [6, 0, 10, OUT1, OUT2] },
    { fn: 'get_buffer_bytes', args: [4, 0, 10, OUT1, OUT2] },
    { fn: 'get_buffer_bytes', args: [9, 0, 10, OUT1, OUT2] },
    { fn: 'get_buffer_status', args: [7, OUT1, OUT2] },
    { fn: 'get_buffer_bytes', args: [6, 1, 10, OUT1, OUT2] },
    { fn: 'get_buffer_bytes', args: [6, 50, 10, OUT1, OUT2] },
  ]);
  p.vm.stream().sendRequestHeaders(REQ);
  assert.deepEqual(r.map((x) => x.code), [R.NotFound, R.Ok, R.NotFound, R.BadArgument, R.NotFound, R.Ok, R.Ok]);
  assert.equal(r[1]!.text, 'vmc');
  assert.equal(r[5]!.text, 'mc', 'start offset; length clamped to the end');
  assert.deepEqual([r[6]!.u1, r[6]!.u2], [0, 0]);
});

test('metrics: Envoy ids (counters 4,8…, gauges 5,9…, histograms 6,10…) and semantics', async () => {
  const p = await Probe.start();
  const def = (t: number, n: string) => ({ fn: 'define_metric' as const, args: [t, ...p.data(n), OUT1] });
  const d = p.on('request_headers', [def(0, 'c1'), def(0, 'c2'), def(1, 'g1'), def(1, 'g2'), def(2, 'h1'), def(2, 'h2'), def(3, 'bad')]);
  p.vm.stream().sendRequestHeaders(REQ);
  assert.deepEqual(d.map((x) => x.u1), [4, 8, 5, 9, 6, 10, 0]);
  assert.equal(d[6]!.code, R.BadArgument);
  const ops = p.on('request_headers', [
    { fn: 'increment_metric', args: [4, 3] }, { fn: 'increment_metric', args: [4, 0] }, { fn: 'increment_metric', args: [4, -1] },
    { fn: 'increment_metric', args: [5, 10] }, { fn: 'increment_metric', args: [5, -4] },
    { fn: 'increment_metric', args: [6, 1] }, { fn: 'record_metric', args: [6, 42] },
    { fn: 'record_metric', args: [4, 2] }, { fn: 'record_metric', args: [9, 7] },
    { fn: 'get_metric', args: [4, OUT1] }, { fn: 'get_metric', args: [5, OUT1] }, { fn: 'get_metric', args: [6, OUT1] },
    { fn: 'get_metric', args: [12, OUT1] }, { fn: 'increment_metric', args: [100, 1] },
  ]);
  p.vm.stream().sendRequestHeaders(REQ);
  assert.deepEqual(ops.map((o) => o.code), [R.Ok, R.BadArgument, R.BadArgument, R.Ok, R.Ok, R.BadArgument, R.Ok, R.Ok, R.Ok, R.Ok, R.Ok, R.BadArgument, R.NotFound, R.NotFound]);
  assert.equal(ops[9]!.u64, 5n);
  assert.equal(ops[10]!.u64, 6n);
  assert.equal(p.vm.metric('c1'), 5);
  assert.equal(p.vm.metric('g1'), 6);
  assert.equal(p.vm.metric('g2'), 7, 'record sets a gauge');
  assert.deepEqual(p.vm.metrics.get('h1'), { type: 'histogram', value: 42, count: 1, sum: 42 });
});

test('shared data: get returns the value and its CAS; set with a stale CAS is CasMismatch; CAS 0 always writes', async () => {
  const p = await Probe.start();
  const [k, kl] = p.data('key');
  const [v1, v1l] = p.data('one');
  const [v2, v2l] = p.data('two');
  const a = p.on('request_headers', [
    { fn: 'get_shared_data', args: [k, kl, OUT1, OUT2, 0] },
    { fn: 'set_shared_data', args: [k, kl, v1, v1l, 0] },
  ]);
  p.vm.stream().sendRequestHeaders(REQ);
  assert.deepEqual(a.map((x) => x.code), [R.NotFound, R.Ok]);
  const casSlot = p.slot();
  const g = p.on('request_headers', [{ fn: 'get_shared_data', args: [k, kl, OUT1, OUT2, casSlot] }]);
  p.vm.stream().sendRequestHeaders(REQ);
  assert.equal(g[0]!.text, 'one');
  const cas = p.u32(casSlot);
  assert.ok(cas > 0);
  const b = p.on('request_headers', [
    { fn: 'set_shared_data', args: [k, kl, v2, v2l, cas + 1] },
    { fn: 'set_shared_data', args: [k, kl, v2, v2l, cas] },
    { fn: 'set_shared_data', args: [k, kl, v1, v1l, cas] },
    { fn: 'set_shared_data', args: [k, kl, v1, v1l, 0] },
  ]);
  p.vm.stream().sendRequestHeaders(REQ);
  assert.deepEqual(b.map((x) => x.code), [R.CasMismatch, R.Ok, R.CasMismatch, R.Ok]);
});

test('shared queues: register/resolve/enqueue/dequeue; on_queue_ready reaches the root after the enqueuing callback', async () => {
  const p = await Probe.start();
  const [n, nl] = p.data('q1');
  const [u, ul] = p.data('unknown');
  const [d, dl] = p.data('item');
  const [empty, emptyl] = p.data('');
  const tok = p.slot();
  const reg = p.on('request_headers', [
    { fn: 'register_shared_queue', args: [n, nl, tok] },
    { fn: 'resolve_shared_queue', args: [empty, emptyl, n, nl, OUT1] },
    { fn: 'resolve_shared_queue', args: [empty, emptyl, u, ul, OUT1] },
  ]);
  p.vm.stream().sendRequestHeaders(REQ);
  const token = p.u32(tok);
  assert.deepEqual(reg.map((r) => r.code), [R.Ok, R.Ok, R.NotFound]);
  assert.equal(reg[1]!.u1, token);
  const q = p.on('request_headers', [
    { fn: 'dequeue_shared_queue', args: [token, OUT1, OUT2] },
    { fn: 'enqueue_shared_queue', args: [token, d, dl] },
    { fn: 'enqueue_shared_queue', args: [token + 100, d, dl] },
    { fn: 'dequeue_shared_queue', args: [token + 100, OUT1, OUT2] },
  ]);
  const ready = p.on('queue_ready', [{ fn: 'dequeue_shared_queue', args: [token, OUT1, OUT2] }]);
  p.clearEvents();
  p.vm.stream().sendRequestHeaders(REQ);
  assert.deepEqual(q.map((r) => r.code), [R.Empty, R.Ok, R.NotFound, R.NotFound]);
  const ev = p.events();
  assert.deepEqual(ev.map((e) => e.kind), ['context_create', 'request_headers', 'queue_ready']);
  assert.deepEqual([ev[2]!.ctx, ev[2]!.args[0]], [1, token]);
  assert.equal(ready[0]!.text, 'item');
});

test('logging: levels trace 0 … critical 5, above is BadArgument; get_log_level answers the configured level; lower levels are dropped', async () => {
  const p = await Probe.start({ logLevel: 'warn' });
  const [m, ml] = p.data('msg');
  const ops: Op[] = Array.from({ length: 7 }, (_, lvl) => ({ fn: 'log', args: [lvl, m, ml] }));
  ops.push({ fn: 'get_log_level', args: [OUT1] });
  const r = p.on('request_headers', ops);
  p.vm.stream().sendRequestHeaders(REQ);
  assert.deepEqual(r.map((x) => x.code), [0, 0, 0, 0, 0, 0, R.BadArgument, 0]);
  assert.equal(r[7]!.u1, 3);
  assert.deepEqual(p.vm.logs.map((l) => l.level), ['warn', 'error', 'critical']);
});

test('http_call belongs to the root context; its response comes later as on_http_call_response(root, token, headers, body, trailers)', async () => {
  const p = await Probe.start({ clusters: ['upstream'] });
  const [c, cl] = p.data('upstream');
  const [h, hl] = p.pairs([[':method', 'POST'], [':path', '/x'], [':authority', 'svc'], ['X-Custom', 'A']]);
  const [b, bl] = p.data('payload');
  const tok = p.slot();
  const call = p.on('request_headers', [{ fn: 'http_call', args: [c, cl, h, hl, b, bl, 0, 0, 0, tok] }]);
  const [st, stl] = p.data(':status');
  const [tk, tkl] = p.data('tr');
  const inCb = p.on('http_call_response', [
    { fn: 'get_header_map_value', args: [6, st, stl, OUT1, OUT2] },
    { fn: 'get_buffer_bytes', args: [4, 0, 100, OUT1, OUT2] },
    { fn: 'get_header_map_value', args: [7, tk, tkl, OUT1, OUT2] },
    { fn: 'get_header_map_pairs', args: [6, OUT1, OUT2] },
  ]);
  const s = p.vm.stream();
  s.sendRequestHeaders([[':path', '/']], { endOfStream: true });
  assert.equal(call[0]!.code, R.Ok);
  const token = p.u32(tok);
  const calls = p.vm.httpCalls;
  assert.equal(calls.length, 1);
  assert.deepEqual({ token: calls[0]!.token, cluster: calls[0]!.cluster, body: calls[0]!.bodyText, timeout: calls[0]!.timeoutMs },
    { token, cluster: 'upstream', body: 'payload', timeout: 0 });
  assert.deepEqual(calls[0]!.headers, [[':method', 'POST'], [':path', '/x'], [':authority', 'svc'], ['x-custom', 'A'], ['content-length', '7']]);
  assert.ok(!p.kinds().includes('http_call_response'), 'never inside proxy_http_call');
  s.complete();
  p.clearEvents();
  p.vm.respond(calls[0]!, { status: 202, headers: [['a', 'b']], body: 'resp', trailers: [['tr', 'tv']] });
  const ev = p.events();
  assert.deepEqual(ev.map((e) => [e.kind, e.ctx, ...e.args]), [['http_call_response', 1, token, 2, 4, 1]], 'delivered after the stream ended: not cancelled');
  assert.deepEqual(inCb.map((x) => x.text), ['202', 'resp', 'tv', inCb[3]!.text]);
  assert.deepEqual(decodePairs(inCb[3]!.bytes), [[':status', '202'], ['a', 'b']]);
  // Outside that callback the response is gone.
  const after = p.on('request_headers', [{ fn: 'get_buffer_bytes', args: [4, 0, 100, OUT1, OUT2] }, { fn: 'get_header_map_value', args: [6, st, stl, OUT1, OUT2] }]);
  p.vm.stream().sendRequestHeaders(REQ);
  assert.deepEqual(after.map((x) => x.code), [R.NotFound, R.BadArgument]);
});

test('http_call: unknown cluster or missing :method/:path/:authority → BadArgument; no request made', async () => {
  const p = await Probe.start({ clusters: ['upstream'] });
  const [c, cl] = p.data('upstream');
  const [u, ul] = p.data('nope');
  const full = p.pairs([[':method', 'GET'], [':path', '/'], [':authority', 'a']]);
  const bad = [p.pairs([[':path', '/'], [':authority', 'a']]), p.pairs([[':method', 'GET'], [':authority', 'a']]), p.pairs([[':method', 'GET'], [':path', '/']])];
  const r = p.on('request_headers', [
    { fn: 'http_call', args: [u, ul, ...full, 0, 0, 0, 0, 1000, OUT1] },
    ...bad.map((h) => ({ fn: 'http_call' as const, args: [c, cl, ...h, 0, 0, 0, 0, 1000, OUT1] })),
  ]);
  p.vm.stream().sendRequestHeaders(REQ);
  assert.deepEqual(r.map((x) => x.code), [R.BadArgument, R.BadArgument, R.BadArgument, R.BadArgument]);
  assert.equal(p.vm.httpCalls.length, 0);
});

test('http_call failure is delivered as (0, 0, 0) with get_status → (11, "reset"); a timeout as a 504 response', async () => {
  const p = await Probe.start({ clusters: ['upstream'] });
  const [c, cl] = p.data('upstream');
  const h = p.pairs([[':method', 'GET'], [':path', '/'], [':authority', 'a']]);
  p.on('request_headers', [{ fn: 'http_call', args: [c, cl, ...h, 0, 0, 0, 0, 500, OUT1] }, { fn: 'http_call', args: [c, cl, ...h, 0, 0, 0, 0, 500, OUT1] }]);
  const st = p.on('http_call_response', [{ fn: 'get_status', args: [OUT1, OUT2, p.slot()] }]);
  p.vm.stream().sendRequestHeaders(REQ);
  const [a, b] = p.vm.takeHttpCalls('upstream');
  assert.equal(a!.timeoutMs, 500);
  p.clearEvents();
  p.vm.failCall(a!);
  assert.deepEqual(p.events().map((e) => e.args), [[a!.token, 0, 0, 0]]);
  assert.equal(st[0]!.u1, 11);
  p.clearEvents();
  p.vm.timeoutCall(b!);
  assert.equal(p.events()[0]!.args[1], 3, 'a 504 response with 3 headers');
  assert.equal(st[0]!.u1, 11, 'Envoy sets the status only on failure: a later success still reads 11');
  assert.equal(st[0]!.u2, 0, '…with an empty message');
});

test('http_call tokens are numbered per VM like Envoy\'s callout ids: 4, 8, 12, …', async () => {
  const p = await Probe.start({ clusters: ['upstream'] });
  const [c, cl] = p.data('upstream');
  const h = p.pairs([[':method', 'GET'], [':path', '/'], [':authority', 'a']]);
  const r = p.on('request_headers', [1, 2, 3].map(() => ({ fn: 'http_call' as const, args: [c, cl, ...h, 0, 0, 0, 0, 0, OUT1] })));
  p.vm.stream().sendRequestHeaders(REQ);
  assert.deepEqual(r.map((x) => x.u1), [4, 8, 12]);
  assert.deepEqual(p.vm.httpCalls.map((x) => x.token), [4, 8, 12]);
});

test('get_status message after a reset is "reset"', async () => {
  const p = await Probe.start({ clusters: ['upstream'] });
  const [c, cl] = p.data('upstream');
  const h = p.pairs([[':method', 'GET'], [':path', '/'], [':authority', 'a']]);
  p.on('request_headers', [{ fn: 'http_call', args: [c, cl, ...h, 0, 0, 0, 0, 0, OUT1] }]);
  const codeSlot = p.slot();
  const st = p.on('http_call_response', [{ fn: 'get_status', args: [codeSlot, OUT1, OUT2] }]);
  p.vm.stream().sendRequestHeaders(REQ);
  p.vm.failCall(p.vm.httpCalls[0]!);
  assert.equal(p.u32(codeSlot), 11);
  assert.equal(st[0]!.text, 'reset');
});

test('httpCallTimeouts: advancing the virtual clock past a call\'s timeout delivers the timeout', async () => {
  const p = await Probe.start({ clusters: ['upstream'], httpCallTimeouts: true, httpCallTimeoutAs: 'reset' });
  const [c, cl] = p.data('upstream');
  const h = p.pairs([[':method', 'GET'], [':path', '/'], [':authority', 'a']]);
  p.on('request_headers', [{ fn: 'http_call', args: [c, cl, ...h, 0, 0, 0, 0, 300, OUT1] }]);
  p.vm.stream().sendRequestHeaders(REQ);
  p.clearEvents();
  p.vm.advance(299);
  assert.equal(p.vm.httpCalls.length, 1);
  p.vm.advance(1);
  assert.equal(p.vm.httpCalls.length, 0);
  assert.deepEqual(p.events().map((e) => [e.kind, e.args[1]]), [['http_call_response', 0]]);
});

test('httpCallTimeouts: a call the test took (takeHttpCalls) but did not answer still times out; answering it afterwards is an error', async () => {
  const p = await Probe.start({ clusters: ['upstream'], httpCallTimeouts: true });
  const [c, cl] = p.data('upstream');
  const h = p.pairs([[':method', 'GET'], [':path', '/'], [':authority', 'a']]);
  p.on('request_headers', [{ fn: 'http_call', args: [c, cl, ...h, 0, 0, 0, 0, 300, OUT1] }]);
  p.vm.stream().sendRequestHeaders(REQ);
  const [call] = p.vm.takeHttpCalls('upstream');
  assert.ok(call);
  assert.equal(p.vm.httpCalls.length, 0);
  p.clearEvents();
  p.vm.advance(300);
  assert.deepEqual(p.events().map((e) => [e.kind, e.args[1]]), [['http_call_response', 3]], 'the 504 timeout response (3 headers)');
  assert.throws(() => p.vm.respond(call, { status: 200 }), /not pending/);
});

test('ticks: set_tick_period_milliseconds fires on_tick on the root context each period; 0 stops', async () => {
  const p = await Probe.start();
  p.on('request_headers', [{ fn: 'set_tick_period', args: [100] }]);
  p.vm.stream().sendRequestHeaders(REQ);
  assert.equal(p.vm.tickPeriodMs, 100);
  p.clearEvents();
  p.vm.advance(350);
  assert.deepEqual(p.events().map((e) => [e.kind, e.ctx]), [['tick', 1], ['tick', 1], ['tick', 1]]);
  p.on('tick', [{ fn: 'set_tick_period', args: [0] }]);
  p.clearEvents();
  p.vm.advance(1000);
  assert.deepEqual(p.kinds(), ['tick']);
  assert.equal(p.vm.tickPeriodMs, 0);
});

test('gRPC calls answer Unimplemented', async () => {
  const p = await Probe.start();
  const r = p.on('request_headers', [{ fn: 'grpc_call' }, { fn: 'grpc_stream' }, { fn: 'grpc_send' }, { fn: 'grpc_cancel' }, { fn: 'grpc_close' }]);
  p.vm.stream().sendRequestHeaders(REQ);
  assert.deepEqual(r.map((x) => x.code), [12, 12, 12, 12, 12]);
});

test('WASI: random_get, clock_time_get (realtime, monotonic), fd_write to the log, Envoy\'s errno stubs', async () => {
  const p = await Probe.start({ nowMs: 1_000, random: (b) => b.fill(0xab), environment: { A: 'b' } });
  const [buf] = p.data(new Uint8Array(16));
  const [msg, msgl] = p.data('to stdout\n');
  const [iov, iovl] = p.data(new Uint8Array(new Uint32Array([msg, msgl]).buffer));
  void iovl;
  const r = p.on('request_headers', [
    { fn: 'random_get', args: [buf, 16] },
    { fn: 'random_get', args: [buf, 65537] },
    { fn: 'clock_time_get', args: [0, 0, OUT1] },
    { fn: 'clock_time_get', args: [1, 0, OUT1] },
    { fn: 'clock_time_get', args: [7, 0, OUT1] },
    { fn: 'fd_write', args: [1, iov, 1, OUT1] },
    { fn: 'fd_write', args: [2, iov, 1, OUT1] },
    { fn: 'fd_write', args: [3, iov, 1, OUT1] },
    { fn: 'fd_read', args: [0, 0, 0, OUT1] },
    { fn: 'environ_sizes_get', args: [OUT1, OUT2] },
    { fn: 'path_open' },
    { fn: 'get_current_time_ns', args: [OUT1] },
    { fn: 'poll_oneoff', args: [0, 0, 0, OUT1] },
    { fn: 'clock_res_get', args: [0, OUT1] },
    { fn: 'fd_fdstat_get', args: [5, OUT1] },
  ]);
  p.vm.stream().sendRequestHeaders(REQ);
  assert.deepEqual(r.map((x) => x.code), [0, 28, 0, 0, 58, 0, 0, 8, 52, 0, 44, R.Ok, 0, 0, 8]);
  assert.deepEqual([...p.bytes(buf, 16)], Array(16).fill(0xab));
  assert.equal(r[2]!.u64, 1_000_000_000n);
  assert.equal(r[3]!.u64, 1_000_000_000n);
  assert.equal(r[11]!.u64, 1_000_000_000n);
  assert.deepEqual([r[9]!.u1, r[9]!.u2], [1, 4]);
  assert.deepEqual(p.vm.logs.map((l) => [l.level, l.message]), [['info', 'to stdout'], ['error', 'to stdout']]);
});

test('xDS attributes: current Envoy serves xds.node.* (root contexts too), xds.cluster_name, xds.route_name, and no longer node.* or cluster_name; legacyAttributes models an older Envoy', async () => {
  const text = (r: { code: number; text: string }) => (r.code === R.Ok ? r.text : r.code);
  for (const legacy of [false, true]) {
    const p = await Probe.start({ legacyAttributes: legacy, properties: { 'node.id': 'sidecar~9', 'node.cluster': 'c1' } });
    const path = (s: string) => p.data(s.split('.').join('\0'));
    const q = (s: string) => ({ fn: 'get_property' as const, args: [...path(s), OUT1, OUT2] });
    const names = ['xds.node.id', 'xds.node.cluster', 'xds.cluster_name', 'xds.route_name', 'node.id', 'node.cluster', 'cluster_name', 'route_name', 'xds.node', 'xds.nope'];
    const stream = p.on('response_headers', names.map(q));
    const root = p.on('tick', [q('xds.node.id'), q('node.id'), q('xds.cluster_name')]);
    const s = p.vm.stream({ clusterName: 'outbound|80||api', routeName: 'r1' });
    s.sendRequestHeaders(REQ, { endOfStream: true });
    s.sendResponseHeaders(RESP, { endOfStream: true });
    p.vm.plugin!.tick();
    const NF = R.NotFound;
    if (!legacy) {
      assert.deepEqual(stream.map(text), ['sidecar~9', 'c1', 'outbound|80||api', 'r1', NF, NF, NF, NF, NF, NF]);
      assert.deepEqual(root.map(text), ['sidecar~9', NF, NF]);
    } else {
      assert.deepEqual(stream.map(text), [NF, NF, NF, NF, 'sidecar~9', 'c1', 'outbound|80||api', 'r1', NF, NF]);
      assert.deepEqual(root.map(text), [NF, 'sidecar~9', NF]);
    }
  }
});

test('WASI clock_time_get: a wall-clock step moves clock 0 and proxy_get_current_time, not the monotonic clock 1; cputime clocks ENOTSUP', async () => {
  const p = await Probe.start({ nowMs: 1_000 });
  const r = p.on('request_headers', [
    { fn: 'clock_time_get', args: [0, 0, OUT1] },
    { fn: 'clock_time_get', args: [1, 0, OUT1] },
    { fn: 'get_current_time_ns', args: [OUT1] },
    { fn: 'clock_time_get', args: [2, 0, OUT1] },
    { fn: 'clock_time_get', args: [3, 0, OUT1] },
    { fn: 'clock_res_get', args: [1, OUT1] },
    { fn: 'clock_res_get', args: [2, OUT1] },
  ]);
  p.vm.advance(5);
  p.vm.jumpWallClock(-500);
  p.vm.stream().sendRequestHeaders(REQ);
  assert.deepEqual(r.map((x) => x.code), [0, 0, R.Ok, 58, 58, 0, 58]);
  assert.equal(r[0]!.u64, 505_000_000n, 'wall: 1000 + 5 - 500 ms');
  assert.equal(r[1]!.u64, 1_005_000_000n, 'monotonic: 1000 + 5 ms');
  assert.equal(r[2]!.u64, 505_000_000n);
  assert.equal(r[5]!.u64, 1n);
});

test('set_effective_context to an unknown id is BadArgument; continue_stream: bad type BadArgument, Downstream Ok, Upstream Unimplemented; proxy_done is NotFound', async () => {
  const p = await Probe.start();
  const r = p.on('request_headers', [{ fn: 'set_effective_context', args: [999] }, { fn: 'continue_stream', args: [7] }, { fn: 'done' },
    { fn: 'set_effective_context', args: [1] }, { fn: 'continue_stream', args: [2] }, { fn: 'continue_stream', args: [3] }]);
  p.vm.stream().sendRequestHeaders(REQ);
  assert.deepEqual(r.map((x) => x.code), [R.BadArgument, R.BadArgument, R.NotFound, R.Ok, R.Ok, R.Unimplemented]);
});

test('send_local_response: whitespace in details becomes "_"; a gRPC status is kept only for a known code (0–16)', async () => {
  const p = await Probe.start();
  const [det, detl] = p.data('rate limited now');
  p.on('request_headers', [{ fn: 'send_local_response', args: [429, det, detl, 0, 0, 0, 0, 8] }]);
  const s = p.vm.stream();
  s.sendRequestHeaders(REQ);
  assert.equal(s.localResponse?.details, 'rate_limited_now');
  assert.equal(s.localResponse?.grpcStatus, 8);
  p.on('request_headers', [{ fn: 'send_local_response', args: [429, det, detl, 0, 0, 0, 0, 99] }]);
  const s2 = p.vm.stream();
  s2.sendRequestHeaders(REQ);
  assert.equal(s2.localResponse?.grpcStatus, undefined);
});

test('hostCalls counts one per import call', async () => {
  const p = await Probe.start();
  const [k, kl] = p.data(':path');
  p.on('request_headers', [{ fn: 'get_header_map_value', args: [0, k, kl, OUT1, OUT2] }, { fn: 'get_header_map_size', args: [0, OUT1] }, { fn: 'random_get', args: [0, 0] }]);
  p.vm.resetHostCalls();
  p.vm.stream().sendRequestHeaders(REQ);
  assert.equal(p.vm.hostCalls, 3);
});

test('an http_call answer the data plane reports synchronously is still delivered after the calling callback returned', async () => {
  const p = await Probe.start({ clusters: ['upstream'] });
  const env = p.vm.env;
  env.httpCall = (_req, done) => { done({ headers: [[':status', '200']], body: new Uint8Array(0), trailers: [] }); return true; };
  const [c, cl] = p.data('upstream');
  const h = p.pairs([[':method', 'GET'], [':path', '/'], [':authority', 'a']]);
  const [m1, m1l] = p.data('after http_call, same callback');
  const [m2, m2l] = p.data('in on_http_call_response');
  const r = p.on('request_headers', [{ fn: 'http_call', args: [c, cl, ...h, 0, 0, 0, 0, 0, OUT1] }, { fn: 'log', args: [2, m1, m1l] }]);
  p.on('http_call_response', [{ fn: 'log', args: [2, m2, m2l] }]);
  p.vm.stream().sendRequestHeaders(REQ);
  assert.equal(r[0]!.code, R.Ok);
  assert.deepEqual(p.vm.logsAt('info'), ['after http_call, same callback', 'in on_http_call_response']);
});

test('an http_call the data plane cannot start answers InternalFailure and no callback comes', async () => {
  for (const refuse of [() => false as const, () => { throw new Error('no healthy upstream'); }]) {
    await inlineFailure(refuse);
  }
});

async function inlineFailure(refuse: () => false): Promise<void> {
  const p = await Probe.start({ clusters: ['upstream'] });
  p.vm.env.httpCall = refuse;
  const [c, cl] = p.data('upstream');
  const h = p.pairs([[':method', 'GET'], [':path', '/'], [':authority', 'a']]);
  const r = p.on('request_headers', [{ fn: 'http_call', args: [c, cl, ...h, 0, 0, 0, 0, 0, OUT1] }]);
  p.clearEvents();
  p.vm.stream().sendRequestHeaders(REQ);
  assert.equal(r[0]!.code, R.InternalFailure);
  assert.ok(!p.kinds().includes('http_call_response'));
  assert.equal(p.vm.failed, false);
  assert.equal(p.vm.plugin!.pendingHttpCalls, 0);
}

test('a missing header is Ok with an empty value for ABI 0.1.0, NotFound from 0.2.0 on', async () => {
  for (const [abi, want, params] of [['0_1_0', R.Ok, 'i32 i32'], ['0_2_0', R.NotFound, 'i32 i32 i32']] as const) {
    const vm = await TestVM.start({ wasm: await wat('abi010', { ABI: abi, PARAMS: params }) });
    vm.stream().sendRequestHeaders(REQ);
    const dv = new DataView((vm.plugin!.moduleExports['memory'] as WebAssembly.Memory).buffer);
    assert.equal(dv.getInt32(16, true), want, abi);
  }
});

test('an exception thrown by the host while serving the module (here: the data plane\'s property source) traps the VM', async () => {
  const p = await Probe.start({ failOpen: true });
  p.vm.env.properties = () => { throw new Error('data plane bug'); };
  p.on('request_headers', [{ fn: 'get_property', args: [...p.data('xds\0node\0id'), OUT1, OUT2] }]);
  const s = p.vm.stream();
  assert.equal(s.sendRequestHeaders(REQ), 0, 'fail open');
  assert.equal(p.vm.failed, true);
  assert.match(p.vm.failMessage, /data plane bug/);
});

test('StopIteration from response headers withholds the response body until continue_stream(Response)', async () => {
  const p = await Probe.start();
  p.returns('response_headers', 1);
  const s = p.vm.stream();
  s.sendRequestHeaders(REQ, { endOfStream: true });
  assert.equal(s.sendResponseHeaders(RESP), 4);
  p.returns('response_headers', 0);
  assert.equal(s.sendResponseBody('part', { endOfStream: true }), 1);
  assert.ok(!p.kinds().includes('response_body'));
  p.on('request_headers', [{ fn: 'set_effective_context', args: [s.contextId] }, { fn: 'continue_stream', args: [1] }]);
  p.vm.stream().sendRequestHeaders(REQ);
  assert.ok(p.kinds().includes('response_body'));
  assert.equal(new TextDecoder().decode(s.forwardedResponseBody), 'part');
  assert.equal(s.continues.at(-1)?.endOfStream, true);
});

test('pointers outside memory answer InvalidMemoryAccess instead of trapping', async () => {
  const p = await Probe.start();
  const far = 0x7fff0000;
  const [k, kl] = p.data(':path');
  const r = p.on('request_headers', [
    { fn: 'get_header_map_value', args: [0, far, 4, OUT1, OUT2] },
    { fn: 'get_header_map_value', args: [0, k, kl, far, far] },
    { fn: 'log', args: [2, far, 10] },
    { fn: 'get_property', args: [far, 3, OUT1, OUT2] },
    { fn: 'set_header_map_pairs', args: [0, far, 16] },
    { fn: 'random_get', args: [far, 16] },
  ]);
  const s = p.vm.stream();
  assert.equal(s.sendRequestHeaders(REQ), 0);
  assert.deepEqual(r.map((x) => x.code), [R.InvalidMemoryAccess, R.InvalidMemoryAccess, R.InvalidMemoryAccess, R.InvalidMemoryAccess, R.InvalidMemoryAccess, 21]);
  assert.equal(p.vm.failed, false);
});

test('worker VMs share only shared data and queues: globals and memory are per VM', async () => {
  const store = new SharedStore();
  const a = await Probe.start({ store });
  const b = await Probe.start({ store });
  const [k, kl] = a.data('shared-key');
  const [v, vl] = a.data('from-a');
  a.on('request_headers', [{ fn: 'set_shared_data', args: [k, kl, v, vl, 0] }]);
  a.vm.stream().sendRequestHeaders(REQ);
  const [k2, k2l] = b.data('shared-key');
  const r = b.on('request_headers', [{ fn: 'get_shared_data', args: [k2, k2l, OUT1, OUT2, b.slot()] }]);
  b.clearEvents();
  b.vm.stream().sendRequestHeaders(REQ);
  assert.equal(r[0]!.text, 'from-a');
  assert.equal(a.events().length > b.events().length, true, 'each VM has its own memory (event log)');
  const c = await Probe.start();
  const r3 = c.on('request_headers', [{ fn: 'get_shared_data', args: [...c.data('shared-key'), OUT1, OUT2, 0] }]);
  c.vm.stream().sendRequestHeaders(REQ);
  assert.equal(r3[0]!.code, R.NotFound, 'another store (another Envoy) does not see it');
});

test('closing the plugin runs on_done and on_delete on the root context and cancels ticks and outbound calls', async () => {
  const p = await Probe.start({ clusters: ['upstream'] });
  const [c, cl] = p.data('upstream');
  const h = p.pairs([[':method', 'GET'], [':path', '/'], [':authority', 'a']]);
  p.on('request_headers', [{ fn: 'set_tick_period', args: [10] }, { fn: 'http_call', args: [c, cl, ...h, 0, 0, 0, 0, 0, OUT1] }]);
  p.vm.stream().sendRequestHeaders(REQ);
  assert.equal(p.vm.plugin!.pendingHttpCalls, 1);
  p.clearEvents();
  p.vm.close();
  assert.deepEqual(p.events().map((e) => [e.kind, e.ctx]), [['done', 1], ['delete', 1]]);
  assert.equal(p.vm.plugin!.pendingHttpCalls, 0);
  assert.equal(p.vm.httpCalls.length, 0);
  p.vm.advance(100);
  assert.deepEqual(p.kinds(), ['done', 'delete']);
});

test('bytes the host keeps (shared data, queue items, http_call body, local reply body, set_buffer_bytes, set_property) are copies, not views of module memory', async () => {
  const p = await Probe.start({ clusters: ['upstream'] });
  const enc = (t: string): Uint8Array => new TextEncoder().encode(t);
  const text = (b: Uint8Array): string => new TextDecoder().decode(b);
  const [k, kl] = p.data('key');
  const [q, ql] = p.data('queue');
  const [c, cl] = p.data('upstream');
  const [h, hl] = p.pairs([[':method', 'POST'], [':path', '/x'], [':authority', 'svc']]);
  const [v, vl] = p.data('original');
  const qtok = p.slot();
  p.on('request_headers', [
    { fn: 'set_shared_data', args: [k, kl, v, vl, 0] },
    { fn: 'http_call', args: [c, cl, h, hl, v, vl, 0, 0, 0, OUT1] },
    { fn: 'register_shared_queue', args: [q, ql, qtok] },
    { fn: 'send_local_response', args: [500, 0, 0, v, vl, 0, 0, -1] },
  ]);
  const s1 = p.vm.stream();
  s1.sendRequestHeaders(REQ);
  const token = p.u32(qtok);
  p.mem.set(enc('CLOBBER1'), v); // the module reuses its memory
  assert.equal(p.vm.httpCalls[0]!.bodyText, 'original', 'http_call body');
  assert.equal(s1.localResponse?.body, 'original', 'local reply body');

  p.on('request_headers', [{ fn: 'set_property', args: [k, kl, v, vl] }, { fn: 'enqueue_shared_queue', args: [token, v, vl] }]);
  const read = p.on('request_body', [
    { fn: 'set_buffer_bytes', args: [0, 0, 100, v, vl] },
    { fn: 'get_property', args: [k, kl, OUT1, OUT2] },
    { fn: 'get_shared_data', args: [k, kl, OUT1, OUT2, 0] },
    { fn: 'dequeue_shared_queue', args: [token, OUT1, OUT2] },
  ]);
  const s2 = p.vm.stream();
  s2.sendRequestHeaders(REQ); // property and queue item: CLOBBER1
  p.mem.set(enc('CLOBBER2'), v);
  const r = s2.stream.onRequestBody(enc('chunk'), true); // body set to CLOBBER2
  p.mem.set(enc('CLOBBER3'), v);
  assert.deepEqual(read.map((x) => x.code), [R.Ok, R.Ok, R.Ok, R.Ok]);
  assert.equal(text(r.data), 'CLOBBER2', 'set_buffer_bytes');
  assert.equal(read[1]!.text, 'CLOBBER1', 'set_property');
  assert.equal(read[2]!.text, 'original', 'shared data');
  assert.equal(read[3]!.text, 'CLOBBER1', 'queue item');
});
