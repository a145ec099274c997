// Ground-truth feedback on PostgreSQL. A label is committed before POST /v1/feedback
// answers (first label of an id wins, whichever replica gets it). It counts once
// its pair with both predictions exists: the transaction that completes the two,
// the label's or the pair's, writes one `feedback_matches` row while it holds the
// id's advisory lock, so the other one's rows are visible to it. Every replica
// folds those rows, from the change feed, into the same feedback book.
import { canonicalJson } from '../../feedback/canonical-json.js';
import { FeedbackBook } from '../../feedback/feedback-book.js';
import { feedbackError, type FeedbackItem } from '../../feedback/feedback-schema.js';
import type { BodyItem } from '../../ingest/body.js';
import type { IngestError, IngestResult } from '../../types.js';
import type { FeedConsumer, FeedTable, FeedTransaction } from './feed.js';
import { lockIds } from './id-locks.js';
import type { PgClient, PgPool } from './pool.js';
import type { BatchWriter, StoredBatch } from './record-ingest.js';
import { withTransaction } from './tx.js';

interface MatchRow {
  route: string;
  prod_label: string;
  shadow_label: string;
  label: string;
}

const MATCH_TABLES: readonly FeedTable[] = [{ name: 'feedback_matches', columns: 'route, prod_label, shadow_label, label' }];

export class PgFeedbackLedger implements FeedConsumer {
  readonly book = new FeedbackBook();
  readonly tables = MATCH_TABLES;

  private pool: PgPool | null = null;

  constructor(private readonly clock: () => number = Date.now) {}

  /** The store's pool, once it is open (the ledger is made before, as a feed consumer). */
  usePool(pool: PgPool): void {
    this.pool = pool;
  }

  /** Same answer as POST /v1/records: valid items are kept even when others are rejected. */
  async ingest(items: readonly BodyItem[]): Promise<IngestResult> {
    const errors: IngestError[] = [];
    const first = new Map<string, string>();
    let valid = 0;
    for (const item of items) {
      const reason = item.error ?? feedbackError(item.value);
      if (reason !== null) {
        errors.push({ index: item.index, error: reason });
        continue;
      }
      valid++;
      const f = item.value as FeedbackItem;
      // The first copy in the batch wins, as across batches.
      if (!first.has(f.id)) first.set(f.id, canonicalJson(f.label));
    }
    if (first.size > 0) {
      if (!this.pool) throw new Error('feedback ledger used before the store opened');
      await withTransaction(this.pool, (c) => this.store(c, [...first.keys()], [...first.values()]));
    }
    return { accepted: valid, rejected: errors.length, errors };
  }

  private async store(c: PgClient, ids: string[], labels: string[]): Promise<void> {
    await lockIds(c, ids);
    const fresh = await c.query<{ id: string; label: string }>({
      name: 'feedback:labels',
      text: `INSERT INTO feedback_labels (id, label, arrival_ms) SELECT i, l, $3 FROM unnest($1::text[], $2::text[]) AS x(i, l)
             ON CONFLICT (id) DO NOTHING RETURNING id, label`,
      values: [ids, labels, this.clock()],
    });
    if (fresh.rows.length === 0) return;
    // Pairs stored before (visible now that the ids are locked) meet their label here.
    await c.query({
      name: 'feedback:match-labels',
      text: `INSERT INTO feedback_matches (id, route, prod_label, shadow_label, label)
             SELECT q.id, p.route, p.prod_label, p.shadow_label, x.l
             FROM unnest($1::text[], $2::text[]) AS x(i, l) JOIN pairs q ON q.id = x.i JOIN predictions p ON p.pair_seq = q.seq
             WHERE p.prod_label IS NOT NULL AND p.shadow_label IS NOT NULL
             ON CONFLICT (id) DO NOTHING`,
      values: [fresh.rows.map((r) => r.id), fresh.rows.map((r) => r.label)],
    });
  }

  /** In a record batch's transaction: its new pairs meet labels stored before. */
  readonly writer: BatchWriter = async (c: PgClient, batch: StoredBatch) => {
    const labelled = batch.pairs.filter((e) => e.sample && e.sample.productionLabel !== null && e.sample.shadowLabel !== null);
    if (labelled.length === 0) return;
    await c.query({
      name: 'feedback:match-pairs',
      text: `INSERT INTO feedback_matches (id, route, prod_label, shadow_label, label)
             SELECT x.i, x.r, x.pl, x.sl, l.label
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS x(i, r, pl, sl) JOIN feedback_labels l ON l.id = x.i
             ON CONFLICT (id) DO NOTHING`,
      values: [
        labelled.map((e) => e.id),
        labelled.map((e) => e.route),
        labelled.map((e) => e.sample!.productionLabel),
        labelled.map((e) => e.sample!.shadowLabel),
      ],
    });
  };

  apply(tx: FeedTransaction): void {
    for (const r of tx.rows<MatchRow>('feedback_matches')) this.book.route(r.route).add(r.prod_label, r.shadow_label, r.label);
  }

  reset(): void {
    this.book.clear();
  }
}
