// Per-route accuracy of each side against ground truth (contract §3, F), kept as
// counts so that the figures and the McNemar test are exact and cheap to ask.
import { canonicalText } from './canonical-json.js';
import { conclusion, mcnemarExactP, type FeedbackConclusion } from './mcnemar.js';

export interface FeedbackSnapshot {
  labelled: number;
  production_accuracy: number;
  shadow_accuracy: number;
  mcnemar_p: number;
  conclusion: FeedbackConclusion;
  /** Labelled pairs only production got right (b) and only the shadow got right (c). */
  production_only_correct: number;
  shadow_only_correct: number;
}

export class FeedbackCounts {
  labelled = 0;
  productionCorrect = 0;
  shadowCorrect = 0;
  productionOnly = 0;
  shadowOnly = 0;

  /** Labels as canonical JSON text. */
  add(productionLabel: string, shadowLabel: string, truth: string): void {
    const p = canonicalText(productionLabel) === truth;
    const s = canonicalText(shadowLabel) === truth;
    this.labelled++;
    if (p) this.productionCorrect++;
    if (s) this.shadowCorrect++;
    if (p && !s) this.productionOnly++;
    if (s && !p) this.shadowOnly++;
  }

  absorb(o: FeedbackCounts): void {
    this.labelled += o.labelled;
    this.productionCorrect += o.productionCorrect;
    this.shadowCorrect += o.shadowCorrect;
    this.productionOnly += o.productionOnly;
    this.shadowOnly += o.shadowOnly;
  }

  /** Null until a label is known for a pair with both predictions. */
  snapshot(confidence: number): FeedbackSnapshot | null {
    if (this.labelled === 0) return null;
    const p = mcnemarExactP(this.productionOnly, this.shadowOnly);
    return {
      labelled: this.labelled,
      production_accuracy: this.productionCorrect / this.labelled,
      shadow_accuracy: this.shadowCorrect / this.labelled,
      mcnemar_p: p,
      conclusion: conclusion(this.productionOnly, this.shadowOnly, p, confidence),
      production_only_correct: this.productionOnly,
      shadow_only_correct: this.shadowOnly,
    };
  }
}

export class FeedbackBook {
  readonly routes = new Map<string, FeedbackCounts>();

  route(name: string): FeedbackCounts {
    let c = this.routes.get(name);
    if (!c) {
      c = new FeedbackCounts();
      this.routes.set(name, c);
    }
    return c;
  }

  clear(): void {
    this.routes.clear();
  }
}
