// A growable byte buffer on the raw heap (heap.alloc / heap.free), outside the
// garbage collector: per-request bodies, records and header copies live here and
// are reused across streams instead of being rebuilt as strings.

export class ByteBuf {
  ptr: usize = 0;
  len: i32 = 0;
  cap: i32 = 0;

  reserve(extra: i32): void {
    const need = this.len + extra;
    if (need <= this.cap) return;
    let c = this.cap << 1;
    if (c < need) c = need;
    if (c < 64) c = 64;
    this.ptr = this.ptr == 0 ? heap.alloc(<usize>c) : heap.realloc(this.ptr, <usize>c);
    this.cap = c;
  }

  clear(): void {
    this.len = 0;
  }

  /** Frees the storage (used when a pooled buffer grew large). */
  release(): void {
    if (this.ptr != 0) heap.free(this.ptr);
    this.ptr = 0;
    this.len = 0;
    this.cap = 0;
  }

  /** Clears, and gives back storage above `keep` bytes so one huge request does not pin memory. */
  reset(keep: i32): void {
    if (this.cap > keep) this.release();
    this.len = 0;
  }

  byte(b: i32): void {
    this.reserve(1);
    store<u8>(this.ptr + <usize>this.len, <u8>b);
    this.len++;
  }

  bytes(p: usize, n: i32): void {
    if (n <= 0) return;
    this.reserve(n);
    memory.copy(this.ptr + <usize>this.len, p, <usize>n);
    this.len += n;
  }

  buf(b: ArrayBuffer): void {
    this.bytes(changetype<usize>(b), b.byteLength);
  }

  from(other: ByteBuf): void {
    this.bytes(other.ptr, other.len);
  }

  u32le(v: u32): void {
    this.reserve(4);
    store<u32>(this.ptr + <usize>this.len, v);
    this.len += 4;
  }

  /** Unsigned decimal. */
  dec(v: u64): void {
    this.reserve(20);
    let n = 1;
    let t = v;
    while (t >= 10) { t /= 10; n++; }
    let p = this.ptr + <usize>(this.len + n);
    do {
      p--;
      store<u8>(p, <u8>(48 + <i32>(v % 10)));
      v /= 10;
    } while (v != 0);
    this.len += n;
  }

  /** Nanoseconds as milliseconds with up to three decimals, trailing zeros trimmed ("12.5", "3"). */
  millisFromNanos(ns: u64): void {
    // Rounded to the microsecond: hosts that keep time as float milliseconds are off by a few ns.
    const us = (ns + 500) / 1000;
    this.dec(us / 1000);
    const frac = <i32>(us % 1000);
    if (frac == 0) return;
    const d1 = frac / 100, d2 = (frac / 10) % 10, d3 = frac % 10;
    this.byte(46);
    this.byte(48 + d1);
    if (d2 != 0 || d3 != 0) this.byte(48 + d2);
    if (d3 != 0) this.byte(48 + d3);
  }

  equalsBuf(b: ArrayBuffer): bool {
    return bytesEqual(this.ptr, this.len, changetype<usize>(b), b.byteLength);
  }

  toArrayBuffer(): ArrayBuffer {
    const out = new ArrayBuffer(this.len);
    if (this.len > 0) memory.copy(changetype<usize>(out), this.ptr, <usize>this.len);
    return out;
  }
}

/** ASCII lower-casing in place (header names are ASCII tokens). */
export function lowerInPlace(p: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const c = load<u8>(p + <usize>i);
    if (c >= 65 && c <= 90) store<u8>(p + <usize>i, c + 32);
  }
}

export function bytesEqual(a: usize, an: i32, b: usize, bn: i32): bool {
  if (an != bn) return false;
  return an == 0 || memory.compare(a, b, <usize>an) == 0;
}

export function startsWith(p: usize, n: i32, prefix: ArrayBuffer): bool {
  const pn = prefix.byteLength;
  return pn <= n && (pn == 0 || memory.compare(p, changetype<usize>(prefix), <usize>pn) == 0);
}

/** ASCII-only lower-casing (String#toLowerCase would pull in the Unicode case tables). Configure time only. */
export function asciiLower(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += String.fromCharCode(c >= 65 && c <= 90 ? c + 32 : c);
  }
  return out;
}

/** Decimal text of a non-negative integer, without pulling in the standard library's itoa. */
export function num(v: f64): string {
  const b = new ByteBuf();
  b.dec(<u64>v);
  const s = String.UTF8.decodeUnsafe(b.ptr, b.len);
  b.release();
  return s;
}
