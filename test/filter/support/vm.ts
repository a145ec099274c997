// Shared helpers for the filter's end-to-end tests, on the host's test API
// (src/host/testing.ts, docs/host-test-api.md).
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { TestVM, type TestVMOptions, type TestHttpCall, type TestStream } from '../../../src/host/testing.js';

export { TestVM, type TestHttpCall, type TestStream };
export type Headers = [string, string][];

// SHADOWMESH_WASM=build/shadowmesh.debug.wasm runs the same tests on the debug build (assertions on).
export const WASM = process.env.SHADOWMESH_WASM ?? fileURLToPath(new URL('../../../build/shadowmesh.wasm', import.meta.url));
export const START_MS = 1_700_000_000_000;

if (!existsSync(WASM)) throw new Error(`${WASM} is missing: run npm run build:wasm first`);

/** A VM with the filter, the usual clusters and a fixed clock. */
export async function startFilter(config: unknown, extra: Partial<TestVMOptions> = {}): Promise<TestVM> {
  return TestVM.start({ wasm: WASM, config, clusters: ['shadow', 'collector'], nowMs: START_MS, ...extra });
}

export interface Exchange {
  method?: string; path?: string; authority?: string; headers?: Headers; body?: string | Uint8Array;
  status?: number; responseHeaders?: Headers; responseBody?: string | Uint8Array; elapsedMs?: number;
}

/** One whole request through the filter; returns the stream and every action the filter answered. */
export function exchange(vm: TestVM, x: Exchange = {}): { stream: TestStream; actions: number[] } {
  const s = vm.stream();
  const actions: number[] = [];
  const reqHeaders: Headers = [
    [':method', x.method ?? 'GET'], [':path', x.path ?? '/predict'], [':authority', x.authority ?? 'api'],
    [':scheme', 'http'], ...(x.headers ?? []),
  ];
  const hasBody = x.body !== undefined && (typeof x.body === 'string' ? x.body.length > 0 : x.body.length > 0);
  actions.push(s.sendRequestHeaders(reqHeaders, { endOfStream: !hasBody }));
  if (hasBody) actions.push(s.sendRequestBody(x.body!, { endOfStream: true }));
  if (x.elapsedMs) vm.advance(x.elapsedMs);
  const respBody = x.responseBody ?? '';
  const respHasBody = typeof respBody === 'string' ? respBody.length > 0 : respBody.length > 0;
  actions.push(s.sendResponseHeaders([[':status', String(x.status ?? 200)], ...(x.responseHeaders ?? [])], { endOfStream: !respHasBody }));
  if (respHasBody) actions.push(s.sendResponseBody(respBody, { endOfStream: true }));
  s.complete();
  return { stream: s, actions };
}

export type RecordJson = Record<string, unknown> & { id: string; role: string; status: number };

/** Flushes the reporter (one tick), answers every collector call with 200 and returns the records sent. */
export function flushRecords(vm: TestVM): RecordJson[] {
  vm.tick();
  const out: RecordJson[] = [];
  for (const call of vm.takeHttpCalls('collector')) {
    out.push(...(JSON.parse(call.bodyText) as RecordJson[]));
    vm.respond(call, { status: 200, body: '{"accepted":1}' });
  }
  return out;
}

export function header(h: Headers, name: string): string | undefined {
  return h.find(([k]) => k === name)?.[1];
}
