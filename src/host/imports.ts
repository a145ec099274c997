// The host functions linked into the module: Envoy's `env` table for the module's ABI version and
// WASI under both module names, with Envoy's result codes. Every function counts itself in
// vm.hostCalls and reads memory through the VM's cached views (refreshed when memory grew).

import {
  ALLOWED_DURING_START, WasmResult, type AbiVersion,
} from './envoy-abi.js';
import {
  readBinaryKey, readLowerName, readPairs, readString, serializePairs, utf8Length, writeString,
  encodeUtf8, headerValue, type HeaderList,
} from './codec.js';
import { getProperty, setProperty } from './properties.js';
import { Context, WasmTrap, type BodyBuffer, type Vm } from './vm.js';
import type { HttpCallRequest, HttpCallResponse, HttpCallResult, LocalResponse } from './types.js';

const R = WasmResult;
const U32 = (x: number): number => x >>> 0;
const MAX_RANDOM = 64 * 1024;
const TIMEOUT_BODY = encodeUtf8('upstream request timeout');

function restrictedTrap(name: string): never {
  throw new WasmTrap(`restricted_callback: ${name} may not be called during _initialize/_start`);
}

/** Header map for reading (Envoy's getConstMap). null = not available now. */
function readMap(ctx: Context, type: number): HeaderList | null {
  const s = ctx.stream;
  switch (type) {
    case 0: return s ? (s.logPhase ? s.lastReqHeaders : s.reqHeaders) : null;
    case 1: return s ? s.reqTrailers : null;
    case 2: return s ? (s.logPhase ? s.lastRespHeaders : s.respHeaders) : null;
    case 3: return s ? (s.logPhase ? s.lastRespTrailers : s.respTrailers) : null;
    case 6: return ctx.root.callResponse ? ctx.root.callResponse.headers : null;
    case 7: {
      const r = ctx.root.callResponse;
      return r && r.trailers.length > 0 ? r.trailers : null;
    }
    default: return null;
  }
}

/** Header map for writing (Envoy's getMap): only the live stream maps. */
function writeMap(ctx: Context, type: number): HeaderList | null {
  const s = ctx.stream;
  if (!s) return null;
  switch (type) {
    case 0: return s.reqHeaders;
    case 1: return s.reqTrailers;
    case 2: return s.respHeaders;
    case 3: return s.respTrailers;
    default: return null;
  }
}

const EMPTY = new Uint8Array(0);

/** Envoy's header maps keep pseudo-headers (":x") ahead of the others; a new one joins their end. */
function insertHeader(map: HeaderList, k: string, v: string): void {
  if (k.charCodeAt(0) !== 58) {
    map.push([k, v]);
    return;
  }
  let i = 0;
  while (i < map.length && map[i]![0].charCodeAt(0) === 58) i++;
  map.splice(i, 0, [k, v]);
}

/** Envoy's getBuffer, its bytes: null = NotFound. Bodies outside their callback read as empty. */
function bufferData(vm: Vm, ctx: Context, type: number, configuring: boolean): Uint8Array | null {
  switch (type) {
    case 0: {
      const b = ctx.stream?.reqBody;
      return b ? b.data : EMPTY;
    }
    case 1: {
      const b = ctx.stream?.respBody;
      return b ? b.data : EMPTY;
    }
    case 2: case 3: case 5: case 8: return EMPTY;
    case 4: {
      const r = ctx.root.callResponse;
      return r ? r.body : null;
    }
    case 6: return vm.opts.vmConfig;
    case 7: return configuring ? vm.opts.pluginConfig : null;
    default: return null;
  }
}

/** The writable body behind buffer type 0/1 during its callback; null = read-only. */
function writableBody(ctx: Context, type: number): BodyBuffer | null {
  if (type === 0) return ctx.stream?.reqBody ?? null;
  if (type === 1) return ctx.stream?.respBody ?? null;
  return null;
}

/** Envoy's Buffer::copyFrom rules for proxy_set_buffer_bytes on a body. */
function setBody(body: { data: Uint8Array }, start: number, length: number, data: Uint8Array): number {
  const cur = body.data;
  if (start === 0) {
    if (length === 0) {
      const out = new Uint8Array(data.length + cur.length);
      out.set(data, 0);
      out.set(cur, data.length);
      body.data = out;
      return R.Ok;
    }
    if (length >= cur.length) {
      body.data = data.slice();
      return R.Ok;
    }
    return R.BadArgument;
  }
  if (start >= cur.length) {
    const out = new Uint8Array(cur.length + data.length);
    out.set(cur, 0);
    out.set(data, cur.length);
    body.data = out;
    return R.Ok;
  }
  return R.BadArgument;
}

export interface ImportState {
  /** True while proxy_on_configure runs (PluginConfiguration is readable only then). */
  configuring: boolean;
  environment: Record<string, string>;
}

export function buildImports(vm: Vm, abi: AbiVersion, state: ImportState): { env: Record<string, unknown>; wasi: Record<string, unknown> } {
  const env = vm.opts.env;
  const store = vm.opts.store;
  const vmId = vm.opts.vmId;

  /** Bounds check without allocating (refreshes the views first). */
  function inMem(ptr: number, len: number): boolean {
    vm.refresh();
    return U32(ptr) + U32(len) <= vm.u8.length;
  }

  /**
   * A view of module memory. A plain Uint8Array, not a Buffer: callers that keep the bytes
   * copy them with slice(), which on a Buffer would be another view of memory the module
   * may reuse.
   */
  function bytesAt(ptr: number, len: number): Uint8Array | null {
    ptr = U32(ptr);
    len = U32(len);
    vm.refresh();
    if (ptr + len > vm.u8.length) return null;
    return new Uint8Array(vm.u8.buffer, ptr, len);
  }

  function putU32(ptr: number, v: number): boolean {
    ptr = U32(ptr);
    if (ptr + 4 > vm.u8.length) return false;
    vm.dv.setUint32(ptr, v, true);
    return true;
  }

  function putU64(ptr: number, v: bigint): boolean {
    ptr = U32(ptr);
    if (ptr + 8 > vm.u8.length) return false;
    vm.dv.setBigUint64(ptr, BigInt.asUintN(64, v), true);
    return true;
  }

  function copyString(s: string, ptrPtr: number, sizePtr: number): number {
    const len = utf8Length(s);
    let p = 0;
    if (len > 0) {
      p = vm.alloc(len);
      if (p === 0) return R.InvalidMemoryAccess;
      writeString(vm.u8, p, s);
    }
    if (!putU32(ptrPtr, p) || !putU32(sizePtr, len)) return R.InvalidMemoryAccess;
    return R.Ok;
  }

  function copyPairs(list: HeaderList | null, ptrPtr: number, sizePtr: number): number {
    if (!list || list.length === 0) {
      if (!putU32(ptrPtr, 0) || !putU32(sizePtr, 0)) return R.InvalidMemoryAccess;
      return R.Ok;
    }
    return vm.copyOut(serializePairs(list), U32(ptrPtr), U32(sizePtr));
  }

  function pairsAt(ptr: number, size: number): HeaderList | null {
    ptr = U32(ptr);
    size = U32(size);
    vm.refresh();
    if (ptr + size > vm.u8.length) return null;
    return readPairs(vm.u8, vm.dv, ptr, size, true);
  }

  function wallNs(): bigint {
    const c = env.clock;
    return c.nowNs ? c.nowNs() : BigInt(Math.round(c.nowMs() * 1e6));
  }

  function continueStream(type: number): number {
    const t = U32(type);
    if (t > 3) return R.BadArgument;
    // Downstream (2) continues a network filter (nothing to do for HTTP); Upstream (3) is
    // Unimplemented in Envoy. Neither touches the HTTP maps.
    if (t === 2) return R.Ok;
    if (t === 3) return R.Unimplemented;
    const s = vm.ctx().stream;
    if (s) {
      s.deferContinue(t === 0 ? 'request' : 'response');
      // Envoy drops the request-side maps on any continue (Context::continueStream).
      s.reqHeaders = null;
      s.reqBody = null;
      s.reqTrailers = null;
    }
    return R.Ok;
  }

  function deliverHttpCall(root: Context, token: number, res: HttpCallResult): void {
    // Never inside a callback (deferred to its end); from the event loop, at once, with no closure.
    if (vm.inCallback) vm.defer(() => deliverNow(root, token, res));
    else deliverNow(root, token, res);
  }

  function deliverNow(root: Context, token: number, res: HttpCallResult): void {
    if (vm.closed || !root.calls.has(token)) return;
    if (vm.failed) {
      root.calls.delete(token);
      return;
    }
    let response: HttpCallResponse | null = null;
    if ('failure' in res) {
      if (res.failure === 'timeout' && vm.opts.httpCallTimeoutAs === 'status504') {
        response = {
          headers: [[':status', '504'], ['content-length', String(TIMEOUT_BODY.length)], ['content-type', 'text/plain']],
          body: TIMEOUT_BODY,
          trailers: [],
        };
      }
    } else {
      response = res;
    }
    if (response) {
      // Envoy sets the status only on failure, so a success after a failure still reads code 11.
      root.callResponse = response;
      vm.call(root, 'proxy_on_http_call_response', token, response.headers.length, response.body.length, response.trailers.length);
      root.callResponse = null;
    } else {
      root.statusCode = R.BrokenConnection;
      root.statusMessage = 'reset';
      vm.call(root, 'proxy_on_http_call_response', token, 0, 0, 0);
      root.statusMessage = '';
    }
    root.calls.delete(token);
  }

  const e: Record<string, unknown> = {
    proxy_log(level: number, ptr: number, size: number): number {
      vm.hostCalls++;
      if (U32(level) > 5) return R.BadArgument;
      if (!inMem(ptr, size)) return R.InvalidMemoryAccess;
      if (level >= vm.logThreshold()) vm.log(level, readString(vm.u8, U32(ptr), U32(size)));
      return R.Ok;
    },
    proxy_get_log_level(out: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_get_log_level');
      vm.refresh();
      return putU32(out, vm.logThreshold()) ? R.Ok : R.InvalidMemoryAccess;
    },
    proxy_get_status(codePtr: number, ptrPtr: number, sizePtr: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_get_status');
      const root = vm.ctx().root;
      vm.refresh();
      if (!putU32(codePtr, root.statusCode)) return R.InvalidMemoryAccess;
      return copyString(root.statusMessage, ptrPtr, sizePtr);
    },
    proxy_get_property(pathPtr: number, pathSize: number, ptrPtr: number, sizePtr: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_get_property');
      const b = bytesAt(pathPtr, pathSize);
      if (!b) return R.InvalidMemoryAccess;
      const segs: string[] = [];
      let start = 0;
      const base = U32(pathPtr);
      while (start < b.length) {
        let end = b.indexOf(0, start);
        if (end < 0) end = b.length;
        segs.push(readString(vm.u8, base + start, end - start));
        start = end + 1;
      }
      const v = getProperty(vm, vm.ctx(), segs);
      if (typeof v === 'number') return v;
      return vm.copyOut(v, U32(ptrPtr), U32(sizePtr));
    },
    proxy_set_property(kp: number, ks: number, vp: number, vs: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_set_property');
      const k = bytesAt(kp, ks);
      const v = bytesAt(vp, vs);
      if (!k || !v) return R.InvalidMemoryAccess;
      return setProperty(vm.ctx(), readString(vm.u8, U32(kp), U32(ks)), v);
    },
    proxy_send_local_response(code: number, dp: number, ds: number, bp: number, bs: number, hp: number, hs: number, grpc: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_send_local_response');
      const details = bytesAt(dp, ds);
      const body = bytesAt(bp, bs);
      const headers = pairsAt(hp, hs);
      if (!details || !body || !headers) return R.InvalidMemoryAccess;
      const s = vm.ctx().stream;
      if (s) {
        // Envoy replaces whitespace in details and sends grpc-status only for a known code (0-16).
        const r: LocalResponse = { status: U32(code), body: body.slice(), headers, details: readString(vm.u8, U32(dp), U32(ds)).replace(/[ \t\n\v\f\r]/g, '_') };
        if (grpc >= 0 && grpc <= 16) r.grpcStatus = grpc;
        s.deferLocalResponse(r);
      }
      vm.stopNext = true;
      return R.Ok;
    },
    proxy_continue_stream(type: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_continue_stream');
      return continueStream(type);
    },
    proxy_close_stream(type: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_close_stream');
      const t = U32(type);
      if (t > 3) return R.BadArgument;
      const s = vm.ctx().stream;
      if (s && t <= 1) s.deferClose(t === 0 ? 'request' : 'response');
      return R.Ok;
    },
    proxy_get_shared_data(kp: number, ks: number, ptrPtr: number, sizePtr: number, casPtr: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_get_shared_data');
      if (!inMem(kp, ks)) return R.InvalidMemoryAccess;
      const v = store.get(vmId, readBinaryKey(vm.u8, U32(kp), U32(ks)));
      if (!v) return R.NotFound;
      const r = vm.copyOut(v.value, U32(ptrPtr), U32(sizePtr));
      if (r !== R.Ok) return r;
      return putU32(casPtr, v.cas) ? R.Ok : R.InvalidMemoryAccess;
    },
    proxy_set_shared_data(kp: number, ks: number, vp: number, vs: number, cas: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_set_shared_data');
      const k = bytesAt(kp, ks);
      const v = bytesAt(vp, vs);
      if (!k || !v) return R.InvalidMemoryAccess;
      return store.set(vmId, readBinaryKey(vm.u8, U32(kp), U32(ks)), v, U32(cas));
    },
    proxy_register_shared_queue(np: number, ns: number, tokenPtr: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_register_shared_queue');
      if (!inMem(np, ns)) return R.InvalidMemoryAccess;
      const token = store.registerQueue(vmId, readBinaryKey(vm.u8, U32(np), U32(ns)), vm, vm.ctx().root.id);
      return putU32(tokenPtr, token) ? R.Ok : R.InvalidMemoryAccess;
    },
    proxy_resolve_shared_queue(vp: number, vs: number, np: number, ns: number, tokenPtr: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_resolve_shared_queue');
      if (!inMem(vp, vs) || !inMem(np, ns)) return R.InvalidMemoryAccess;
      const id = U32(vs) === 0 ? vmId : readBinaryKey(vm.u8, U32(vp), U32(vs));
      const token = store.resolveQueue(id, readBinaryKey(vm.u8, U32(np), U32(ns)));
      if (token === undefined || vm.failed) return R.NotFound;
      return putU32(tokenPtr, token) ? R.Ok : R.InvalidMemoryAccess;
    },
    proxy_dequeue_shared_queue(token: number, ptrPtr: number, sizePtr: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_dequeue_shared_queue');
      const v = store.dequeue(U32(token));
      if (typeof v === 'number') return v;
      vm.refresh();
      return vm.copyOut(v, U32(ptrPtr), U32(sizePtr));
    },
    proxy_enqueue_shared_queue(token: number, dp: number, ds: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_enqueue_shared_queue');
      const d = bytesAt(dp, ds);
      if (!d) return R.InvalidMemoryAccess;
      return store.enqueue(U32(token), d);
    },
    proxy_get_header_map_value(type: number, kp: number, ks: number, ptrPtr: number, sizePtr: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_get_header_map_value');
      const t = U32(type);
      if (t > 7) return R.BadArgument;
      if (!inMem(kp, ks)) return R.InvalidMemoryAccess;
      const ctx = vm.ctx();
      const map = readMap(ctx, t);
      if (!map) return ctx.stream?.logPhase ? R.NotFound : R.BadArgument;
      const v = headerValue(map, readLowerName(vm.u8, U32(kp), U32(ks)));
      if (v === undefined) {
        if (abi === '0.1.0') return copyString('', ptrPtr, sizePtr);
        return R.NotFound;
      }
      return copyString(v, ptrPtr, sizePtr);
    },
    proxy_add_header_map_value(type: number, kp: number, ks: number, vp: number, vs: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_add_header_map_value');
      const t = U32(type);
      if (t > 7) return R.BadArgument;
      if (!inMem(kp, ks) || !inMem(vp, vs)) return R.InvalidMemoryAccess;
      const map = writeMap(vm.ctx(), t);
      if (!map) return R.BadArgument;
      insertHeader(map, readLowerName(vm.u8, U32(kp), U32(ks)), readString(vm.u8, U32(vp), U32(vs)));
      return R.Ok;
    },
    proxy_replace_header_map_value(type: number, kp: number, ks: number, vp: number, vs: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_replace_header_map_value');
      const t = U32(type);
      if (t > 7) return R.BadArgument;
      if (!inMem(kp, ks) || !inMem(vp, vs)) return R.InvalidMemoryAccess;
      const map = writeMap(vm.ctx(), t);
      if (!map) return R.BadArgument;
      // Envoy's setCopy: remove every value, then add the new one.
      const k = readLowerName(vm.u8, U32(kp), U32(ks));
      for (let i = map.length - 1; i >= 0; i--) if (map[i]![0] === k) map.splice(i, 1);
      insertHeader(map, k, readString(vm.u8, U32(vp), U32(vs)));
      return R.Ok;
    },
    proxy_remove_header_map_value(type: number, kp: number, ks: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_remove_header_map_value');
      const t = U32(type);
      if (t > 7) return R.BadArgument;
      if (!inMem(kp, ks)) return R.InvalidMemoryAccess;
      const map = writeMap(vm.ctx(), t);
      if (!map) return R.BadArgument;
      const k = readLowerName(vm.u8, U32(kp), U32(ks));
      for (let i = map.length - 1; i >= 0; i--) if (map[i]![0] === k) map.splice(i, 1);
      return R.Ok;
    },
    proxy_get_header_map_pairs(type: number, ptrPtr: number, sizePtr: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_get_header_map_pairs');
      const t = U32(type);
      if (t > 7) return R.BadArgument;
      vm.refresh();
      return copyPairs(readMap(vm.ctx(), t), ptrPtr, sizePtr);
    },
    proxy_set_header_map_pairs(type: number, ptr: number, size: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_set_header_map_pairs');
      const t = U32(type);
      if (t > 7) return R.BadArgument;
      const pairs = pairsAt(ptr, size);
      if (!pairs) return R.InvalidMemoryAccess;
      const map = writeMap(vm.ctx(), t);
      if (!map) return R.BadArgument;
      map.length = 0;
      for (const p of pairs) map.push(p);
      return R.Ok;
    },
    proxy_get_header_map_size(type: number, out: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_get_header_map_size');
      const t = U32(type);
      if (t > 7) return R.BadArgument;
      const map = writeMap(vm.ctx(), t);
      if (!map) return R.BadArgument;
      let size = 0;
      for (const [k, v] of map) size += utf8Length(k) + utf8Length(v);
      vm.refresh();
      return putU32(out, size) ? R.Ok : R.InvalidMemoryAccess;
    },
    proxy_get_buffer_status(type: number, lenPtr: number, flagsPtr: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_get_buffer_status');
      const t = U32(type);
      if (t > 8) return R.BadArgument;
      const b = bufferData(vm, vm.ctx(), t, state.configuring);
      if (!b) return R.NotFound;
      vm.refresh();
      if (!putU32(lenPtr, b.length) || !putU32(flagsPtr, 0)) return R.InvalidMemoryAccess;
      return R.Ok;
    },
    proxy_get_buffer_bytes(type: number, start: number, length: number, ptrPtr: number, sizePtr: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_get_buffer_bytes');
      const t = U32(type);
      if (t > 8) return R.BadArgument;
      const b = bufferData(vm, vm.ctx(), t, state.configuring);
      if (!b) return R.NotFound;
      const size = b.length;
      const s = U32(start);
      let n = U32(length);
      if (s > size) n = 0;
      else if (s + n > size) n = size - s;
      vm.refresh();
      if (n === 0) {
        if (!putU32(ptrPtr, 0) || !putU32(sizePtr, 0)) return R.InvalidMemoryAccess;
        return R.Ok;
      }
      return vm.copyOut(s === 0 && n === size ? b : b.subarray(s, s + n), U32(ptrPtr), U32(sizePtr));
    },
    proxy_set_buffer_bytes(type: number, start: number, length: number, dp: number, ds: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_set_buffer_bytes');
      const t = U32(type);
      if (t > 8) return R.BadArgument;
      const ctx = vm.ctx();
      if (!bufferData(vm, ctx, t, state.configuring)) return R.NotFound;
      const d = bytesAt(dp, ds);
      if (!d) return R.InvalidMemoryAccess;
      const body = writableBody(ctx, t);
      if (!body) return R.BadArgument;
      return setBody(body, U32(start), U32(length), d);
    },
    proxy_http_call(up: number, us: number, hp: number, hs: number, bp: number, bs: number, tp: number, ts: number, timeout: number, tokenPtr: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_http_call');
      const root = vm.ctx().root;
      const uri = bytesAt(up, us);
      const body = bytesAt(bp, bs);
      const headers = pairsAt(hp, hs);
      const trailers = pairsAt(tp, ts);
      if (!uri || !body || !headers || !trailers) return R.InvalidMemoryAccess;
      if (!putU32(tokenPtr, 0)) return R.InvalidMemoryAccess;
      if (timeout < 0) return R.BadArgument;
      const cluster = readString(vm.u8, U32(up), U32(us));
      if (!env.clusters.has(cluster)) return R.BadArgument;
      if (headerValue(headers, ':path') === undefined || headerValue(headers, ':method') === undefined || headerValue(headers, ':authority') === undefined) {
        return R.BadArgument;
      }
      const bodyCopy = body.length === 0 ? EMPTY : body.slice();
      if (bodyCopy.length > 0) {
        for (let i = headers.length - 1; i >= 0; i--) if (headers[i]![0] === 'content-length') headers.splice(i, 1);
        headers.push(['content-length', String(bodyCopy.length)]);
      }
      const token = vm.nextHttpCallId();
      const req: HttpCallRequest = { token, cluster, headers, body: bodyCopy, trailers, timeoutMs: timeout };
      root.calls.set(token, null);
      let handle: ReturnType<typeof env.httpCall>;
      try {
        handle = env.httpCall(req, (res) => deliverHttpCall(root, token, res));
      } catch (err) {
        // A data plane that cannot even start the call is an inline failure, not a module trap.
        vm.log(4, `http_call to ${cluster} could not start: ${(err as Error).message}`);
        handle = false;
      }
      if (handle === false) {
        root.calls.delete(token);
        return R.InternalFailure;
      }
      if (root.calls.has(token) && typeof handle === 'object') root.calls.set(token, handle);
      vm.refresh();
      return putU32(tokenPtr, token) ? R.Ok : R.InvalidMemoryAccess;
    },
    proxy_grpc_call(): number { vm.hostCalls++; return R.Unimplemented; },
    proxy_grpc_stream(): number { vm.hostCalls++; return R.Unimplemented; },
    proxy_grpc_send(): number { vm.hostCalls++; return R.Unimplemented; },
    proxy_grpc_cancel(): number { vm.hostCalls++; return R.Unimplemented; },
    proxy_grpc_close(): number { vm.hostCalls++; return R.Unimplemented; },
    proxy_set_tick_period_milliseconds(ms: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_set_tick_period_milliseconds');
      vm.setTickPeriod(vm.ctx().root, U32(ms));
      return R.Ok;
    },
    proxy_get_current_time_nanoseconds(out: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_get_current_time_nanoseconds');
      vm.refresh();
      return putU64(out, wallNs()) ? R.Ok : R.InvalidMemoryAccess;
    },
    proxy_define_metric(type: number, np: number, ns: number, idPtr: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_define_metric');
      if (!inMem(np, ns)) return R.InvalidMemoryAccess;
      const id = vm.defineMetric(U32(type), readString(vm.u8, U32(np), U32(ns)));
      if (id < 0) return -id;
      return putU32(idPtr, id) ? R.Ok : R.InvalidMemoryAccess;
    },
    proxy_increment_metric(id: number, offset: bigint): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_increment_metric');
      return vm.incrementMetric(U32(id), offset);
    },
    proxy_record_metric(id: number, value: bigint): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_record_metric');
      return vm.recordMetric(U32(id), BigInt.asUintN(64, value));
    },
    proxy_get_metric(id: number, out: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_get_metric');
      const v = vm.getMetric(U32(id));
      if (typeof v === 'number') return -v;
      vm.refresh();
      return putU64(out, v) ? R.Ok : R.InvalidMemoryAccess;
    },
    proxy_set_effective_context(id: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_set_effective_context');
      const c = vm.contexts.get(U32(id));
      if (!c) return R.BadArgument;
      vm.effective = c;
      return R.Ok;
    },
    proxy_done(): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_done');
      // WasmBase::done: only a root whose on_done said "not yet"; it is deleted after this call.
      if (!vm.pendingDone || vm.ctx().root !== vm.rootCtx) return R.NotFound;
      vm.pendingDone = false;
      vm.defer(() => vm.finishShutdown(true));
      return R.Ok;
    },
    proxy_call_foreign_function(): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_call_foreign_function');
      return R.NotFound;
    },
    pthread_equal(a: number, b: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.pthread_equal');
      return a === b ? 1 : 0;
    },
    emscripten_notify_memory_growth(): void {
      vm.hostCalls++;
      vm.refresh();
    },
    // ABI 0.1.0 only.
    proxy_get_configuration(ptrPtr: number, sizePtr: number): number {
      vm.hostCalls++;
      if (vm.restricted) restrictedTrap('env.proxy_get_configuration');
      vm.refresh();
      return vm.copyOut(state.configuring ? vm.opts.pluginConfig : vm.opts.vmConfig, U32(ptrPtr), U32(sizePtr));
    },
    proxy_continue_request(): number { vm.hostCalls++; return continueStream(0); },
    proxy_continue_response(): number { vm.hostCalls++; return continueStream(1); },
    proxy_clear_route_cache(): number { vm.hostCalls++; return R.Ok; },
  };

  // ---- WASI (Envoy's stubs: stdout/stderr go to the log, the rest answer fixed errnos) ----

  function writev(fd: number, iovs: number, n: number): number | string {
    if (fd !== 1 && fd !== 2) return 8;
    vm.refresh();
    let s = '';
    for (let i = 0; i < U32(n); i++) {
      const at = U32(iovs) + i * 8;
      if (at + 8 > vm.u8.length) return 21;
      const buf = vm.dv.getUint32(at, true);
      const len = vm.dv.getUint32(at + 4, true);
      if (len === 0) continue;
      if (buf + len > vm.u8.length) return 21;
      s += readString(vm.u8, buf, len);
    }
    return s;
  }

  function fdWrite(fd: number, iovs: number, n: number, nwrittenPtr: number): number {
    const r = writev(fd, iovs, n);
    if (typeof r === 'number') return r;
    const written = utf8Length(r);
    if (written > 0) vm.log(fd === 1 ? 2 : 4, r.endsWith('\n') ? r.slice(0, -1) : r);
    return putU32(nwrittenPtr, written) ? 0 : 21;
  }

  const stdio = (fd: number): number => (fd === 1 || fd === 2 ? 0 : 8);
  const guarded = (name: string, f: (...a: never[]) => number | void) => {
    if (ALLOWED_DURING_START.has(`wasi_snapshot_preview1.${name}`)) return f;
    return (...a: never[]) => {
      if (vm.restricted) restrictedTrap(`wasi.${name}`);
      return f(...a);
    };
  };

  const w: Record<string, (...a: never[]) => number | void> = {
    fd_write(fd: number, iovs: number, n: number, nw: number) { vm.hostCalls++; return fdWrite(fd, iovs, n, nw); },
    fd_read() { vm.hostCalls++; return 52; },
    fd_seek() { vm.hostCalls++; return 0; },
    fd_close() { vm.hostCalls++; return 0; },
    fd_fdstat_get(fd: number, out: number) {
      vm.hostCalls++;
      if (fd !== 1 && fd !== 2) return 8;
      vm.refresh();
      if (!putU64(out, 0n) || !putU64(out + 8, 64n) || !putU64(out + 16, 0n)) return 21;
      return 0;
    },
    fd_fdstat_set_flags() { vm.hostCalls++; return 52; },
    fd_fdstat_set_rights(fd: number) { vm.hostCalls++; return stdio(fd); },
    environ_get(arrPtr: number, bufPtr: number) {
      vm.hostCalls++;
      vm.refresh();
      let a = U32(arrPtr);
      let b = U32(bufPtr);
      for (const [k, v] of Object.entries(state.environment)) {
        const data = encodeUtf8(`${k}=${v}\u0000`);
        if (!putU32(a, b) || b + data.length > vm.u8.length) return 21;
        vm.u8.set(data, b);
        b += data.length;
        a += 4;
      }
      return 0;
    },
    environ_sizes_get(countPtr: number, sizePtr: number) {
      vm.hostCalls++;
      vm.refresh();
      const entries = Object.entries(state.environment);
      let size = 0;
      for (const [k, v] of entries) size += utf8Length(k) + utf8Length(v) + 2;
      return putU32(countPtr, entries.length) && putU32(sizePtr, size) ? 0 : 21;
    },
    args_get() { vm.hostCalls++; return 0; },
    args_sizes_get(argc: number, bufSize: number) {
      vm.hostCalls++;
      vm.refresh();
      return putU32(argc, 0) && putU32(bufSize, 0) ? 0 : 21;
    },
    clock_time_get(id: number, _precision: bigint, out: number) {
      vm.hostCalls++;
      let ns: bigint;
      if (id === 0) ns = wallNs();
      else if (id === 1) ns = env.clock.monotonicNs ? env.clock.monotonicNs() : BigInt(Math.round(env.clock.nowMs() * 1e6));
      else return 58;
      vm.refresh();
      return putU64(out, ns) ? 0 : 21;
    },
    clock_res_get(id: number, out: number) {
      vm.hostCalls++;
      if (id !== 0 && id !== 1) return 58;
      vm.refresh();
      return putU64(out, 1n) ? 0 : 21;
    },
    fd_advise() { vm.hostCalls++; return 0; },
    fd_allocate(fd: number) { vm.hostCalls++; return stdio(fd); },
    fd_datasync(fd: number) { vm.hostCalls++; return stdio(fd); },
    fd_filestat_set_size(fd: number) { vm.hostCalls++; return stdio(fd); },
    fd_filestat_set_times(fd: number) { vm.hostCalls++; return stdio(fd); },
    fd_pread() { vm.hostCalls++; return 52; },
    fd_pwrite(fd: number, iovs: number, n: number, _off: bigint, nw: number) { vm.hostCalls++; return fdWrite(fd, iovs, n, nw); },
    fd_readdir(_fd: number, _b: number, _l: number, _c: bigint, nread: number) {
      vm.hostCalls++;
      vm.refresh();
      return putU32(nread, 0) ? 20 : 21;
    },
    fd_renumber(fd: number, to: number) { vm.hostCalls++; return (fd === 1 || fd === 2) && (to === 1 || to === 2) ? 58 : 8; },
    fd_sync(fd: number) { vm.hostCalls++; return stdio(fd); },
    fd_tell(fd: number, out: number) {
      vm.hostCalls++;
      if (fd !== 1 && fd !== 2) return 8;
      vm.refresh();
      return putU64(out, 0n) ? 0 : 21;
    },
    path_create_directory() { vm.hostCalls++; return 58; },
    path_filestat_set_times() { vm.hostCalls++; return 58; },
    path_link() { vm.hostCalls++; return 58; },
    path_readlink(_fd: number, _p: number, _pl: number, _b: number, _bl: number, ret: number) {
      vm.hostCalls++;
      vm.refresh();
      return putU32(ret, 0) ? 58 : 21;
    },
    path_remove_directory() { vm.hostCalls++; return 58; },
    path_rename() { vm.hostCalls++; return 58; },
    path_symlink() { vm.hostCalls++; return 58; },
    path_unlink_file() { vm.hostCalls++; return 58; },
    sock_accept(_fd: number, _f: number, ret: number) {
      vm.hostCalls++;
      vm.refresh();
      return putU32(ret, 0) ? 58 : 21;
    },
    sock_recv(_fd: number, _d: number, _l: number, _f: number, r0: number, r1: number) {
      vm.hostCalls++;
      vm.refresh();
      return putU32(r0, 0) && putU32(r1, 0) ? 58 : 21;
    },
    sock_send(_fd: number, _d: number, _l: number, _f: number, r0: number) {
      vm.hostCalls++;
      vm.refresh();
      return putU32(r0, 0) ? 58 : 21;
    },
    sock_shutdown() { vm.hostCalls++; return 58; },
    random_get(ptr: number, len: number) {
      vm.hostCalls++;
      const n = U32(len);
      if (n > MAX_RANDOM) return 28;
      if (n === 0) return 0;
      const b = bytesAt(ptr, n);
      if (!b) return 21;
      vm.random(b);
      return 0;
    },
    sched_yield() { vm.hostCalls++; return 0; },
    poll_oneoff(_i: number, _o: number, _n: number, nevents: number) {
      vm.hostCalls++;
      vm.refresh();
      return putU32(nevents, 0) ? 0 : 21;
    },
    proc_exit(code: number) {
      vm.hostCalls++;
      throw new WasmTrap(`proc_exit(${code}) called`);
    },
    path_open() { vm.hostCalls++; return 44; },
    fd_prestat_get() { vm.hostCalls++; return 8; },
    fd_prestat_dir_name() { vm.hostCalls++; return 52; },
    path_filestat_get() { vm.hostCalls++; return 58; },
    fd_filestat_get() { vm.hostCalls++; return 8; },
  };
  const wasi: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(w)) wasi[name] = guarded(name, f);
  return { env: e, wasi };
}
