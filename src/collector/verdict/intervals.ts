// Intervals around a match rate: Wilson's score interval for one look at the data,
// and an anytime-valid confidence sequence for a verdict that is polled again and
// again (contract §3.1).
import betaln from '@stdlib/math-base-special-betaln';
import jstat from 'jstat';

export interface Interval {
  lower: number;
  upper: number;
}

const zCache = new Map<number, number>();

/** The two-sided normal quantile for `confidence` (1.96 at 0.95). */
function zFor(confidence: number): number {
  let z = zCache.get(confidence);
  if (z === undefined) {
    z = jstat.normal.inv(1 - (1 - confidence) / 2, 0, 1);
    zCache.set(confidence, z);
  }
  return z;
}

/** Wilson score interval for s successes in n trials at two-sided `confidence`. */
export function wilsonInterval(s: number, n: number, confidence: number): Interval {
  if (n === 0) return { lower: 0, upper: 1 };
  const z = zFor(confidence);
  const p = s / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n));
  return { lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}

/**
 * The beta-binomial mixture confidence sequence with a Beta(1,1) prior:
 * { p : B(s+1, f+1) / (p^s (1−p)^f) < 1/α }. The mixture likelihood ratio is a
 * nonnegative martingale under the true p, so by Ville's inequality the chance that
 * the set ever excludes the true p, over any number of looks, is at most α.
 */
export function betaBinomialSequence(s: number, f: number, alpha: number): Interval {
  const logB = betaln(s + 1, f + 1);
  const bound = Math.log(1 / alpha);
  // g(p) < 0 exactly inside the set; g is convex with its minimum at s/(s+f).
  const g = (p: number): number => logB - xlogy(s, p) - xlogy(f, 1 - p) - bound;
  const n = s + f;
  const mode = n === 0 ? 0.5 : s / n;
  const lower = g(0) < 0 ? 0 : bisect(g, 0, mode);
  const upper = g(1) < 0 ? 1 : bisect(g, 1, mode);
  return { lower, upper };
}

/** x·ln(y) with 0·ln(0) = 0. */
function xlogy(x: number, y: number): number {
  if (x === 0) return 0;
  return x * Math.log(y);
}

/** The crossing between `outside` (g ≥ 0) and `inside` (g < 0). */
function bisect(g: (p: number) => number, outside: number, inside: number): number {
  let out = outside;
  let inn = inside;
  for (let i = 0; i < 100 && Math.abs(out - inn) > 1e-10; i++) {
    const mid = (out + inn) / 2;
    if (g(mid) < 0) inn = mid;
    else out = mid;
  }
  return inn;
}
