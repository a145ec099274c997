// Memory stays bounded: raw (non-GC) buffers are freed when a stream or call object
// is not pooled, and bodies across streams stay within body_budget_bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFilter, type TestVM } from './support/vm.js';

const PAGE = 65536;

/** docs/filter.md, "Memory": the worst case as a formula of the configuration (bytes). */
function worstCase(c: { M: number; B: number; X: number; Q: number; P: number; S: number; H: number }): number {
  const R = 12 * c.M + 6 * c.H + c.P;
  const fixed = 1024 * 1024 + 256 * 7 * 4096 + 256 * 4096;
  return fixed + 2 * c.B + 2 * R + 2 * Math.max(c.X, R) + 2 * c.M + 2 * c.Q * c.P + c.S * (2 * c.P + 15 * c.H);
}
const BODY = 'b'.repeat(4096);

function pages(vm: TestVM): number {
  return (vm.plugin!.moduleExports['memory'] as WebAssembly.Memory).buffer.byteLength / PAGE;
}

/** `n` recorded, mirrored streams open at once, each with 4 KB bodies both ways; then every call is answered. */
function round(vm: TestVM, r: number, n: number): void {
  const streams = [];
  for (let i = 0; i < n; i++) {
    const s = vm.stream();
    s.sendRequestHeaders([[':method', 'POST'], [':path', '/predict'], [':authority', 'api'], ['x-request-id', `r${r}-${i}`]]);
    s.sendRequestBody(BODY, { endOfStream: true });
    s.sendResponseHeaders([[':status', '200'], ['content-type', 'text/plain']]);
    s.sendResponseBody(BODY, { endOfStream: true });
    streams.push(s);
  }
  for (const s of streams) s.complete();
  for (const c of vm.takeHttpCalls('shadow')) vm.respond(c, { status: 200, body: BODY });
  vm.tick();
  for (const c of vm.takeHttpCalls('collector')) vm.respond(c, { status: 200, body: '{}' });
}

test('600 concurrent recorded streams with 4 KB bodies, many rounds: memory pages stay flat after the first rounds', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', batch_max_records: 64 });
  for (let r = 0; r < 4; r++) round(vm, r, 600);
  const warm = pages(vm);
  for (let r = 4; r < 20; r++) round(vm, r, 600);
  const after = pages(vm);
  vm.tick(); // pushes the last round's counters
  assert.equal(vm.failed, false);
  assert.equal(vm.metric('shadowmesh_records_sent_total'), 20 * 600 * 2, 'every record of every round reached the collector');
  assert.equal(after, warm, `memory grew from ${warm} to ${after} pages over 16 rounds`);
});

/** Opens `n` recorded, mirrored streams and sends each a request body of `bytes`; nothing completes yet. */
function openWithBodies(vm: TestVM, tag: string, n: number, bytes: number) {
  const body = 'q'.repeat(bytes);
  const out = [];
  for (let i = 0; i < n; i++) {
    const s = vm.stream();
    s.sendRequestHeaders([[':method', 'POST'], [':path', '/predict'], [':authority', 'api'], ['x-request-id', `${tag}-${i}`]]);
    s.sendRequestBody(body, { endOfStream: true });
    out.push(s);
  }
  return out;
}

test('body_budget_bytes bounds the body bytes all streams hold: later bodies are cut, not mirrored, flagged and counted', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', max_body_bytes: 16384, body_budget_bytes: 65536 });
  const streams = openWithBodies(vm, 'bud', 6, 16384);
  // Four request bodies fill the budget; the fifth and sixth find no room, so their copies are not sent.
  assert.deepEqual(vm.takeHttpCalls('shadow').map((c) => c.body.length), [16384, 16384, 16384, 16384]);
  for (const s of streams) {
    s.sendResponseHeaders([[':status', '200']]);
    s.sendResponseBody('r'.repeat(1000), { endOfStream: true });
  }
  for (const s of streams) s.complete();
  vm.tick();
  const [call] = vm.takeHttpCalls('collector');
  const recs = JSON.parse(call!.bodyText) as Record<string, unknown>[];
  const byId = new Map(recs.map((r) => [r.id, r]));
  for (let i = 0; i < 4; i++) {
    const r = byId.get(`bud-${i}`)!;
    assert.equal((r.request_body as string).length, 16384);
    assert.equal(r.response_body, undefined, 'no room left for response bodies');
    assert.equal(r.response_body_truncated, true);
  }
  for (const i of [4, 5]) {
    const r = byId.get(`bud-${i}`)!;
    assert.equal(r.request_body, undefined);
    assert.equal(r.response_body_truncated, true);
  }
  // 2 request bodies and 6 response bodies were cut.
  assert.equal(vm.metric('shadowmesh_body_over_budget_total'), 8);
  assert.equal(vm.metric('shadowmesh_body_too_large_total'), 0);
  // The bytes come back when the streams end: the next stream keeps its whole bodies.
  const [next] = openWithBodies(vm, 'after', 1, 16384);
  next!.sendResponseHeaders([[':status', '200']]);
  next!.sendResponseBody('s'.repeat(16384), { endOfStream: true });
  next!.complete();
  assert.equal(vm.takeHttpCalls('shadow').length, 1);
  vm.respond(call!, { status: 200, body: '{}' });
  vm.tick();
  const [c2] = vm.takeHttpCalls('collector');
  const rec = (JSON.parse(c2!.bodyText) as Record<string, unknown>[]).find((r) => r.id === 'after-0')!;
  assert.equal((rec.request_body as string).length, 16384);
  assert.equal((rec.response_body as string).length, 16384);
  assert.equal(rec.response_body_truncated, undefined);
});

test('max_body_bytes at its maximum with many concurrent streams: memory stays under the documented bound', async () => {
  const MiB = 1024 * 1024;
  // Defaults but the largest bodies: body_budget_bytes 16 MiB.
  const vm = await startFilter({ shadow_cluster: 'shadow', max_body_bytes: MiB });
  const streams = openWithBodies(vm, 'big', 40, MiB);
  const resp = 'z'.repeat(MiB);
  for (const s of streams) {
    s.sendResponseHeaders([[':status', '200']]);
    s.sendResponseBody(resp, { endOfStream: true });
  }
  // Without a budget the 40 streams hold 80 MiB of bodies (and the old filter reached 304 MiB).
  const held = pages(vm) * PAGE;
  for (const s of streams) s.complete();
  assert.equal(vm.failed, false);
  assert.ok(held < worstCase({ M: MiB, B: 16 * MiB, X: MiB, Q: 4096, P: 256, S: 40, H: 256 }),
    `${held / MiB} MiB while 40 streams held 1 MiB bodies both ways`);
  assert.equal(vm.takeHttpCalls('shadow').length, 16, 'copies only for the request bodies that fit the budget');
});
