// Latency quantiles from a DDSketch (1% relative accuracy): memory stays small
// whatever the number of samples, and the result does not depend on their order,
// so a sketch rebuilt from the database after a restart answers the same.
import { DDSketch } from '@datadog/sketches-js';

export interface Quantiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export const RELATIVE_ACCURACY = 0.01;

export class LatencySketch {
  readonly sketch = new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY });

  add(ms: number): void {
    this.sketch.accept(ms);
  }

  get count(): number {
    return this.sketch.count;
  }

  mergeInto(target: LatencySketch): void {
    if (this.sketch.count > 0) target.sketch.merge(this.sketch);
  }

  /** Unrounded estimate, or null without samples. */
  quantile(q: number): number | null {
    return this.sketch.count === 0 ? null : this.sketch.getValueAtQuantile(q);
  }

  quantiles(): Quantiles {
    if (this.sketch.count === 0) return { p50: null, p95: null, p99: null };
    const q = (p: number): number => round(this.sketch.getValueAtQuantile(p));
    return { p50: q(0.5), p95: q(0.95), p99: q(0.99) };
  }
}

// The sketch's answer is only good to 1%; more digits are noise.
const round = (v: number): number => Math.round(v * 1000) / 1000;
