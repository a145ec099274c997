// Loading and start-up, as Envoy (proxy-wasm-cpp-host wasm.cc / v8.cc) does them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigRejected, HostLoadError, PluginHost, type HostEnvironment } from '../../src/host/index.js';
import { TestVM } from '../../src/host/testing.js';
import { Probe } from './probe.js';
import { wat } from './wat.js';

function env(logs: string[] = []): HostEnvironment {
  return {
    clusters: { has: () => false },
    httpCall: () => false,
    clock: { nowMs: () => 0, setTimer: () => ({ cancel() {} }) },
    log: (_l, m, _n, vm) => { logs.push(`${vm}:${m}`); },
    logLevel: 'trace',
  };
}

async function loadError(bytes: Uint8Array): Promise<HostLoadError> {
  try {
    await PluginHost.load(bytes, { name: 't', env: env() });
  } catch (err) {
    assert.ok(err instanceof HostLoadError, `expected HostLoadError, got ${String(err)}`);
    return err;
  }
  assert.fail('load should have failed');
}

test('a module declaring ABI 0.2.1, 0.2.0 or 0.1.0 loads', async () => {
  for (const abi of ['0_2_1', '0_2_0', '0_1_0']) {
    const host = await PluginHost.load(await wat('minimal', { ABI: abi, IMPORTS: '', CONFIGURE: '1' }), { name: 't', env: env() });
    assert.equal(host.abiVersion, abi.replace(/_/g, '.'));
    host.close();
  }
});

test('a module without a proxy_abi_version export fails: Missing or unknown Proxy-Wasm ABI version', async () => {
  const err = await loadError(await wat('no-abi'));
  assert.equal(err.code, 'missing_abi_version');
  assert.match(err.message, /Missing or unknown Proxy-Wasm ABI version/);
});

test('an import Envoy does not provide fails the load with "missing import" naming it (AssemblyScript env.abort)', async () => {
  const err = await loadError(await wat('minimal', { ABI: '0_2_1', CONFIGURE: '1',
    IMPORTS: '(import "env" "abort" (func (param i32 i32 i32 i32)))' }));
  assert.equal(err.code, 'missing_import');
  assert.equal(err.message, 'Failed to load Wasm module due to a missing import: env.abort');
});

test('imports of other modules and AssemblyScript seed/trace are missing imports too', async () => {
  for (const imp of ['(import "env" "seed" (func (result f64)))', '(import "env" "trace" (func (param i32 i32 f64 f64 f64 f64 f64)))',
    '(import "console" "log" (func (param i32)))', '(import "wasi_snapshot_preview2" "fd_write" (func (param i32 i32 i32 i32) (result i32)))',
    '(import "env" "g" (global i32))']) {
    const err = await loadError(await wat('minimal', { ABI: '0_2_1', CONFIGURE: '1', IMPORTS: imp }));
    assert.equal(err.code, 'missing_import', imp);
  }
});

test('imports are linked per ABI version: proxy_get_log_level exists only for 0.2.1, proxy_continue_request only for 0.1.0', async () => {
  const logLevel = '(import "env" "proxy_get_log_level" (func (param i32) (result i32)))';
  await PluginHost.load(await wat('minimal', { ABI: '0_2_1', CONFIGURE: '1', IMPORTS: logLevel }), { name: 't', env: env() });
  const err = await loadError(await wat('minimal', { ABI: '0_2_0', CONFIGURE: '1', IMPORTS: logLevel }));
  assert.match(err.message, /missing import: env.proxy_get_log_level/);
  const cont = '(import "env" "proxy_continue_request" (func (result i32)))';
  await PluginHost.load(await wat('minimal', { ABI: '0_1_0', CONFIGURE: '1', IMPORTS: cont }), { name: 't', env: env() });
  assert.match((await loadError(await wat('minimal', { ABI: '0_2_1', CONFIGURE: '1', IMPORTS: cont }))).message, /missing import: env.proxy_continue_request/);
});

test('a provided import with another signature fails with "import type mismatch"', async () => {
  const err = await loadError(await wat('minimal', { ABI: '0_2_1', CONFIGURE: '1',
    IMPORTS: '(import "env" "proxy_log" (func (param i32 i32) (result i32)))' }));
  assert.equal(err.code, 'import_type_mismatch');
  assert.equal(err.message, 'Failed to load Wasm module due to an import type mismatch: env.proxy_log, want: (i32, i32) -> (i32), but host exports: (i32, i32, i32) -> (i32)');
  const wasi = await loadError(await wat('minimal', { ABI: '0_2_1', CONFIGURE: '1',
    IMPORTS: '(import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i32 i32) (result i32)))' }));
  assert.match(wasi.message, /import type mismatch: wasi_snapshot_preview1.clock_time_get/);
});

test('WASI is linked under both wasi_snapshot_preview1 and wasi_unstable', async () => {
  for (const m of ['wasi_snapshot_preview1', 'wasi_unstable']) {
    await PluginHost.load(await wat('minimal', { ABI: '0_2_1', CONFIGURE: '1',
      IMPORTS: `(import "${m}" "random_get" (func (param i32 i32) (result i32)))` }), { name: 't', env: env() });
  }
});

test('the module must export memory', async () => {
  const err = await loadError(await wat('no-memory'));
  assert.equal(err.code, 'missing_memory');
});

test('the allocator is malloc if exported, else proxy_on_memory_allocate, else the load fails', async () => {
  const both = await PluginHost.load(await wat('allocator', { MALLOC: '(export "malloc")', ON_MEMORY_ALLOCATE: '(export "proxy_on_memory_allocate")' }),
    { name: 't', env: env(), configuration: '{"x":1}' });
  assert.equal((both.moduleExports['by_malloc'] as () => number)(), 1);
  assert.equal((both.moduleExports['by_pma'] as () => number)(), 0);
  const pma = await PluginHost.load(await wat('allocator', { MALLOC: '', ON_MEMORY_ALLOCATE: '(export "proxy_on_memory_allocate")' }),
    { name: 't', env: env(), configuration: '{"x":1}' });
  assert.equal((pma.moduleExports['by_pma'] as () => number)(), 1);
  const err = await loadError(await wat('allocator', { MALLOC: '', ON_MEMORY_ALLOCATE: '' }));
  assert.equal(err.code, 'missing_allocator');
  assert.match(err.message, /missing malloc function/);
});

test('start sequence: _initialize → on_context_create → on_vm_start(vm config) → on_configure(plugin config), canary first', async () => {
  const logs: string[] = [];
  await PluginHost.load(await wat('start', { STARTFN: '_initialize', CONFIGURE: '1' }),
    { name: 'my-plugin', rootId: 'my-root', vmConfig: 'vm-cfg', configuration: '{"k":"v"}', env: env(logs) });
  const seq = ['start', 'context_create', 'vm_start', 'vm-cfg', 'configure', '{"k":"v"}', 'my-root', 'my-plugin'];
  assert.deepEqual(logs, [...seq.map((s) => `canary:${s}`), ...seq.map((s) => `worker:${s}`)]);
});

test('_start runs when there is no _initialize; no configuration means size 0; plugin_root_id defaults to empty', async () => {
  const logs: string[] = [];
  await PluginHost.load(await wat('start', { STARTFN: '_start', CONFIGURE: '1' }), { name: 'p', env: env(logs), canary: false });
  assert.deepEqual(logs, ['worker:start', 'worker:context_create', 'worker:vm_start', 'worker:(empty)', 'worker:configure', 'worker:(empty)', 'worker:(empty)', 'worker:p']);
});

test('root context is id 1 and on_context_create(1, 0), on_vm_start(1, size), on_configure(1, size) get the sizes', async () => {
  const p = await Probe.start({ config: 'abcdef', vmConfig: 'xyz' });
  const ev = p.events();
  assert.deepEqual(ev.map((e) => [e.kind, e.ctx, e.args[0]]), [['context_create', 1, 0], ['vm_start', 1, 3], ['configure', 1, 6]]);
});

test('on_configure returning 0 rejects the plugin (ConfigRejected; TestVM.configured false)', async () => {
  await assert.rejects(PluginHost.load(await wat('minimal', { ABI: '0_2_1', IMPORTS: '', CONFIGURE: '0' }), { name: 't', env: env() }), ConfigRejected);
  const vm = await TestVM.start({ wasm: await wat('start', { STARTFN: '_initialize', CONFIGURE: '0' }), config: { a: 1 } });
  assert.equal(vm.configured, false);
  assert.match(vm.rejection ?? '', /proxy_on_configure returned false/);
  // The rejected configuration's log lines are kept (they came from the canary).
  assert.ok(vm.logsAt('info').includes('{"a":1}'));
  assert.throws(() => vm.stream(), /not configured/);
});

test('a trap in on_configure rejects the plugin', async () => {
  await assert.rejects(PluginHost.load(await wat('trap-on-configure'), { name: 't', env: env() }), (e: Error) => e instanceof ConfigRejected && /unreachable/.test(e.message));
});

test('during _initialize only logging, WASI and clock calls are allowed; others trap (restricted_callback)', async () => {
  const allowed = {
    proxy_log: '(drop (call $log (i32.const 2) (i32.const 1040) (i32.const 15)))',
    random_get: '(drop (call $random (i32.const 0) (i32.const 16)))',
    clock_time_get: '(drop (call $clock (i32.const 0) (i64.const 1) (i32.const 0)))',
    fd_write: '(drop (call $fd_write (i32.const 1) (i32.const 512) (i32.const 1) (i32.const 0)))',
  };
  for (const [name, call] of Object.entries(allowed)) {
    const logs: string[] = [];
    await PluginHost.load(await wat('init-calls', { CALL: call }), { name: 't', env: env(logs) });
    if (name === 'proxy_log' || name === 'fd_write') assert.ok(logs.includes('worker:hello from init'), name);
  }
  for (const call of ['(drop (call $prop (i32.const 1024) (i32.const 11) (i32.const 0) (i32.const 4)))', '(drop (call $now (i32.const 0)))']) {
    const err = await loadError(await wat('init-calls', { CALL: call }));
    assert.equal(err.code, 'start_failed');
    assert.match(err.message, /restricted_callback/);
  }
});

test('the worker VM is a fresh instance: the canary ran its own start sequence elsewhere', async () => {
  const p = await Probe.start({ config: 'c' });
  // The worker VM saw exactly one start sequence: the canary's happened in another instance.
  assert.deepEqual(p.kinds(), ['context_create', 'vm_start', 'configure']);
});

test('an export Envoy looks up with another signature fails the load ("Bad function signature"), per ABI version', async () => {
  const bad = await wat('abi010', { ABI: '0_2_1', PARAMS: 'i32 i32' });
  const err = await loadError(bad);
  assert.equal(err.code, 'bad_export_signature');
  assert.equal(err.message, 'Bad function signature for: proxy_on_request_headers, want: (i32, i32, i32) -> (i32), but the module exports: (i32, i32) -> (i32)');
  await PluginHost.load(await wat('abi010', { ABI: '0_1_0', PARAMS: 'i32 i32' }), { name: 't', env: env() });
});

test('a WASI reactor\'s main(0, 0) runs right after _initialize, before on_context_create', async () => {
  const logs: string[] = [];
  await PluginHost.load(await wat('start', { STARTFN: '_initialize', CONFIGURE: '1',
    EXTRA: '(func (export "main") (param i32 i32) (result i32) (call $log_const (i32.const 1136) (i32.const 4)) (i32.const 0))' }),
  { name: 'p', env: env(logs), canary: false });
  assert.deepEqual(logs.slice(0, 3), ['worker:start', 'worker:main', 'worker:context_create']);
});

test('bytes that are not a wasm module fail with a clear error', async () => {
  const err = await loadError(new TextEncoder().encode('not wasm at all'));
  assert.equal(err.code, 'bad_binary');
  assert.match(err.message, /corrupted Wasm module/);
});

test('realClock gives nanosecond wall time on Date.now()\'s epoch, increasing between reads', async () => {
  const { realClock } = await import('../../src/host/index.js');
  // Bracketed by two Date.now() reads (whole ms, hence the 1 ms either side): an
  // ordering of reads, not a tolerance on how long something took.
  const before = Date.now();
  const a = realClock.nowNs();
  const after = Date.now();
  const b = realClock.nowNs();
  assert.ok(b >= a);
  const aMs = Number(a / 1_000_000n);
  assert.ok(aMs >= before - 1 && aMs <= after + 1, `same epoch as Date.now(): ${before} ≤ ${aMs} ≤ ${after}`);
});

test('memory the module grows itself (memory.grow in a callback) is visible to the next host call', async () => {
  const vm = await TestVM.start({ wasm: await wat('grow-then-log') });
  for (let i = 1; i <= 3; i++) {
    vm.stream().sendRequestHeaders([[':path', '/']], { endOfStream: true });
    const dv = new DataView((vm.plugin!.moduleExports['memory'] as WebAssembly.Memory).buffer);
    assert.equal(dv.getInt32(0, true), 0, `proxy_log answered Ok, not InvalidMemoryAccess (growth ${i})`);
    assert.deepEqual(vm.logs.at(-1), { level: 'info', message: 'grown' });
  }
  assert.equal(vm.logs.length, 3);
});
