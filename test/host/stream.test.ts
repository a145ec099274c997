// One HTTP stream through the filter: Envoy's call order, map/body visibility, stop/continue,
// deferred actions, and what a trap does to later streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Probe, OUT1, OUT2 } from './probe.js';
import { WasmResult as R } from '../../src/host/index.js';

const REQ: [string, string][] = [[':method', 'POST'], [':path', '/p?q=1'], [':authority', 'api'], ['x-request-id', 'rid-1']];
const RESP: [string, string][] = [[':status', '200'], ['content-type', 'text/plain']];
const text = (b: Uint8Array) => new TextDecoder().decode(b);

test('Envoy call order: create (lazily) → request headers/body/trailers → response headers/body/trailers → on_log → on_done → on_delete', async () => {
  const p = await Probe.start();
  p.clearEvents();
  const s = p.vm.stream();
  assert.deepEqual(p.events(), [], 'the in-VM context is created lazily');
  s.sendRequestHeaders(REQ);
  s.sendRequestBody('a');
  s.sendRequestBody('b', { endOfStream: false });
  s.sendRequestTrailers([['t', '1']]);
  s.sendResponseHeaders(RESP);
  s.sendResponseBody('x', { endOfStream: false });
  s.sendResponseTrailers([['rt', '2']]);
  s.complete();
  const ev = p.events();
  assert.deepEqual(ev.map((e) => e.kind), ['context_create', 'request_headers', 'request_body', 'request_body', 'request_trailers',
    'response_headers', 'response_body', 'response_trailers', 'log', 'done', 'delete']);
  assert.deepEqual(ev[0]!.args.slice(0, 1), [1], 'on_context_create(stream, root id)');
  assert.ok(ev.every((e) => e.ctx === 2), 'the first stream context is 2');
  assert.deepEqual(ev[1]!.args.slice(0, 2), [4, 0], 'on_request_headers(ctx, header count, end_of_stream)');
  assert.deepEqual(ev[2]!.args.slice(0, 2), [1, 0], 'on_request_body(ctx, chunk size, end_of_stream)');
  assert.equal(s.contextId, 2);
  assert.equal(p.vm.stream().contextId, 3, 'stream ids continue from the root id');
});

test('a stream answered by another filter (never seen by this one) still gets create → on_log → on_done → on_delete', async () => {
  const p = await Probe.start();
  p.clearEvents();
  p.vm.stream().complete();
  assert.deepEqual(p.kinds(), ['context_create', 'log', 'done', 'delete']);
});

test('on_done\'s return value is ignored: on_delete follows either way', async () => {
  const p = await Probe.start();
  p.returns('done', 0);
  p.clearEvents();
  const s = p.vm.stream();
  s.sendRequestHeaders(REQ, { endOfStream: true });
  s.complete();
  assert.deepEqual(p.kinds().slice(-3), ['log', 'done', 'delete']);
});

test('after a headers callback returned Continue its map is gone: writes BadArgument, get BadArgument, pairs empty, size BadArgument', async () => {
  const p = await Probe.start();
  const [k, kl] = p.data('x-a');
  const [v, vl] = p.data('1');
  const during = p.on('request_headers', [{ fn: 'add_header_map_value', args: [0, k, kl, v, vl] }, { fn: 'get_header_map_size', args: [0, OUT1] }]);
  const after = p.on('response_headers', [
    { fn: 'add_header_map_value', args: [0, k, kl, v, vl] },
    { fn: 'get_header_map_value', args: [0, k, kl, OUT1, OUT2] },
    { fn: 'get_header_map_pairs', args: [0, OUT1, OUT2] },
    { fn: 'get_header_map_size', args: [0, OUT1] },
    { fn: 'replace_header_map_value', args: [0, k, kl, v, vl] },
    { fn: 'remove_header_map_value', args: [0, k, kl] },
  ]);
  const s = p.vm.stream();
  s.sendRequestHeaders(REQ);
  assert.equal(during[0]!.code, R.Ok);
  assert.equal(during[1]!.u1, REQ.reduce((n, [a, b]) => n + a.length + b.length, 0) + 'x-a'.length + '1'.length, 'a byte size (names + values), not a count');
  s.sendResponseHeaders(RESP);
  assert.deepEqual(after.map((r) => r.code), [R.BadArgument, R.BadArgument, R.Ok, R.BadArgument, R.BadArgument, R.BadArgument]);
  assert.deepEqual([after[2]!.u1, after[2]!.u2], [0, 0]);
  assert.equal(s.requestHeader('x-a'), '1', 'the add made during the callback went upstream');
});

test('request and response headers are readable (not writable) in on_log; a missing header there is NotFound', async () => {
  const p = await Probe.start();
  const [k, kl] = p.data(':path');
  const [st, stl] = p.data(':status');
  const [m, ml] = p.data('missing');
  const r = p.on('log', [
    { fn: 'get_header_map_value', args: [0, k, kl, OUT1, OUT2] },
    { fn: 'get_header_map_value', args: [2, st, stl, OUT1, OUT2] },
    { fn: 'get_header_map_value', args: [0, m, ml, OUT1, OUT2] },
    { fn: 'add_header_map_value', args: [0, m, ml, m, ml] },
    { fn: 'get_header_map_pairs', args: [0, OUT1, OUT2] },
  ]);
  const s = p.vm.stream();
  s.sendRequestHeaders(REQ, { endOfStream: true });
  s.sendResponseHeaders(RESP, { endOfStream: true });
  s.complete();
  assert.equal(r[0]!.text, '/p?q=1');
  assert.equal(r[1]!.text, '200');
  assert.equal(r[2]!.code, R.NotFound);
  assert.equal(r[3]!.code, R.BadArgument);
  assert.equal(r[4]!.u2 > 0, true);
});

test('StopIteration from request headers becomes StopAllIterationAndWatermark: body and trailers are withheld until proxy_continue_stream', async () => {
  const p = await Probe.start();
  p.returns('request_headers', 1);
  const [b, bl] = p.data('');
  void b; void bl;
  p.on('request_headers', [{ fn: 'set_tick_period', args: [1000] }]);
  const s = p.vm.stream();
  const ctx = s.contextId;
  p.on('tick', [{ fn: 'set_effective_context', args: [ctx] }, { fn: 'continue_stream', args: [0] }]);
  const bodyRead = p.on('request_body', [{ fn: 'get_buffer_bytes', args: [0, 0, 1000, OUT1, OUT2] }]);
  assert.equal(s.sendRequestHeaders(REQ), 4);
  p.returns('request_headers', 0);
  assert.equal(s.sendRequestBody('hello'), 1, 'held');
  assert.equal(s.sendRequestTrailers([['t', '1']]), 1, 'held');
  assert.ok(!p.kinds().includes('request_body'), 'the filter does not see the body while stopped');
  assert.equal(s.forwardedRequestBody.length, 0);
  p.clearEvents();
  p.vm.advance(1000);
  assert.deepEqual(p.kinds(), ['tick', 'request_body', 'request_trailers']);
  assert.equal(bodyRead[0]!.text, 'hello');
  assert.equal(text(s.forwardedRequestBody), 'hello');
  assert.deepEqual(s.continues.map((c) => [c.direction, c.trailers?.length]), [['request', 1]]);
});

test('body callbacks see only the current chunk, unless the previous one returned StopIterationAndBuffer', async () => {
  const p = await Probe.start();
  const read = p.on('request_body', [{ fn: 'get_buffer_bytes', args: [0, 0, 1 << 20, OUT1, OUT2] }, { fn: 'get_buffer_status', args: [0, OUT1, OUT2] }]);
  const s = p.vm.stream();
  s.sendRequestHeaders(REQ);
  s.sendRequestBody('aaa');
  assert.equal(read[0]!.text, 'aaa');
  s.sendRequestBody('bb');
  assert.equal(read[0]!.text, 'bb', 'after Continue the previous chunk is gone');
  assert.equal(text(s.forwardedRequestBody), 'aaabb');
  p.returns('request_body', 1);
  assert.equal(s.sendRequestBody('cc'), 1);
  assert.equal(read[0]!.text, 'cc');
  p.returns('request_body', 0);
  p.clearEvents();
  assert.equal(s.sendRequestBody('dd', { endOfStream: true }), 0);
  assert.equal(read[0]!.text, 'ccdd', 'buffered bytes plus the new chunk');
  assert.equal(read[1]!.u1, 4, 'get_buffer_status length');
  assert.deepEqual(p.events()[0]!.args.slice(0, 2), [4, 1], 'body_size is the buffered total');
  assert.equal(text(s.forwardedRequestBody), 'aaabbccdd');
});

test('a body read outside its callback is empty; a write there is BadArgument', async () => {
  const p = await Probe.start();
  const [d, dl] = p.data('zz');
  const r = p.on('response_headers', [{ fn: 'get_buffer_bytes', args: [0, 0, 100, OUT1, OUT2] }, { fn: 'set_buffer_bytes', args: [0, 0, 100, d, dl] }]);
  const s = p.vm.stream();
  s.sendRequestHeaders(REQ);
  s.sendRequestBody('body', { endOfStream: true });
  s.sendResponseHeaders(RESP);
  assert.equal(r[0]!.code, R.Ok);
  assert.deepEqual([r[0]!.u1, r[0]!.u2], [0, 0]);
  assert.equal(r[1]!.code, R.BadArgument);
});

test('proxy_set_buffer_bytes follows Envoy: replace whole, prepend, append, else BadArgument', async () => {
  const p = await Probe.start();
  const [x, xl] = p.data('XY');
  const ops = p.on('request_body', [{ fn: 'set_buffer_bytes', args: [0, 0, 0, x, xl] }, { fn: 'set_buffer_bytes', args: [0, 100, 0, x, xl] }, { fn: 'set_buffer_bytes', args: [0, 1, 1, x, xl] }]);
  const s = p.vm.stream();
  s.sendRequestHeaders(REQ);
  s.sendRequestBody('ab');
  assert.deepEqual(ops.map((o) => o.code), [R.Ok, R.Ok, R.BadArgument]);
  assert.equal(text(s.forwardedRequestBody), 'XYabXY');
  p.on('request_body', [{ fn: 'set_buffer_bytes', args: [0, 0, 99, x, xl] }]);
  s.sendRequestBody('long-body', { endOfStream: true });
  assert.equal(text(s.forwardedRequestBody), 'XYabXYXY');
});

test('send_local_response takes effect after the callback returns, turns its result into a stop, and the reply is encoded through the filter', async () => {
  const p = await Probe.start();
  const [det, detl] = p.data('denied_by_probe');
  const [body, bodyl] = p.data('nope');
  const [hp, hl] = p.pairs([['X-Reason', 'test']]);
  const [k, kl] = p.data('x-after');
  const ops = p.on('request_headers', [
    { fn: 'send_local_response', args: [403, det, detl, body, bodyl, hp, hl, -1] },
    { fn: 'add_header_map_value', args: [0, k, kl, k, kl] },
  ]);
  const st = p.on('response_headers', [{ fn: 'get_header_map_value', args: [2, ...p.data(':status'), OUT1, OUT2] }]);
  const s = p.vm.stream();
  p.clearEvents();
  assert.equal(s.sendRequestHeaders(REQ), 4, 'Continue became a stop');
  assert.equal(ops[1]!.code, R.Ok, 'the map is still the module\'s after send_local_response');
  const lr = s.localResponse;
  assert.deepEqual(lr && { status: lr.status, body: lr.body, headers: lr.headers, details: lr.details, grpc: lr.grpcStatus },
    { status: 403, body: 'nope', headers: [['x-reason', 'test']], details: 'denied_by_probe', grpc: undefined });
  assert.equal(text(lr!.bodyBytes), 'nope');
  assert.deepEqual(p.kinds(), ['context_create', 'request_headers', 'response_headers', 'response_body']);
  assert.equal(st[0]!.text, '403');
  assert.equal(s.responseHeader('x-reason'), 'test');
});

test('close_stream takes effect after the callback', async () => {
  const p = await Probe.start();
  const [k, kl] = p.data('x-k');
  const r = p.on('request_headers', [{ fn: 'close_stream', args: [0] }, { fn: 'add_header_map_value', args: [0, k, kl, k, kl] }, { fn: 'close_stream', args: [9] }]);
  const s = p.vm.stream();
  let closedDuring: string | undefined = 'unset';
  s.stream.onClose = (d) => { closedDuring = d; };
  s.sendRequestHeaders(REQ);
  assert.deepEqual(r.map((x) => x.code), [R.Ok, R.Ok, R.BadArgument]);
  assert.equal(closedDuring, 'request');
  assert.equal(s.closed, 'request');
  assert.equal(s.info.responseCodeDetails, 'wasm_close_stream');
});

for (const [name, fn] of [['unreachable', 'unreachable'], ['an out-of-bounds access', 'oob_load'], ['proc_exit', 'proc_exit']] as const) {
  test(`a trap (${name}) marks the VM failed; fail-closed streams get 503 wasm_fail_stream`, async () => {
    const p = await Probe.start({ failOpen: false });
    p.on('request_headers', [{ fn }]);
    const s = p.vm.stream();
    assert.equal(s.sendRequestHeaders(REQ), 4);
    assert.equal(p.vm.failed, true);
    assert.equal(s.localResponse?.status, 503);
    assert.equal(s.localResponse?.details, 'wasm_fail_stream');
    assert.equal(s.sendResponseHeaders([[':status', '503']], { endOfStream: true }), 0, 'the 503 passes back through the failed filter');
    p.clearEvents();
    const s2 = p.vm.stream();
    assert.equal(s2.sendRequestHeaders(REQ), 4);
    assert.equal(s2.localResponse?.details, 'wasm_fail_stream');
    s2.complete();
    assert.deepEqual(p.events(), [], 'no callback runs in a failed VM');
    assert.match(p.vm.logsAt('critical').join('\n'), /proxy_on_request_headers failed/);
  });
}

test('after a trap, fail-open streams pass untouched', async () => {
  const p = await Probe.start({ failOpen: true });
  p.on('request_body', [{ fn: 'unreachable' }]);
  const s = p.vm.stream();
  s.sendRequestHeaders(REQ);
  assert.equal(s.sendRequestBody('abc', { endOfStream: true }), 0);
  assert.equal(text(s.forwardedRequestBody), 'abc');
  assert.equal(p.vm.failed, true);
  p.clearEvents();
  const s2 = p.vm.stream();
  const [k, kl] = p.data('x');
  p.on('request_headers', [{ fn: 'add_header_map_value', args: [0, k, kl, k, kl] }]);
  assert.equal(s2.sendRequestHeaders(REQ), 0);
  assert.equal(s2.localResponse, undefined);
  assert.deepEqual(s2.requestHeaders, REQ);
  assert.deepEqual(p.events(), []);
});

test('a trap in on_tick fails the VM; later streams fail as configured and ticks stop', async () => {
  const p = await Probe.start({ failOpen: false });
  p.on('request_headers', [{ fn: 'set_tick_period', args: [100] }]);
  p.vm.stream().sendRequestHeaders(REQ);
  p.on('tick', [{ fn: 'unreachable' }]);
  p.vm.advance(100);
  assert.equal(p.vm.failed, true);
  p.clearEvents();
  p.vm.advance(1000);
  assert.deepEqual(p.events(), []);
  assert.equal(p.vm.stream().sendRequestHeaders(REQ), 4);
});

test('trailers that continue release the body a StopIterationAndBuffer was holding', async () => {
  const p = await Probe.start();
  p.returns('request_body', 1);
  const s = p.vm.stream();
  s.sendRequestHeaders(REQ);
  assert.equal(s.sendRequestBody('held-part'), 1);
  assert.equal(s.forwardedRequestBody.length, 0);
  assert.equal(s.sendRequestTrailers([['t', '1']]), 0);
  assert.equal(text(s.forwardedRequestBody), 'held-part');
  assert.deepEqual(s.continues.map((c) => [c.direction, text(c.data), c.endOfStream]), [['request', 'held-part', false]]);
});
