// The release module links in Envoy: every import is one Envoy provides, with the
// same signature; the exports Envoy looks for are there; and it stays small.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ENV_IMPORTS, WASI_MODULES, WASI_FUNCTIONS, NOT_LINKED, isLinkedImport } from '../../src/host/envoy-abi.js';

const WASM = fileURLToPath(new URL('../../build/shadowmesh.wasm', import.meta.url));
const bytes = readFileSync(WASM);
const mod = new WebAssembly.Module(bytes);

/** Function signatures of imports, read from the type and import sections (the JS API does not expose them). */
function importSignatures(buf: Uint8Array): Map<string, { params: string[]; results: string[] }> {
  let p = 8;
  const u32 = (): number => { let r = 0, s = 0; for (;;) { const b = buf[p++]!; r |= (b & 0x7f) << s; if (b < 0x80) return r >>> 0; s += 7; } };
  const name = (): string => { const n = u32(); const s = new TextDecoder().decode(buf.subarray(p, p + n)); p += n; return s; };
  const VT: Record<number, string> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64' };
  const types: { params: string[]; results: string[] }[] = [];
  const out = new Map<string, { params: string[]; results: string[] }>();
  while (p < buf.length) {
    const id = buf[p++]!; const size = u32(); const end = p + size;
    if (id === 1) {
      const n = u32();
      for (let i = 0; i < n; i++) {
        p++; // 0x60
        const np = u32(); const params = []; for (let j = 0; j < np; j++) params.push(VT[buf[p++]!] ?? '?');
        const nr = u32(); const results = []; for (let j = 0; j < nr; j++) results.push(VT[buf[p++]!] ?? '?');
        types.push({ params, results });
      }
    } else if (id === 2) {
      const n = u32();
      for (let i = 0; i < n; i++) {
        const m = name(); const f = name(); const kind = buf[p++]!;
        if (kind === 0) out.set(`${m}.${f}`, types[u32()]!);
        else if (kind === 1) { p++; const fl = u32(); u32(); if (fl & 1) u32(); }
        else if (kind === 2) { const fl = u32(); u32(); if (fl & 1) u32(); }
        else { p += 2; }
      }
    }
    p = end;
  }
  return out;
}

test('imports only functions Envoy links, with Envoy signatures', () => {
  const sigs = importSignatures(bytes);
  const imports = WebAssembly.Module.imports(mod);
  assert.ok(imports.length > 0);
  for (const imp of imports) {
    assert.equal(imp.kind, 'function', `${imp.module}.${imp.name} is not a function import`);
    assert.ok(isLinkedImport(imp.module, imp.name), `${imp.module}.${imp.name} is not linked by Envoy`);
    assert.ok(!NOT_LINKED.includes(imp.name), `${imp.name} must not be imported`);
    if (imp.module === 'env') {
      const want = ENV_IMPORTS[imp.name]!;
      const got = sigs.get(`env.${imp.name}`)!;
      assert.deepEqual(got, { params: [...want.params], results: [...want.results] }, `signature of ${imp.name}`);
    } else {
      assert.ok(WASI_MODULES.includes(imp.module) && WASI_FUNCTIONS.includes(imp.name));
    }
  }
  // AssemblyScript's defaults that Envoy lacks
  for (const bad of ['abort', 'seed', 'trace']) assert.ok(!imports.some((i) => i.name === bad), `imports env.${bad}`);
});

test('exports memory, the ABI 0.2.1 marker, an allocator, _initialize and the callbacks', () => {
  const exports = new Map(WebAssembly.Module.exports(mod).map((e) => [e.name, e.kind]));
  assert.equal(exports.get('memory'), 'memory');
  assert.equal(exports.get('proxy_abi_version_0_2_1'), 'function');
  assert.equal(exports.get('malloc'), 'function');
  assert.equal(exports.get('proxy_on_memory_allocate'), 'function');
  assert.equal(exports.get('_initialize'), 'function');
  for (const cb of ['proxy_on_context_create', 'proxy_on_vm_start', 'proxy_on_configure', 'proxy_on_tick',
    'proxy_on_request_headers', 'proxy_on_request_body', 'proxy_on_request_trailers', 'proxy_on_response_headers',
    'proxy_on_response_body', 'proxy_on_response_trailers', 'proxy_on_log', 'proxy_on_done', 'proxy_on_delete',
    'proxy_on_http_call_response', 'proxy_on_queue_ready', 'proxy_on_foreign_function']) {
    assert.equal(exports.get(cb), 'function', cb);
  }
  assert.ok(!exports.has('_start'), 'a _start export would make Envoy treat it as a command');
  assert.ok(!exports.has('proxy_abi_version_0_2_0'), 'exactly one ABI version');
  assert.ok(!exports.has('abortHandler'));
});

test('has no start section (Envoy calls _initialize itself)', () => {
  let p = 8; let found = false;
  while (p < bytes.length) {
    const id = bytes[p++]!; let size = 0, s = 0;
    for (;;) { const b = bytes[p++]!; size |= (b & 0x7f) << s; if (b < 0x80) break; s += 7; }
    if (id === 8) found = true;
    p += size;
  }
  assert.equal(found, false);
});

test("is at most 48 KiB (the size budget for a sidecar filter)", () => {
  assert.ok(bytes.length <= 48 * 1024, `${bytes.length} bytes`);
});
