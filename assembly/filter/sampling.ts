// Deterministic sampling (contract §1): an id is sampled iff
// FNV-1a-32(id bytes) mod 10000 < sample_percent × 100. Every sidecar, of any
// version, therefore picks the same ids. docs/filter.md has a worked example.

export function fnv1a32(p: usize, n: i32): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i = 0; i < n; i++) {
    h ^= <u32>load<u8>(p + <usize>i);
    h *= 16777619;
  }
  return h;
}

/** The bucket 0–9999 an id falls in. */
export function sampleBucket(p: usize, n: i32): u32 {
  return fnv1a32(p, n) % 10000;
}

/** `threshold` is sample_percent × 100 (0–10000). */
export function isSampled(p: usize, n: i32, threshold: f64): bool {
  return <f64>sampleBucket(p, n) < threshold;
}
