// Ground-truth labels (POST /v1/feedback), one per id, first copy wins. A label
// waits here, not in memory, until its pair exists, so waiting labels cost no memory.
import type Database from 'better-sqlite3';

export interface LabelledPrediction {
  route: string;
  productionLabel: string;
  shadowLabel: string;
  label: string;
}

export class FeedbackStore {
  private readonly stmt;

  constructor(db: Database.Database) {
    this.stmt = {
      insert: db.prepare('INSERT OR IGNORE INTO feedback (id, label, arrival_ms) VALUES (?, ?, ?)'),
      labelOf: db.prepare<[string], string>('SELECT label FROM feedback WHERE id = ?').pluck(),
      predictionOfPair: db.prepare<[number], { route: string; productionLabel: string | null; shadowLabel: string | null }>(
        'SELECT route, prod_label AS productionLabel, shadow_label AS shadowLabel FROM predictions WHERE pair_seq = ?',
      ),
      scanLabelled: db.prepare<[], LabelledPrediction>(
        `SELECT p.route, p.prod_label AS productionLabel, p.shadow_label AS shadowLabel, f.label
         FROM predictions p JOIN pairs q ON q.seq = p.pair_seq JOIN feedback f ON f.id = q.id
         WHERE p.prod_label IS NOT NULL AND p.shadow_label IS NOT NULL ORDER BY p.pair_seq`,
      ),
      count: db.prepare<[], number>('SELECT count(*) FROM feedback').pluck(),
    };
  }

  /** False when the id already has a label (the first one stays). */
  insert(id: string, labelJson: string, arrivalMs: number): boolean {
    return this.stmt.insert.run(id, labelJson, arrivalMs).changes === 1;
  }

  labelOf(id: string): string | undefined {
    return this.stmt.labelOf.get(id);
  }

  /** The labels the two sides predicted for a stored pair, if its route reads them. */
  predictionOfPair(pairSeq: number): { route: string; productionLabel: string | null; shadowLabel: string | null } | undefined {
    return this.stmt.predictionOfPair.get(pairSeq);
  }

  scanLabelled(): IterableIterator<LabelledPrediction> {
    return this.stmt.scanLabelled.iterate();
  }

  get size(): number {
    return this.stmt.count.get() ?? 0;
  }
}
