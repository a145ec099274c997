// Ground truth meets predictions: a label stored by POST /v1/feedback counts as
// soon as its pair exists, whichever of the two arrives first. Labels are in
// SQLite only; the counts in memory are rebuilt from it on start.
import type { BodyItem } from '../ingest/body.js';
import type { Joiner, JoinListener, PairEvent } from '../join/joiner.js';
import type { Repository } from '../store/repository.js';
import type { IngestError, IngestResult } from '../types.js';
import { canonicalJson } from './canonical-json.js';
import { FeedbackBook } from './feedback-book.js';
import { feedbackError, type FeedbackItem } from './feedback-schema.js';

export class FeedbackLedger implements JoinListener {
  readonly book = new FeedbackBook();
  /** Until a label exists, new pairs skip the lookup of one. */
  private anyLabel = false;

  constructor(
    private readonly repo: Repository,
    private readonly joiner: Joiner,
  ) {
    this.rebuilt();
    joiner.listeners.push(this);
  }

  /** Same answer as POST /v1/records: valid items are kept even when others are rejected. */
  ingest(items: readonly BodyItem[]): IngestResult {
    const errors: IngestError[] = [];
    const valid: FeedbackItem[] = [];
    for (const item of items) {
      const reason = item.error ?? feedbackError(item.value);
      if (reason === null) valid.push(item.value as FeedbackItem);
      else errors.push({ index: item.index, error: reason });
    }
    if (valid.length > 0) {
      const now = this.joiner.now();
      try {
        this.repo.transaction(() => {
          for (const f of valid) this.accept(f, now);
        });
      } catch (err) {
        this.rebuilt();
        throw err;
      }
    }
    return { accepted: valid.length, rejected: errors.length, errors };
  }

  private accept(f: FeedbackItem, now: number): void {
    const truth = canonicalJson(f.label);
    if (!this.repo.feedback.insert(f.id, truth, now)) return; // duplicate: the first label stays
    this.anyLabel = true;
    const pair = this.repo.pairById(f.id);
    if (!pair) return; // waits in SQLite for its pair
    const p = this.repo.feedback.predictionOfPair(pair.seq);
    if (p && p.productionLabel !== null && p.shadowLabel !== null) this.book.route(p.route).add(p.productionLabel, p.shadowLabel, truth);
  }

  pair(e: PairEvent): void {
    const s = e.sample;
    if (!this.anyLabel || !s || s.productionLabel === null || s.shadowLabel === null) return;
    const truth = this.repo.feedback.labelOf(e.id);
    if (truth !== undefined) this.book.route(e.route).add(s.productionLabel, s.shadowLabel, truth);
  }

  rebuilt(): void {
    this.book.clear();
    this.anyLabel = this.repo.feedback.size > 0;
    for (const r of this.repo.feedback.scanLabelled()) this.book.route(r.route).add(r.productionLabel, r.shadowLabel, r.label);
  }
}
