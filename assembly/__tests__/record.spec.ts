import { ByteBuf } from "../abi/bytes";
import { writeJsonString } from "../filter/json";
import { addHeader, beginHeaders, endHeaders, writePrefix, writeRecord, writeSource, ROLE_FIELD_BASELINE, ROLE_FIELD_PRODUCTION, ROLE_FIELD_SHADOW } from "../filter/record";

function buf(s: string): ByteBuf {
  const b = new ByteBuf();
  b.buf(String.UTF8.encode(s));
  return b;
}

function bytesBuf(a: u8[]): ByteBuf {
  const b = new ByteBuf();
  for (let i = 0; i < a.length; i++) b.byte(a[i]);
  return b;
}

function text(b: ByteBuf): string {
  return String.UTF8.decodeUnsafe(b.ptr, b.len);
}

function prefix(): ByteBuf {
  const id = String.UTF8.encode("abc-1");
  const route = new ByteBuf();
  const r = String.UTF8.encode("predict");
  writeJsonString(route, changetype<usize>(r), r.byteLength);
  const m = String.UTF8.encode("POST");
  const p = String.UTF8.encode("/p?q=\"1\"");
  const out = new ByteBuf();
  writePrefix(out, changetype<usize>(id), id.byteLength, route, changetype<usize>(m), m.byteLength, changetype<usize>(p), p.byteLength, 1700000000123);
  return out;
}

describe("records", () => {
  it("writes the shared prefix", () => {
    expect(text(prefix())).toBe("{\"v\":1,\"id\":\"abc-1\",\"route\":\"predict\",\"method\":\"POST\",\"path\":\"/p?q=\\\"1\\\"\",\"ts_ms\":1700000000123");
  });

  it("writes a baseline record (a second production copy)", () => {
    const out = new ByteBuf();
    writeRecord(out, prefix(), ROLE_FIELD_BASELINE, 200, null, 2500000, null, null, buf("{\"s\":1}"), false);
    expect(text(out)).toBe("{\"v\":1,\"id\":\"abc-1\",\"route\":\"predict\",\"method\":\"POST\",\"path\":\"/p?q=\\\"1\\\"\",\"ts_ms\":1700000000123" +
      ",\"role\":\"baseline\",\"status\":200,\"latency_ms\":2.5,\"response_body\":\"{\\\"s\\\":1}\"}");
  });

  it("writes a production record with utf8 bodies", () => {
    const h = new ByteBuf();
    beginHeaders(h);
    const k1 = String.UTF8.encode(":status"), v1 = String.UTF8.encode("200");
    const k2 = String.UTF8.encode("set-cookie"), v2 = String.UTF8.encode("a=b");
    const k3 = String.UTF8.encode("x-a"), v3 = String.UTF8.encode("é");
    addHeader(h, changetype<usize>(k1), k1.byteLength, changetype<usize>(v1), v1.byteLength, false);
    addHeader(h, changetype<usize>(k2), k2.byteLength, changetype<usize>(v2), v2.byteLength, true);
    addHeader(h, changetype<usize>(k3), k3.byteLength, changetype<usize>(v3), v3.byteLength, false);
    endHeaders(h);
    const out = new ByteBuf();
    writeRecord(out, prefix(), ROLE_FIELD_PRODUCTION, 200, null, 12345678, buf("{\"x\":1}"), h, buf("ok\n"), false);
    expect(text(out)).toBe("{\"v\":1,\"id\":\"abc-1\",\"route\":\"predict\",\"method\":\"POST\",\"path\":\"/p?q=\\\"1\\\"\",\"ts_ms\":1700000000123" +
      ",\"role\":\"production\",\"status\":200,\"latency_ms\":12.346,\"request_body\":\"{\\\"x\\\":1}\"" +
      ",\"response_headers\":{\"set-cookie\":\"[redacted]\",\"x-a\":\"é\"},\"response_body\":\"ok\\n\"}");
  });

  it("sends both bodies base64 when one is not UTF-8", () => {
    const out = new ByteBuf();
    writeRecord(out, prefix(), ROLE_FIELD_PRODUCTION, 200, null, 0, buf("foo"), null, bytesBuf([0xff, 0x00]), true);
    const s = text(out);
    expect(s.includes(",\"request_body\":\"Zm9v\"")).toBe(true, s);
    expect(s.includes(",\"response_body\":\"/wA=\"")).toBe(true, s);
    expect(s.includes(",\"body_encoding\":\"base64\"")).toBe(true, s);
    expect(s.includes(",\"response_body_truncated\":true}")).toBe(true, s);
  });

  it("writes a failed shadow side with status 0 and the error", () => {
    const out = new ByteBuf();
    writeRecord(out, prefix(), ROLE_FIELD_SHADOW, 0, String.UTF8.encode("timeout"), 5000000000, null, null, null, false, null);
    expect(text(out).endsWith(",\"role\":\"shadow\",\"status\":0,\"error\":\"timeout\",\"latency_ms\":5000}")).toBe(true, text(out));
  });
});

describe("record source", () => {
  it("appends the prepared source field, escaped", () => {
    const src = new ByteBuf();
    const node = String.UTF8.encode("sidecar~10.0.0.1~pod \"a\".ns");
    writeSource(src, changetype<usize>(node), node.byteLength);
    const out = new ByteBuf();
    writeRecord(out, prefix(), ROLE_FIELD_PRODUCTION, 200, null, 0, null, null, null, false, src);
    expect(text(out).endsWith(",\"source\":\"sidecar~10.0.0.1~pod \\\"a\\\".ns\"}")).toBe(true, text(out));
  });
  it("writes nothing for an empty node id", () => {
    const src = new ByteBuf();
    writeSource(src, 0, 0);
    expect(src.len).toBe(0);
  });
});
