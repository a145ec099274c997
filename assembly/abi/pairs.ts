// proxy-wasm header-pair serialization: u32 count, count × (u32 key_len, u32 value_len),
// then each key and each value followed by a NUL byte; little-endian. Decoding does not
// copy: entries point into the caller's buffer. Anything malformed reads as an empty map
// (as the host does), never a trap.
import { ByteBuf } from "./bytes";

export const MAX_PAIRS: i32 = 1024;
export const MAX_PAIRS_BYTES: i32 = 1 << 20;

/** A table of (key ptr, key len, value ptr, value len) quadruples, allocated once. */
export class PairTable {
  count: i32 = 0;
  table: usize = heap.alloc(<usize>(MAX_PAIRS * 16));

  keyPtr(i: i32): usize { return <usize>load<u32>(this.table + <usize>(i << 4)); }
  keyLen(i: i32): i32 { return <i32>load<u32>(this.table + <usize>(i << 4), 4); }
  valPtr(i: i32): usize { return <usize>load<u32>(this.table + <usize>(i << 4), 8); }
  valLen(i: i32): i32 { return <i32>load<u32>(this.table + <usize>(i << 4), 12); }

  clear(): void { this.count = 0; }

  /** Appends an entry (for encoding); false when the table is full. */
  add(kp: usize, kn: i32, vp: usize, vn: i32): bool {
    if (this.count >= MAX_PAIRS) return false;
    const e = this.table + <usize>(this.count << 4);
    store<u32>(e, <u32>kp);
    store<u32>(e, <u32>kn, 4);
    store<u32>(e, <u32>vp, 8);
    store<u32>(e, <u32>vn, 12);
    this.count++;
    return true;
  }

  /** Reads a serialized map; returns the number of pairs (0 when empty or malformed). */
  decode(p: usize, n: i32): i32 {
    this.count = 0;
    if (p == 0 || n < 4 || n > MAX_PAIRS_BYTES) return 0;
    const count = load<u32>(p);
    if (count > <u32>MAX_PAIRS) return 0;
    const c = <i32>count;
    let off = 4 + 8 * c;
    if (off > n) return 0;
    for (let i = 0; i < c; i++) {
      const kn = load<u32>(p + <usize>(4 + 8 * i));
      const vn = load<u32>(p + <usize>(8 + 8 * i));
      // u64 arithmetic: lengths come from outside and may be huge
      if (<u64>off + <u64>kn + <u64>vn + 2 > <u64>n) { this.count = 0; return 0; }
      const kp = p + <usize>off;
      if (load<u8>(kp + <usize>kn) != 0) { this.count = 0; return 0; }
      const vp = kp + <usize>kn + 1;
      if (load<u8>(vp + <usize>vn) != 0) { this.count = 0; return 0; }
      this.add(kp, <i32>kn, vp, <i32>vn);
      off += <i32>kn + <i32>vn + 2;
    }
    return this.count;
  }

  /** Index of the first entry whose key equals (kp, kn), or -1. */
  find(kp: usize, kn: i32): i32 {
    for (let i = 0; i < this.count; i++) {
      if (this.keyLen(i) == kn && (kn == 0 || memory.compare(this.keyPtr(i), kp, <usize>kn) == 0)) return i;
    }
    return -1;
  }

  findBuf(key: ArrayBuffer): i32 {
    return this.find(changetype<usize>(key), key.byteLength);
  }

  /** Serializes the table into `out` (appending). */
  encode(out: ByteBuf): void {
    const c = this.count;
    let size = 4 + 8 * c;
    for (let i = 0; i < c; i++) size += this.keyLen(i) + this.valLen(i) + 2;
    out.reserve(size);
    out.u32le(<u32>c);
    for (let i = 0; i < c; i++) {
      out.u32le(<u32>this.keyLen(i));
      out.u32le(<u32>this.valLen(i));
    }
    for (let i = 0; i < c; i++) {
      out.bytes(this.keyPtr(i), this.keyLen(i));
      out.byte(0);
      out.bytes(this.valPtr(i), this.valLen(i));
      out.byte(0);
    }
  }
}
