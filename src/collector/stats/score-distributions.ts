// PSI and two-sample Kolmogorov–Smirnov D between production's and the shadow's
// scores, exactly, from the stored samples. Self-contained (no imports, no outer
// names) because the reader thread runs it from its source text.

export interface DistributionShift {
  psi: number | null;
  ks: number | null;
}

export function scoreShift(production: Float64Array, shadow: Float64Array): DistributionShift {
  const n = production.length;
  const m = shadow.length;
  if (n === 0 || m === 0) return { psi: null, ks: null };
  const a = Float64Array.from(production).sort();
  const b = Float64Array.from(shadow).sort();

  // KS: the largest gap between the two empirical CDFs, checked after each distinct value.
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const x = a[i]! <= b[j]! ? a[i]! : b[j]!;
    while (i < n && a[i]! === x) i++;
    while (j < m && b[j]! === x) j++;
    const gap = Math.abs(i / n - j / m);
    if (gap > d) d = gap;
  }

  // PSI over 10 bins cut at production's deciles (nearest rank); a value equal
  // to a cut falls in the bin below it; an empty bin counts as 0.0001.
  const cuts: number[] = [];
  for (let k = 1; k < 10; k++) cuts.push(a[Math.min(n - 1, Math.ceil((k * n) / 10) - 1)]!);
  const binOf = (v: number): number => {
    let bin = 0;
    while (bin < 9 && v > cuts[bin]!) bin++;
    return bin;
  };
  const pc = new Array<number>(10).fill(0);
  const sc = new Array<number>(10).fill(0);
  for (let k = 0; k < n; k++) pc[binOf(a[k]!)]!++;
  for (let k = 0; k < m; k++) sc[binOf(b[k]!)]!++;
  let psi = 0;
  for (let k = 0; k < 10; k++) {
    const p = pc[k]! === 0 ? 0.0001 : pc[k]! / n;
    const s = sc[k]! === 0 ? 0.0001 : sc[k]! / m;
    psi += (s - p) * Math.log(s / p);
  }
  return { psi, ks: d };
}
