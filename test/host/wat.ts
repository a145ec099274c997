// Compiles the WAT test modules (test/host/modules/*.wat) with the npm wabt package.
// ";;@prelude [heap=N] [pages=N]" is replaced by modules/_prelude.wat (allocator + memory);
// "{{NAME}}" placeholders are filled from `vars` so one file can give several variants.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const dir = fileURLToPath(new URL('./modules/', import.meta.url));
let wabt: Awaited<ReturnType<typeof wabtInit>> | undefined;

export async function watSource(name: string, vars: Record<string, string> = {}): Promise<string> {
  let src = readFileSync(`${dir}${name}.wat`, 'utf8');
  const prelude = readFileSync(`${dir}_prelude.wat`, 'utf8');
  src = src.replace(/;;@prelude(?: heap=(\d+))?(?: pages=(\d+))?/, (_m, heap?: string, pages?: string) =>
    prelude.replace('{{HEAP}}', heap ?? '4096').replace('{{PAGES}}', pages ?? '1'));
  return src.replace(/\{\{(\w+)\}\}/g, (_m, k: string) => vars[k] ?? '');
}

export async function compileWatText(text: string, name = 'module.wat'): Promise<Uint8Array> {
  wabt ??= await wabtInit();
  const mod = wabt.parseWat(name, text, { mutable_globals: true, sat_float_to_int: true, sign_extension: true, bulk_memory: true });
  try {
    return new Uint8Array(mod.toBinary({}).buffer);
  } finally {
    mod.destroy();
  }
}

export async function wat(name: string, vars: Record<string, string> = {}): Promise<Uint8Array> {
  return compileWatText(await watSource(name, vars), `${name}.wat`);
}
