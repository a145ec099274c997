// Running model metrics of one route (contract §3, `prediction`), except the
// distribution shift (psi, ks), which needs the samples and is computed from the
// database on the reader thread.
import type { PredictionSample } from '../compare/prediction.js';
import type { FeedbackSnapshot } from '../feedback/feedback-book.js';
import { LatencySketch } from './sketch.js';

export interface PredictionSnapshot {
  pairs: number;
  label_agreement: number | null;
  confusion: Record<string, Record<string, number>>;
  score_delta: { mean_abs: number | null; p95_abs: number | null; max_abs: number | null };
  psi: number | null;
  ks: number | null;
  /** Ground-truth comparison (POST /v1/feedback); null until a label is known. */
  feedback: FeedbackSnapshot | null;
}

export class PredictionStats {
  pairs = 0;
  private labelled = 0;
  private agree = 0;
  private readonly confusion = new Map<string, Map<string, number>>();
  private scored = 0;
  private sumAbs = 0;
  private maxAbs = 0;
  // 1% relative accuracy, like the latencies; zero deltas are counted exactly.
  private readonly absDelta = new LatencySketch();

  add(s: PredictionSample): void {
    this.pairs++;
    if (s.productionLabel !== null && s.shadowLabel !== null) {
      this.labelled++;
      if (s.productionLabel === s.shadowLabel) this.agree++;
      let row = this.confusion.get(s.productionLabel);
      if (!row) {
        row = new Map();
        this.confusion.set(s.productionLabel, row);
      }
      row.set(s.shadowLabel, (row.get(s.shadowLabel) ?? 0) + 1);
    }
    if (s.productionScore !== null && s.shadowScore !== null) {
      const d = Math.abs(s.shadowScore - s.productionScore);
      this.scored++;
      this.sumAbs += d;
      if (d > this.maxAbs) this.maxAbs = d;
      this.absDelta.add(d);
    }
  }

  snapshot(shift: { psi: number | null; ks: number | null }, feedback: FeedbackSnapshot | null = null): PredictionSnapshot {
    const confusion: Record<string, Record<string, number>> = {};
    for (const [p, row] of [...this.confusion].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
      confusion[p] = Object.fromEntries([...row].sort((x, y) => (x[0] < y[0] ? -1 : 1)));
    }
    return {
      pairs: this.pairs,
      label_agreement: this.labelled === 0 ? null : this.agree / this.labelled,
      confusion,
      score_delta: {
        mean_abs: this.scored === 0 ? null : this.sumAbs / this.scored,
        p95_abs: this.absDelta.quantile(0.95),
        max_abs: this.scored === 0 ? null : this.maxAbs,
      },
      psi: shift.psi,
      ks: shift.ks,
      feedback,
    };
  }
}
