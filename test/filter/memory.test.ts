// Memory stays bounded: raw (non-GC) buffers are freed when a stream or call object
// is not pooled, and bodies across streams stay within body_budget_bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFilter, type TestVM } from './support/vm.js';

const PAGE = 65536;
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
