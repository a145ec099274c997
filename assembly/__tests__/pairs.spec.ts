import { ByteBuf } from "../abi/bytes";
import { PairTable } from "../abi/pairs";

function bytes(s: string): ArrayBuffer { return String.UTF8.encode(s); }

function add(t: PairTable, k: ArrayBuffer, v: ArrayBuffer): void {
  t.add(changetype<usize>(k), k.byteLength, changetype<usize>(v), v.byteLength);
}

function keyAt(t: PairTable, i: i32): string { return String.UTF8.decodeUnsafe(t.keyPtr(i), t.keyLen(i)); }
function valAt(t: PairTable, i: i32): string { return String.UTF8.decodeUnsafe(t.valPtr(i), t.valLen(i)); }

describe("header-pair codec", () => {
  it("encodes the documented layout", () => {
    const t = new PairTable();
    const k = bytes("a"), v = bytes("bc");
    add(t, k, v);
    const out = new ByteBuf();
    t.encode(out);
    // u32 1, u32 1, u32 2, "a\0bc\0"
    expect(out.len).toBe(4 + 8 + 2 + 3);
    expect(load<u32>(out.ptr)).toBe(1);
    expect(load<u32>(out.ptr + 4)).toBe(1);
    expect(load<u32>(out.ptr + 8)).toBe(2);
    expect(load<u8>(out.ptr + 12)).toBe(97);
    expect(load<u8>(out.ptr + 13)).toBe(0);
    expect(load<u8>(out.ptr + 16)).toBe(0);
  });

  it("round-trips keys and values, including empty values and UTF-8", () => {
    const keys = [bytes(":method"), bytes(":path"), bytes("x-empty"), bytes("x-utf8")];
    const vals = [bytes("GET"), bytes("/a?b=c"), bytes(""), bytes("héllo ✓")];
    const t = new PairTable();
    for (let i = 0; i < keys.length; i++) add(t, keys[i], vals[i]);
    const out = new ByteBuf();
    t.encode(out);
    const d = new PairTable();
    expect(d.decode(out.ptr, out.len)).toBe(4);
    expect(keyAt(d, 0)).toBe(":method");
    expect(valAt(d, 1)).toBe("/a?b=c");
    expect(valAt(d, 2)).toBe("");
    expect(valAt(d, 3)).toBe("héllo ✓");
    expect(d.findBuf(bytes("x-utf8"))).toBe(3);
    expect(d.findBuf(bytes("missing"))).toBe(-1);
  });

  it("reads an empty buffer as an empty map", () => {
    const d = new PairTable();
    expect(d.decode(0, 0)).toBe(0);
    const zero = new ByteBuf();
    zero.u32le(0);
    expect(d.decode(zero.ptr, zero.len)).toBe(0);
  });

  it("reads malformed buffers as empty maps", () => {
    const t = new PairTable();
    add(t, bytes("key"), bytes("value"));
    const good = new ByteBuf();
    t.encode(good);
    const d = new PairTable();
    // truncated
    expect(d.decode(good.ptr, good.len - 1)).toBe(0);
    // shorter than the count
    expect(d.decode(good.ptr, 3)).toBe(0);
    // a missing NUL terminator
    const noNul = new ByteBuf();
    noNul.from(good);
    store<u8>(noNul.ptr + 4 + 8 + 3, 65);
    expect(d.decode(noNul.ptr, noNul.len)).toBe(0);
    // a count far beyond the data and the 1024-pair limit
    const huge = new ByteBuf();
    huge.from(good);
    store<u32>(huge.ptr, 5000);
    expect(d.decode(huge.ptr, huge.len)).toBe(0);
    // lengths that overflow 32 bits
    const over = new ByteBuf();
    over.from(good);
    store<u32>(over.ptr + 4, 0xffffffff);
    expect(d.decode(over.ptr, over.len)).toBe(0);
    // the good one still decodes
    expect(d.decode(good.ptr, good.len)).toBe(1);
  });
});
