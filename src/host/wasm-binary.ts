// A small reader for the parts of a wasm binary the loader needs: the type, import and export
// sections. Node 20 has no WebAssembly type reflection, and a JS host function accepts any
// signature, so the import signature check Envoy does at link time needs the types from the binary.

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref';
export interface FuncType { params: ValType[]; results: ValType[] }
export interface MemoryLimits { initial: number; maximum?: number; shared: boolean }
export type ImportDesc =
  | { kind: 'function'; type: FuncType }
  | { kind: 'memory'; limits: MemoryLimits }
  | { kind: 'table' | 'global' | 'tag' };
export interface ModuleImport { module: string; name: string; desc: ImportDesc }
export interface ModuleExport { name: string; kind: 'function' | 'table' | 'memory' | 'global' | 'tag'; /** For functions. */ type?: FuncType }
export interface ModuleInfo { imports: ModuleImport[]; exports: ModuleExport[] }

export class WasmBinaryError extends Error {}

const VALTYPES: Record<number, ValType> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };
const EXPORT_KINDS = ['function', 'table', 'memory', 'global', 'tag'] as const;
const utf8 = new TextDecoder('utf-8', { fatal: false });

class Reader {
  pos: number;
  constructor(readonly b: Uint8Array, start: number, readonly end: number) { this.pos = start; }
  byte(): number {
    if (this.pos >= this.end) throw new WasmBinaryError('unexpected end of wasm section');
    return this.b[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const x = this.byte();
      result += (x & 0x7f) * 2 ** shift;
      if ((x & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new WasmBinaryError('bad LEB128');
    }
  }
  name(): string {
    const n = this.u32();
    if (this.pos + n > this.end) throw new WasmBinaryError('name past section end');
    const s = utf8.decode(this.b.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
  valtype(): ValType {
    const t = this.byte();
    const v = VALTYPES[t];
    if (!v) throw new WasmBinaryError(`unknown value type 0x${t.toString(16)}`);
    return v;
  }
  limits(): MemoryLimits {
    const flags = this.byte();
    const initial = this.u32();
    const maximum = flags & 1 ? this.u32() : undefined;
    return maximum === undefined ? { initial, shared: (flags & 2) !== 0 } : { initial, maximum, shared: (flags & 2) !== 0 };
  }
}

/** Reads the type, import and export sections of a wasm binary. */
export function readModuleInfo(bytes: Uint8Array): ModuleInfo {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new WasmBinaryError('not a wasm binary (bad magic)');
  }
  const types: FuncType[] = [];
  const imports: ModuleImport[] = [];
  const exports: ModuleExport[] = [];
  const exportIndex: number[] = [];
  // Function index space: imported functions first, then the function section's entries.
  const funcTypes: FuncType[] = [];
  let pos = 8;
  while (pos < bytes.length) {
    const head = new Reader(bytes, pos, bytes.length);
    const id = head.byte();
    const size = head.u32();
    const start = head.pos;
    const end = start + size;
    if (end > bytes.length) throw new WasmBinaryError('section past end of binary');
    const r = new Reader(bytes, start, end);
    if (id === 1) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const form = r.byte();
        if (form !== 0x60) throw new WasmBinaryError('unsupported type form');
        const np = r.u32();
        const params: ValType[] = [];
        for (let j = 0; j < np; j++) params.push(r.valtype());
        const nr = r.u32();
        const results: ValType[] = [];
        for (let j = 0; j < nr; j++) results.push(r.valtype());
        types.push({ params, results });
      }
    } else if (id === 2) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const module = r.name();
        const name = r.name();
        const kind = r.byte();
        if (kind === 0) {
          const idx = r.u32();
          const type = types[idx];
          if (!type) throw new WasmBinaryError(`import ${module}.${name} refers to unknown type ${idx}`);
          imports.push({ module, name, desc: { kind: 'function', type } });
          funcTypes.push(type);
        } else if (kind === 1) {
          r.byte();
          r.limits();
          imports.push({ module, name, desc: { kind: 'table' } });
        } else if (kind === 2) {
          imports.push({ module, name, desc: { kind: 'memory', limits: r.limits() } });
        } else if (kind === 3) {
          r.valtype();
          r.byte();
          imports.push({ module, name, desc: { kind: 'global' } });
        } else if (kind === 4) {
          r.byte();
          r.u32();
          imports.push({ module, name, desc: { kind: 'tag' } });
        } else {
          throw new WasmBinaryError(`unknown import kind ${kind}`);
        }
      }
    } else if (id === 3) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const idx = r.u32();
        const type = types[idx];
        if (!type) throw new WasmBinaryError(`function refers to unknown type ${idx}`);
        funcTypes.push(type);
      }
    } else if (id === 7) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const name = r.name();
        const kind = EXPORT_KINDS[r.byte()];
        const index = r.u32();
        if (!kind) throw new WasmBinaryError(`unknown export kind for ${name}`);
        exports.push({ name, kind });
        exportIndex.push(index);
      }
    }
    pos = end;
  }
  exports.forEach((e, i) => {
    if (e.kind !== 'function') return;
    const t = funcTypes[exportIndex[i]!];
    if (t) e.type = t;
  });
  return { imports, exports };
}

export function formatSignature(t: { params: readonly string[]; results: readonly string[] }): string {
  return `(${t.params.join(', ')}) -> (${t.results.join(', ')})`;
}
