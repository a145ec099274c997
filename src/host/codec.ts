// String and header-pair encoding between JS and the module's linear memory. These run on every
// host call, so they avoid intermediate objects: ASCII (the common case for header names and
// values) is copied byte by byte, anything else goes through one cached encoder/decoder.

export type HeaderPair = [string, string];
export type HeaderList = HeaderPair[];

/** Envoy's limits on a serialized pairs buffer (proxy-wasm-cpp-host limits.h). */
export const PAIRS_MAX_BYTES = 1024 * 1024;
export const PAIRS_MAX_COUNT = 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');

/** UTF-8 byte length of a JS string. */
export function utf8Length(s: string): number {
  const n = s.length;
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) { bytes += 2; i++; }
    else bytes += 2;
  }
  return bytes;
}

// Short strings are cheapest copied char by char (measured: a loop beats Buffer.write up to a
// few dozen chars); longer ones go through Node's native UTF-8 codec when the bytes live in a
// Buffer (the VM keeps its memory view as one).
const NATIVE_MIN = 48;

/** Writes s as UTF-8 at u8[off]; returns the bytes written. The caller sized the space with utf8Length. */
export function writeString(u8: Uint8Array, off: number, s: string): number {
  const n = s.length;
  if (n > NATIVE_MIN && isBuffer(u8)) return u8.write(s, off);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return i + encoder.encodeInto(s.slice(i), u8.subarray(off + i)).written;
    u8[off + i] = c;
  }
  return n;
}

// Buffer's own per-encoding slicers (what toString(enc, start, end) dispatches to) skip the
// encoding lookup; used when present, toString otherwise.
interface NativeSlices { utf8Slice(start: number, end: number): string; latin1Slice(start: number, end: number): string }
const HAS_SLICES = typeof (Buffer.prototype as unknown as Partial<NativeSlices>).utf8Slice === 'function'
  && typeof (Buffer.prototype as unknown as Partial<NativeSlices>).latin1Slice === 'function';

// The host reads through one Buffer view per VM; remembering the last one seen avoids an
// instanceof walk on every read.
let lastBuffer: Uint8Array | null = null;
function isBuffer(u8: Uint8Array): u8 is Buffer {
  if (u8 === lastBuffer) return true;
  if (!(u8 instanceof Buffer)) return false;
  lastBuffer = u8;
  return true;
}

function utf8Slice(b: Buffer, start: number, end: number): string {
  return HAS_SLICES ? (b as unknown as NativeSlices).utf8Slice(start, end) : b.toString('utf8', start, end);
}

function latin1Slice(b: Buffer, start: number, end: number): string {
  return HAS_SLICES ? (b as unknown as NativeSlices).latin1Slice(start, end) : b.toString('latin1', start, end);
}

// Header names and most header values repeat from request to request. Short ASCII strings read
// from memory are kept in small direct-mapped tables (names and values apart, so unique values
// such as request ids do not push names out); a hit compares the bytes with the kept string and
// returns it without making a new one.
const INTERN_SLOTS = 512;
const INTERN_MAX = 64;
const internedNames: (string | null)[] = new Array<string | null>(INTERN_SLOTS).fill(null);
const internedValues: (string | null)[] = new Array<string | null>(INTERN_SLOTS).fill(null);

/** The string for ASCII bytes (lower-cased if `lower`), from `table` when it holds it; null if not ASCII. */
function interned(table: (string | null)[], u8: Buffer, ptr: number, len: number, lower: boolean): string | null {
  const end = ptr + len;
  const slot = (len * 7 + u8[ptr]! * 31 + u8[ptr + (len >> 1)]! * 17 + u8[end - 1]! * 131) & (INTERN_SLOTS - 1);
  const kept = table[slot]!;
  if (kept !== null && kept.length === len) {
    let i = 0;
    for (; i < len; i++) {
      let c = u8[ptr + i]!;
      if (lower && c >= 65 && c <= 90) c += 32;
      if (kept.charCodeAt(i) !== c) break;
    }
    if (i === len) return kept;
  }
  let upper = false;
  for (let i = ptr; i < end; i++) {
    const c = u8[i]!;
    if (c >= 0x80) return null;
    if (c >= 65 && c <= 90) upper = true;
  }
  let s = latin1Slice(u8, ptr, end);
  if (lower && upper) s = s.toLowerCase();
  table[slot] = s;
  return s;
}

/** Reads len bytes at ptr as UTF-8. */
export function readString(u8: Uint8Array, ptr: number, len: number): string {
  if (len === 0) return '';
  if (len <= INTERN_MAX && isBuffer(u8)) {
    const s = interned(internedValues, u8, ptr, len, false);
    if (s !== null) return s;
  }
  // One native call making one string (a char-by-char build would allocate a string per char).
  if (isBuffer(u8)) return utf8Slice(u8, ptr, ptr + len);
  return decoder.decode(u8.subarray(ptr, ptr + len));
}

/** Reads a header name: like readString, lower-cased as Envoy's LowerCaseString does. */
export function readLowerName(u8: Uint8Array, ptr: number, len: number): string {
  if (len === 0) return '';
  if (len <= INTERN_MAX && isBuffer(u8)) {
    const s = interned(internedNames, u8, ptr, len, true);
    if (s !== null) return s;
    return readString(u8, ptr, len).toLowerCase();
  }
  const end = ptr + len;
  for (let i = ptr; i < end; i++) {
    const c = u8[i]!;
    if (c >= 0x80 || (c >= 65 && c <= 90)) return readString(u8, ptr, len).toLowerCase();
  }
  // Already lower-case ASCII (the usual name): no second string for toLowerCase.
  return isBuffer(u8) ? latin1Slice(u8, ptr, end) : decoder.decode(u8.subarray(ptr, end));
}

/** Binary-safe byte string (one char per byte) for map keys such as shared-data keys. */
export function readBinaryKey(u8: Uint8Array, ptr: number, len: number): string {
  return latin1.decode(u8.subarray(ptr, ptr + len));
}

export function encodeUtf8(s: string): Uint8Array {
  const n = s.length;
  if (n <= NATIVE_MIN) {
    // Short ASCII: one allocation and a copy loop, cheaper than the encoder's native call.
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return encoder.encode(s);
      out[i] = c;
    }
    return out;
  }
  return encoder.encode(s);
}

export function decodeUtf8(b: Uint8Array): string {
  return decoder.decode(b);
}

/** Size of the pairs serialization: u32 count, count × (u32, u32), then each key and value NUL-terminated. */
export function pairsSize(pairs: readonly HeaderPair[]): number {
  let size = 4 + pairs.length * 8;
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i]!;
    size += utf8Length(p[0]) + utf8Length(p[1]) + 2;
  }
  return size;
}

/** Serializes pairs into u8 at off (little-endian), the space being pairsSize(pairs) bytes; answers the end offset. */
export function writePairs(u8: Uint8Array, dv: DataView, off: number, pairs: readonly HeaderPair[]): number {
  const n = pairs.length;
  dv.setUint32(off, n, true);
  let sizes = off + 4;
  let data = off + 4 + n * 8;
  for (let i = 0; i < n; i++) {
    const p = pairs[i]!;
    const kl = writeString(u8, data, p[0]);
    u8[data + kl] = 0;
    data += kl + 1;
    const vl = writeString(u8, data, p[1]);
    u8[data + vl] = 0;
    data += vl + 1;
    dv.setUint32(sizes, kl, true);
    dv.setUint32(sizes + 4, vl, true);
    sizes += 8;
  }
  return data;
}

let scratch = Buffer.alloc(64 * 1024);
let scratchView = new DataView(scratch.buffer, scratch.byteOffset, scratch.byteLength);

/**
 * Serializes pairs in one pass into a reusable scratch buffer and returns a view of it (valid
 * until the next call). Lets the host allocate exactly the size in the module and copy once,
 * instead of measuring every string first.
 */
export function serializePairs(pairs: readonly HeaderPair[]): Uint8Array {
  const n = pairs.length;
  // Worst case: 3 bytes per UTF-16 unit, plus the fixed parts.
  let bound = 4 + n * 10;
  for (let i = 0; i < n; i++) {
    const p = pairs[i]!;
    bound += (p[0].length + p[1].length) * 3;
  }
  if (bound > scratch.length) {
    scratch = Buffer.alloc(Math.max(bound, scratch.length * 2));
    scratchView = new DataView(scratch.buffer, scratch.byteOffset, scratch.byteLength);
  }
  const end = writePairs(scratch, scratchView, 0, pairs);
  return scratch.subarray(0, end);
}

export function encodePairs(pairs: readonly HeaderPair[]): Uint8Array {
  const out = new Uint8Array(pairsSize(pairs));
  writePairs(out, new DataView(out.buffer), 0, pairs);
  return out;
}

/**
 * Parses a pairs buffer from memory. Like Envoy, anything malformed (over the limits, short,
 * missing NUL terminators, trailing bytes) yields an empty list rather than an error.
 */
export function readPairs(u8: Uint8Array, dv: DataView, ptr: number, size: number, lowerKeys: boolean): HeaderList {
  if (size < 4 || size > PAIRS_MAX_BYTES || ptr + size > u8.length) return [];
  const end = ptr + size;
  const n = dv.getUint32(ptr, true);
  if (n > PAIRS_MAX_COUNT) return [];
  let sizes = ptr + 4;
  let data = sizes + n * 8;
  if (data > end) return [];
  const out: HeaderList = new Array(n);
  for (let i = 0; i < n; i++) {
    const kl = dv.getUint32(sizes, true);
    const vl = dv.getUint32(sizes + 4, true);
    sizes += 8;
    if (data + kl + 1 > end || u8[data + kl] !== 0) return [];
    const k = lowerKeys ? readLowerName(u8, data, kl) : readString(u8, data, kl);
    data += kl + 1;
    if (data + vl + 1 > end || u8[data + vl] !== 0) return [];
    const v = readString(u8, data, vl);
    data += vl + 1;
    out[i] = [k, v];
  }
  if (data !== end) return [];
  return out;
}

export function decodePairs(b: Uint8Array): HeaderList {
  return readPairs(b, new DataView(b.buffer, b.byteOffset, b.byteLength), 0, b.length, false);
}

/** First value of a header (names compared as given; maps hold lower-case names). */
export function headerValue(list: readonly HeaderPair[], name: string): string | undefined {
  for (let i = 0; i < list.length; i++) if (list[i]![0] === name) return list[i]![1];
  return undefined;
}
