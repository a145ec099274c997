// Drives modules/probe.wat: the test writes, per callback kind, a list of host calls the module
// makes when that callback runs; results and out-pointers are read back from the module's memory.

import { TestVM, type TestVMOptions } from '../../src/host/testing.js';
import { encodePairs, type HeaderList } from '../../src/host/codec.js';
import { wat } from './wat.js';

export const K = {
  context_create: 0, vm_start: 1, configure: 2, tick: 3, request_headers: 4, request_body: 5, request_trailers: 6,
  response_headers: 7, response_body: 8, response_trailers: 9, http_call_response: 10, queue_ready: 11, done: 12,
  log: 13, delete: 14,
} as const;
export type Kind = keyof typeof K;
export const KIND_NAMES = Object.keys(K) as Kind[];

export const F = {
  log: 0, get_log_level: 1, get_status: 2, get_property: 3, set_property: 4, send_local_response: 5,
  continue_stream: 6, close_stream: 7, get_shared_data: 8, set_shared_data: 9, register_shared_queue: 10,
  resolve_shared_queue: 11, dequeue_shared_queue: 12, enqueue_shared_queue: 13, get_header_map_value: 14,
  add_header_map_value: 15, replace_header_map_value: 16, remove_header_map_value: 17, get_header_map_pairs: 18,
  set_header_map_pairs: 19, get_header_map_size: 20, get_buffer_status: 21, get_buffer_bytes: 22, set_buffer_bytes: 23,
  http_call: 24, grpc_call: 25, set_tick_period: 26, get_current_time_ns: 27, define_metric: 28, increment_metric: 29,
  record_metric: 30, get_metric: 31, set_effective_context: 32, done: 33, call_foreign_function: 34, random_get: 35,
  clock_time_get: 36, fd_write: 37, proc_exit: 38, unreachable: 39, oob_load: 40, environ_sizes_get: 41, fd_read: 42,
  grpc_stream: 43, path_open: 44, grpc_send: 45, grpc_cancel: 46, grpc_close: 47, pthread_equal: 48, poll_oneoff: 49,
  clock_res_get: 50, fd_fdstat_get: 51,
} as const;
export type Fn = keyof typeof F;

export interface Op { fn: Fn; args?: number[] }
/** A host call's outcome: the result code and two out-slots (for ptr/size style results). */
export class Result {
  constructor(private readonly p: Probe, readonly resultAddr: number, readonly out1: number, readonly out2: number) {}
  get code(): number { return this.p.i32(this.resultAddr); }
  get u1(): number { return this.p.u32(this.out1); }
  get u2(): number { return this.p.u32(this.out2); }
  /** The (ptr, size) the host wrote into out1/out2, as bytes. */
  get bytes(): Uint8Array { return this.p.bytes(this.u1, this.u2); }
  get text(): string { return new TextDecoder().decode(this.bytes); }
  get u64(): bigint { return this.p.u64(this.out1); }
}

let probeBytes: Uint8Array | undefined;

export class Probe {
  private dataTop = 32768;
  private slotTop = 16;
  private constructor(readonly vm: TestVM) {}

  static async start(opts: Partial<TestVMOptions> = {}): Promise<Probe> {
    probeBytes ??= await wat('probe');
    const vm = await TestVM.start({ wasm: probeBytes, clusters: ['upstream'], ...opts });
    return new Probe(vm);
  }

  get mem(): Uint8Array { return new Uint8Array((this.vm.plugin!.moduleExports['memory'] as WebAssembly.Memory).buffer); }
  get dv(): DataView { return new DataView((this.vm.plugin!.moduleExports['memory'] as WebAssembly.Memory).buffer); }
  i32(a: number): number { return this.dv.getInt32(a, true); }
  u32(a: number): number { return this.dv.getUint32(a, true); }
  u64(a: number): bigint { return this.dv.getBigUint64(a, true); }
  bytes(ptr: number, len: number): Uint8Array { return this.mem.slice(ptr, ptr + len); }
  mallocs(): number { return (this.vm.plugin!.moduleExports['mallocs'] as () => number)(); }

  /** Writes bytes/string into the test data area; returns [ptr, len]. */
  data(v: string | Uint8Array): [number, number] {
    const b = typeof v === 'string' ? new TextEncoder().encode(v) : v;
    const ptr = this.dataTop;
    if (ptr + b.length > 65536) throw new Error('probe data area full');
    this.mem.set(b, ptr);
    this.dataTop = (ptr + b.length + 7) & ~7;
    return [ptr, b.length];
  }
  pairs(list: HeaderList): [number, number] { return this.data(encodePairs(list)); }
  slot(): number {
    const s = this.slotTop;
    this.slotTop += 8;
    if (this.slotTop > 2040) throw new Error('probe out-slots full');
    this.dv.setBigUint64(s, 0n, true);
    return s;
  }

  /**
   * Sets the host calls made when callback `kind` runs (replacing earlier ones). `args` may use
   * OUT1/OUT2 placeholders for two fresh out-slots. Returns one Result per op.
   */
  on(kind: Kind, ops: Op[]): Result[] {
    const base = 16384 + K[kind] * 1024;
    if (ops.length > 21) throw new Error('at most 21 ops per callback');
    const results: Result[] = [];
    this.dv.setUint32(base, ops.length, true);
    ops.forEach((op, i) => {
      const at = base + 4 + i * 48;
      const r = this.slot();
      const o1 = this.slot();
      const o2 = this.slot();
      this.dv.setInt32(r, -999, true);
      this.dv.setUint32(at, F[op.fn], true);
      const args = (op.args ?? []).map((a) => (a === OUT1 ? o1 : a === OUT2 ? o2 : a));
      for (let k = 0; k < 10; k++) this.dv.setInt32(at + 4 + k * 4, args[k] ?? 0, true);
      this.dv.setUint32(at + 44, r, true);
      results.push(new Result(this, r, o1, o2));
    });
    return results;
  }
  clear(kind?: Kind): void {
    for (const k of kind ? [kind] : KIND_NAMES) this.dv.setUint32(16384 + K[k] * 1024, 0, true);
  }
  /** What callback `kind` returns from now on. */
  returns(kind: Kind, value: number): void { this.dv.setInt32(2048 + K[kind] * 4, value, true); }

  /** Callbacks the module saw (since the last clearEvents), with their arguments. */
  events(): { kind: Kind; ctx: number; args: number[] }[] {
    const n = this.u32(2112);
    const out: { kind: Kind; ctx: number; args: number[] }[] = [];
    for (let i = 0; i < n; i++) {
      const p = 4096 + i * 24;
      out.push({ kind: KIND_NAMES[this.u32(p)]!, ctx: this.u32(p + 4), args: [this.i32(p + 8), this.i32(p + 12), this.i32(p + 16), this.i32(p + 20)] });
    }
    return out;
  }
  kinds(): string[] { return this.events().map((e) => e.kind); }
  clearEvents(): void { this.dv.setUint32(2112, 0, true); }
}

export const OUT1 = -1_000_001;
export const OUT2 = -1_000_002;
