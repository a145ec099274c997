// A body held with StopIterationAndBuffer must reach the data plane once the filter lets the
// stream go on — whether the trailers callback continues right away or a later
// proxy_continue_stream does. modules/buffer-trailers.wat buffers every body chunk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestVM, type TestStream } from '../../src/host/testing.js';
import { wat } from './wat.js';

const REQ: [string, string][] = [[':method', 'POST'], [':path', '/p'], [':authority', 'api']];
const RESP: [string, string][] = [[':status', '200']];
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

interface Filter { headers: 0 | 1; trailers: 0 | 1; direction: 0 | 1; body?: 1 | 3 }

async function start(f: Filter): Promise<{ vm: TestVM; seen: () => [string, number][] }> {
  const vm = await TestVM.start({
    wasm: await wat('buffer-trailers', { HEADERS: String(f.headers), TRAILERS: String(f.trailers), DIRECTION: String(f.direction), BODY: String(f.body ?? 1) }),
  });
  assert.equal(vm.configured, true, vm.rejection);
  const names = ['', 'request_body', 'request_trailers', 'response_body', 'response_trailers'];
  const seen = (): [string, number][] => {
    const dv = new DataView((vm.plugin!.moduleExports['memory'] as WebAssembly.Memory).buffer);
    const out: [string, number][] = [];
    for (let i = 0; i < dv.getUint32(0, true); i++) out.push([names[dv.getUint32(64 + i * 8, true)]!, dv.getUint32(68 + i * 8, true)]);
    return out;
  };
  return { vm, seen };
}

const released = (s: TestStream): [string, string, boolean, number | undefined][] =>
  s.continues.map((c) => [c.direction, text(c.data), c.endOfStream, c.trailers?.length]);

test('request: body buffered, trailers continue → the held body is released (onContinue) before the trailers go on', async () => {
  const { vm, seen } = await start({ headers: 0, trailers: 0, direction: 0 });
  const s = vm.stream();
  assert.equal(s.sendRequestHeaders(REQ), 0);
  assert.equal(s.sendRequestBody('part1-'), 1);
  assert.equal(s.sendRequestBody('part2'), 1);
  assert.equal(s.forwardedRequestBody.length, 0);
  assert.equal(s.sendRequestTrailers([['t', '1']]), 0);
  assert.deepEqual(seen(), [['request_body', 6], ['request_body', 11], ['request_trailers', 1]]);
  assert.equal(text(s.forwardedRequestBody), 'part1-part2');
  assert.deepEqual(released(s), [['request', 'part1-part2', false, undefined]]);
});

test('response: body buffered, trailers continue → the held body is released before the trailers', async () => {
  const { vm } = await start({ headers: 0, trailers: 0, direction: 1 });
  const s = vm.stream();
  s.sendRequestHeaders(REQ, { endOfStream: true });
  assert.equal(s.sendResponseHeaders(RESP), 0);
  assert.equal(s.sendResponseBody('answer'), 1);
  assert.equal(s.sendResponseTrailers([['grpc-status', '0']]), 0);
  assert.equal(text(s.forwardedResponseBody), 'answer');
  assert.deepEqual(released(s), [['response', 'answer', false, undefined]]);
});

test('request: headers stopped, body and trailers held unseen; after continue_stream the body is buffered and the continuing trailers release it, with the trailers', async () => {
  const { vm, seen } = await start({ headers: 1, trailers: 0, direction: 0 });
  const s = vm.stream();
  assert.equal(s.sendRequestHeaders(REQ), 4);
  assert.equal(s.sendRequestBody('held-while-stopped'), 1);
  assert.equal(s.sendRequestTrailers([['t', '1']]), 1);
  assert.deepEqual(seen(), [], 'nothing seen while the headers are stopped');
  vm.tick();
  assert.deepEqual(seen(), [['request_body', 18], ['request_trailers', 1]], 'body then trailers run after continue');
  assert.equal(text(s.forwardedRequestBody), 'held-while-stopped');
  assert.deepEqual(released(s), [['request', 'held-while-stopped', false, 1]]);
});

test('response: headers stopped, body and trailers held unseen; continue_stream(Response) releases body and trailers after their callbacks', async () => {
  const { vm, seen } = await start({ headers: 1, trailers: 0, direction: 1 });
  const s = vm.stream();
  s.sendRequestHeaders(REQ, { endOfStream: true });
  vm.tick(); // continue_stream(Response) while nothing is stopped there: no effect
  assert.equal(s.sendResponseHeaders(RESP), 4);
  assert.equal(s.sendResponseBody('resp'), 1);
  assert.equal(s.sendResponseTrailers([['x', 'y']]), 1);
  vm.tick();
  assert.deepEqual(seen(), [['response_body', 4], ['response_trailers', 1]]);
  assert.equal(text(s.forwardedResponseBody), 'resp');
  assert.deepEqual(released(s), [['response', 'resp', false, 1]]);
});

test('request: body buffered, trailers stop; a later continue_stream releases the body and the trailers together', async () => {
  const { vm, seen } = await start({ headers: 0, trailers: 1, direction: 0 });
  const s = vm.stream();
  s.sendRequestHeaders(REQ);
  assert.equal(s.sendRequestBody('abc'), 1);
  assert.equal(s.sendRequestTrailers([['t', '1'], ['u', '2']]), 1);
  assert.equal(s.continues.length, 0, 'nothing released while the trailers hold the stream');
  vm.tick();
  assert.deepEqual(seen(), [['request_body', 3], ['request_trailers', 2]], 'the trailers callback does not run twice');
  assert.equal(text(s.forwardedRequestBody), 'abc');
  assert.deepEqual(released(s), [['request', 'abc', false, 2]]);
});

test('request: headers stopped, trailers stop after continue; the next continue_stream releases body and trailers once', async () => {
  const { vm, seen } = await start({ headers: 1, trailers: 1, direction: 0 });
  const s = vm.stream();
  assert.equal(s.sendRequestHeaders(REQ), 4);
  s.sendRequestBody('xyz');
  s.sendRequestTrailers([['t', '1']]);
  vm.tick();
  assert.deepEqual(seen(), [['request_body', 3], ['request_trailers', 1]]);
  assert.equal(s.forwardedRequestBody.length, 0, 'still held: the trailers stopped');
  vm.tick();
  assert.deepEqual(seen(), [['request_body', 3], ['request_trailers', 1]]);
  assert.equal(text(s.forwardedRequestBody), 'xyz');
  assert.deepEqual(released(s), [['request', 'xyz', false, 1]]);
  vm.tick();
  assert.equal(s.continues.length, 1, 'a further continue releases nothing twice');
});

test('request: headers stopped; after continue_stream the body callback drops the chunk (StopIterationNoBuffer) and the trailers still run and go on', async () => {
  const { vm, seen } = await start({ headers: 1, trailers: 0, direction: 0, body: 3 });
  const s = vm.stream();
  assert.equal(s.sendRequestHeaders(REQ), 4);
  s.sendRequestBody('dropped');
  s.sendRequestTrailers([['t', '1']]);
  vm.tick();
  assert.deepEqual(seen(), [['request_body', 7], ['request_trailers', 1]]);
  assert.equal(s.forwardedRequestBody.length, 0, 'the filter owns a chunk it did not buffer');
  assert.deepEqual(released(s), [['request', '', false, 1]]);
});
