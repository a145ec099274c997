import { fnv1a32, isSampled, sampleBucket } from "../filter/sampling";
import { hexId, isValidId } from "../filter/ids";

function bucketOf(s: string): u32 {
  const b = String.UTF8.encode(s);
  return sampleBucket(changetype<usize>(b), b.byteLength);
}

function sampled(s: string, percent: f64): bool {
  const b = String.UTF8.encode(s);
  return isSampled(changetype<usize>(b), b.byteLength, percent * 100);
}

function valid(s: string): bool {
  const b = String.UTF8.encode(s);
  return isValidId(changetype<usize>(b), b.byteLength);
}

describe("sampling", () => {
  it("uses FNV-1a 32 (reference vectors)", () => {
    const empty = String.UTF8.encode("");
    expect(fnv1a32(changetype<usize>(empty), 0)).toBe(0x811c9dc5);
    const a = String.UTF8.encode("a");
    expect(fnv1a32(changetype<usize>(a), 1)).toBe(0xe40c292c);
    const foobar = String.UTF8.encode("foobar");
    expect(fnv1a32(changetype<usize>(foobar), 6)).toBe(0xbf9cf968);
  });

  it("puts the documented example in its bucket", () => {
    // docs/filter.md: "req-42" → FNV-1a-32 = 0x94c16f68 = 2495704936 → bucket 4936
    expect(bucketOf("req-42")).toBe(4936);
    expect(sampled("req-42", 49.37)).toBe(true);
    expect(sampled("req-42", 49.36)).toBe(false);
    expect(sampled("req-42", 50)).toBe(true);
    expect(sampled("req-42", 49)).toBe(false);
  });

  it("decides from the id alone: fixed ids, their buckets and outcomes at 37.5%", () => {
    // Buckets from the formula in docs/filter.md (its JavaScript one-liner), not from this code.
    expect(bucketOf("id-0")).toBe(1509);
    expect(bucketOf("id-1")).toBe(3890);
    expect(bucketOf("id-7")).toBe(8176);
    expect(bucketOf("x")).toBe(2695);
    expect(bucketOf("0123456789abcdef0123456789abcdef")).toBe(8325);
    expect(bucketOf("ffffffffffffffffffffffffffffffff")).toBe(2821);
    expect(sampled("id-0", 37.5)).toBe(true);
    expect(sampled("id-1", 37.5)).toBe(false); // 3890 >= 3750
    expect(sampled("id-7", 37.5)).toBe(false);
    expect(sampled("x", 37.5)).toBe(true);
    expect(sampled("0123456789abcdef0123456789abcdef", 37.5)).toBe(false);
    expect(sampled("ffffffffffffffffffffffffffffffff", 37.5)).toBe(true);
    expect(sampled("id-1", 38.91)).toBe(true); // 3890 < 3891
    expect(sampled("id-1", 38.9)).toBe(false);
  });

  it("never samples at 0 and always at 100", () => {
    for (let i = 0; i < 1000; i++) {
      const id = "x" + i.toString();
      expect(sampled(id, 0)).toBe(false);
      expect(sampled(id, 100)).toBe(true);
    }
  });

  it("samples within 2 points of the percentage over 100k ids", () => {
    const percents: f64[] = [1, 10, 25, 50, 90];
    const hex = memory.data(32);
    const raw = memory.data(16);
    for (let p = 0; p < percents.length; p++) {
      let hits = 0;
      let state: u64 = 0x9e3779b97f4a7c15 + <u64>p;
      for (let i = 0; i < 100000; i++) {
        // ids shaped like the filter's own: 32 hex digits from 16 pseudo-random bytes
        state ^= state << 13; state ^= state >> 7; state ^= state << 17;
        store<u64>(raw, state);
        store<u64>(raw + 8, state * 0x2545f4914f6cdd1d);
        hexId(raw, hex);
        if (isSampled(hex, 32, percents[p] * 100)) hits++;
      }
      const got = <f64>hits / 1000.0;
      expect(Math.abs(got - percents[p]) <= 2.0).toBe(true, "percent " + percents[p].toString() + " got " + got.toString());
    }
  });
});

describe("correlation ids", () => {
  it("accepts 1-128 chars of [A-Za-z0-9._:-]", () => {
    expect(valid("a")).toBe(true);
    expect(valid("AZaz09._:-")).toBe(true);
    expect(valid("x".repeat(128))).toBe(true);
  });
  it("rejects empty, too long and other characters", () => {
    expect(valid("")).toBe(false);
    expect(valid("x".repeat(129))).toBe(false);
    expect(valid("a b")).toBe(false);
    expect(valid("a/b")).toBe(false);
    expect(valid("é")).toBe(false);
    expect(valid("a\"b")).toBe(false);
  });
  it("writes new ids as 32 lower-case hex digits", () => {
    const raw = memory.data(16);
    const out = memory.data(32);
    for (let i = 0; i < 16; i++) store<u8>(raw + i, <u8>(i * 17));
    hexId(raw, out);
    expect(String.UTF8.decodeUnsafe(out, 32)).toBe("00112233445566778899aabbccddeeff");
    expect(isValidId(out, 32)).toBe(true);
  });
});
