// The filter's end-to-end tests run on the project's host test API
// (src/host/testing.ts). Until that file exists they fall back on a local stand-in
// with the same surface.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as stub from './stub-vm.js';

const real = fileURLToPath(new URL('../../../src/host/testing.ts', import.meta.url));
type VMClass = typeof stub.TestVM;
export const TestVM: VMClass = existsSync(real)
  ? ((await import('../../../src/host/testing.js')) as unknown as { TestVM: VMClass }).TestVM
  : stub.TestVM;
export type TestVM = InstanceType<VMClass>;
export const usingRealHost = existsSync(real);
export const WASM = fileURLToPath(new URL('../../../build/shadowmesh.wasm', import.meta.url));
