// Exact McNemar test: of the discordant pairs (one side right, the other wrong),
// under "both sides are equally accurate" each is the production's win with
// probability 1/2, so the count of production wins is Binomial(b + c, 1/2).
import binomialTest from '@stdlib/stats-binomial-test';

export type FeedbackConclusion = 'shadow_better' | 'shadow_worse' | 'no_significant_difference';

/**
 * Two-sided p-value. `productionOnly` (b): pairs production got right and the shadow
 * wrong; `shadowOnly` (c): the other way round.
 */
export function mcnemarExactP(productionOnly: number, shadowOnly: number): number {
  const n = productionOnly + shadowOnly;
  if (n === 0) return 1;
  // The library's two-sided p-value can exceed 1 by rounding when b = c.
  return Math.min(1, binomialTest(productionOnly, n, { p: 0.5, alternative: 'two-sided' }).pValue);
}

/** Significant when p < 1 − confidence; the direction says who is better. */
export function conclusion(productionOnly: number, shadowOnly: number, p: number, confidence: number): FeedbackConclusion {
  if (!(p < 1 - confidence)) return 'no_significant_difference';
  return shadowOnly > productionOnly ? 'shadow_better' : 'shadow_worse';
}
