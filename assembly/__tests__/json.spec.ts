import { ByteBuf } from "../abi/bytes";
import { isValidUtf8, writeBase64, writeJsonString } from "../filter/json";

function esc(s: string): string {
  const b = String.UTF8.encode(s);
  const out = new ByteBuf();
  writeJsonString(out, changetype<usize>(b), b.byteLength);
  return String.UTF8.decodeUnsafe(out.ptr, out.len);
}

function escBytes(a: u8[]): string {
  const out = new ByteBuf();
  const p = heap.alloc(a.length);
  for (let i = 0; i < a.length; i++) store<u8>(p + i, a[i]);
  writeJsonString(out, p, a.length);
  return String.UTF8.decodeUnsafe(out.ptr, out.len);
}

function valid(a: u8[]): bool {
  const p = heap.alloc(a.length + 1);
  for (let i = 0; i < a.length; i++) store<u8>(p + i, a[i]);
  return isValidUtf8(p, a.length);
}

function b64(s: string): string {
  const b = String.UTF8.encode(s);
  const out = new ByteBuf();
  writeBase64(out, changetype<usize>(b), b.byteLength);
  return String.UTF8.decodeUnsafe(out.ptr, out.len);
}

describe("JSON string escaping", () => {
  it("quotes plain text unchanged", () => {
    expect(esc("hello /world")).toBe("\"hello /world\"");
    expect(esc("")).toBe("\"\"");
  });
  it("escapes quotes and backslashes", () => {
    expect(esc("a\"b\\c")).toBe("\"a\\\"b\\\\c\"");
  });
  it("escapes control characters", () => {
    expect(esc("a\nb\rc\td")).toBe("\"a\\nb\\rc\\td\"");
    expect(esc("\x00\x01\x1f")).toBe("\"\\u0000\\u0001\\u001f\"");
    expect(esc("\x08\x0c")).toBe("\"\\u0008\\u000c\"");
  });
  it("passes non-ASCII UTF-8 through", () => {
    expect(esc("héllo ✓ 😀")).toBe("\"héllo ✓ 😀\"");
  });
  it("writes bytes that are not UTF-8 as Latin-1 escapes, so the output stays valid JSON", () => {
    expect(escBytes([0x61, 0xff, 0x62])).toBe("\"a\\u00ffb\"");
    expect(escBytes([0xc3])).toBe("\"\\u00c3\"");
  });
});

describe("UTF-8 validation", () => {
  it("accepts ASCII, 2-, 3- and 4-byte sequences", () => {
    expect(valid([0x41])).toBe(true);
    expect(valid([0xc3, 0xa9])).toBe(true);
    expect(valid([0xe2, 0x9c, 0x93])).toBe(true);
    expect(valid([0xf0, 0x9f, 0x98, 0x80])).toBe(true);
    expect(valid([])).toBe(true);
  });
  it("rejects stray, truncated, overlong, surrogate and out-of-range sequences", () => {
    expect(valid([0x80])).toBe(false);
    expect(valid([0xff])).toBe(false);
    expect(valid([0xc3])).toBe(false);
    expect(valid([0xe2, 0x9c])).toBe(false);
    expect(valid([0xc0, 0xaf])).toBe(false);
    expect(valid([0xe0, 0x80, 0xaf])).toBe(false);
    expect(valid([0xed, 0xa0, 0x80])).toBe(false);
    expect(valid([0xf4, 0x90, 0x80, 0x80])).toBe(false);
    expect(valid([0x41, 0xc3, 0x28])).toBe(false);
  });
});

describe("base64", () => {
  it("encodes with padding (RFC 4648 vectors)", () => {
    expect(b64("")).toBe("\"\"");
    expect(b64("f")).toBe("\"Zg==\"");
    expect(b64("fo")).toBe("\"Zm8=\"");
    expect(b64("foo")).toBe("\"Zm9v\"");
    expect(b64("foob")).toBe("\"Zm9vYg==\"");
    expect(b64("fooba")).toBe("\"Zm9vYmE=\"");
    expect(b64("foobar")).toBe("\"Zm9vYmFy\"");
  });
  it("encodes binary bytes", () => {
    const out = new ByteBuf();
    const p = heap.alloc(3);
    store<u8>(p, 0xff); store<u8>(p + 1, 0x00); store<u8>(p + 2, 0x41);
    writeBase64(out, p, 3);
    expect(String.UTF8.decodeUnsafe(out.ptr, out.len)).toBe("\"/wBB\"");
  });
});

describe("ByteBuf numbers", () => {
  it("writes decimals and milliseconds from nanoseconds", () => {
    const b = new ByteBuf();
    b.dec(0); b.byte(32); b.dec(1700000000000); b.byte(32);
    b.millisFromNanos(0); b.byte(32);
    b.millisFromNanos(1500000); b.byte(32);
    b.millisFromNanos(12345678); b.byte(32);
    b.millisFromNanos(7000); b.byte(32);
    b.millisFromNanos(3000000000);
    expect(String.UTF8.decodeUnsafe(b.ptr, b.len)).toBe("0 1700000000000 0 1.5 12.346 0.007 3000");
  });
});
