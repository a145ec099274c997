// Plugin removal as Envoy does it (proxy-wasm-cpp-host WasmBase::startShutdown / done /
// finishShutdown, Envoy's ~Context): the root's on_done decides whether it is deleted now or
// stays alive, with its ticks and call answers, until it calls proxy_done; outstanding calls
// are then cancelled without a callback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WasmResult as R } from '../../src/host/index.js';
import { OUT1, Probe } from './probe.js';

const REQ: [string, string][] = [[':method', 'GET'], [':path', '/'], [':authority', 'api']];

/** A probe whose request starts two calls to "upstream" and arms a 10 ms tick. */
async function withTwoCalls(): Promise<Probe> {
  const p = await Probe.start();
  const [c, cl] = p.data('upstream');
  const h = p.pairs([[':method', 'GET'], [':path', '/x'], [':authority', 'up']]);
  p.on('request_headers', [
    { fn: 'http_call', args: [c, cl, ...h, 0, 0, 0, 0, 0, OUT1] },
    { fn: 'http_call', args: [c, cl, ...h, 0, 0, 0, 0, 0, OUT1] },
    { fn: 'set_tick_period', args: [10] },
  ]);
  const s = p.vm.stream();
  s.sendRequestHeaders(REQ, { endOfStream: true });
  s.complete();
  assert.equal(p.vm.httpCalls.length, 2);
  p.clearEvents();
  return p;
}

test('on_done true: the root is deleted at once and its outstanding calls are cancelled with no callback', async () => {
  const p = await withTwoCalls();
  const calls = p.vm.takeHttpCalls();
  p.returns('done', 1);
  assert.equal(p.vm.close(), true);
  assert.equal(p.vm.closed, true);
  assert.deepEqual(p.kinds(), ['done', 'delete']);
  p.vm.respond(calls[0]!, { status: 200 });
  p.vm.advance(100);
  assert.deepEqual(p.kinds(), ['done', 'delete'], 'no answer and no tick after the deletion');
  assert.equal(p.vm.plugin!.pendingHttpCalls, 0);
});

test('on_done false: the root keeps its ticks and answers until proxy_done; then it is deleted and the other call is cancelled', async () => {
  const p = await withTwoCalls();
  const [first, second] = p.vm.takeHttpCalls();
  p.returns('done', 0);
  assert.equal(p.vm.close(), false);
  assert.equal(p.vm.closed, false);
  assert.equal(p.vm.plugin!.closing, true);
  assert.throws(() => p.vm.stream(), /closed/, 'no new streams on a plugin being removed');
  p.vm.advance(25);
  assert.equal(p.kinds().filter((k) => k === 'tick').length, 2, 'ticks go on');
  // The first answer arrives; the module calls proxy_done from inside that callback.
  const done = p.on('http_call_response', [{ fn: 'done' }, { fn: 'done' }]);
  p.vm.respond(first!, { status: 200, body: 'ok' });
  assert.deepEqual([done[0]!.code, done[1]!.code], [R.Ok, R.NotFound], 'proxy_done once; a second call is NotFound');
  assert.deepEqual(p.kinds().slice(-2), ['http_call_response', 'delete'], 'deleted after the callback returned');
  assert.equal(p.vm.closed, true);
  await p.vm.plugin!.done;
  assert.equal(p.vm.plugin!.pendingHttpCalls, 0);
  p.clearEvents();
  p.vm.respond(second!, { status: 200 });
  p.vm.advance(100);
  assert.deepEqual(p.kinds(), [], 'the cancelled call never answers; no more ticks');
});

test('proxy_done is NotFound unless the root said "not done yet"; kill() drops a waiting root with no callback', async () => {
  const p = await withTwoCalls();
  const early = p.on('tick', [{ fn: 'done' }]);
  p.vm.advance(10);
  assert.equal(early[0]!.code, R.NotFound);
  p.returns('done', 0);
  p.clear('tick');
  assert.equal(p.vm.close(), false);
  p.clearEvents();
  p.vm.kill();
  assert.equal(p.vm.closed, true);
  assert.deepEqual(p.kinds(), []);
  assert.equal(p.vm.httpCalls.length, 0);
});
