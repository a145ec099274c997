// Noise learning on PostgreSQL. A triple is found in the transaction that stores its
// last side (a baseline after its pair, or a pair after its baseline): it holds the
// id's advisory lock, so the sides stored before are visible to it, and it writes
// one `noise_triples` row. Pairs a noise path could excuse are written as they are
// made. Every replica folds both from the change feed into the same noise book, so
// noise paths and the adjusted match rate agree everywhere.
import type { CollectorConfig } from '../../config.js';
import { NoiseBook } from '../../noise/noise-book.js';
import { excusablePaths, triplePaths } from '../../noise/noise-learner.js';
import type { Diff, ShadowRecord } from '../../types.js';
import type { FeedConsumer, FeedTable, FeedTransaction } from './feed.js';
import type { PgClient } from './pool.js';
import type { BatchWriter, StoredBatch } from './record-ingest.js';

interface TripleRow {
  route: string;
  baseline_paths: string;
  shadow_paths: string;
}

interface ExcusableRow {
  route: string;
  paths: string;
}

interface Triple {
  id: string;
  route: string;
  baseline: string[];
  shadow: string[];
}

const NOISE_TABLES: readonly FeedTable[] = [
  { name: 'noise_triples', columns: 'route, baseline_paths, shadow_paths' },
  { name: 'noise_excusable', columns: 'route, paths' },
];

export class PgNoiseLearner implements FeedConsumer {
  readonly book = new NoiseBook();
  readonly tables = NOISE_TABLES;

  constructor(private readonly config: CollectorConfig) {}

  readonly writer: BatchWriter = async (c: PgClient, batch: StoredBatch) => {
    if (batch.pairs.length === 0 && batch.baselines.length === 0) return;
    const excusable: { id: string; route: string; paths: string[] }[] = [];
    for (const e of batch.pairs) {
      // Worked out on the prepare thread when it compared the pair (as on SQLite).
      const paths = e.excusable !== undefined ? e.excusable : excusablePaths(e);
      if (paths) excusable.push({ id: e.id, route: e.route, paths });
    }
    if (excusable.length > 0) {
      await c.query({
        name: 'noise:excusable',
        text: `INSERT INTO noise_excusable (id, route, paths) SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT (id) DO NOTHING`,
        values: [excusable.map((x) => x.id), excusable.map((x) => x.route), excusable.map((x) => JSON.stringify(x.paths))],
      });
    }
    const triples = [...this.pairsMeetingBaselines(batch), ...(await this.baselinesMeetingPairs(c, batch))];
    if (triples.length === 0) return;
    await c.query({
      name: 'noise:triples',
      text: `INSERT INTO noise_triples (id, route, baseline_paths, shadow_paths) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
             ON CONFLICT (id) DO NOTHING`,
      values: [triples.map((t) => t.id), triples.map((t) => t.route), triples.map((t) => JSON.stringify(t.baseline)), triples.map((t) => JSON.stringify(t.shadow))],
    });
  };

  /** New pairs whose baseline is stored (before, or in this batch). */
  private pairsMeetingBaselines(batch: StoredBatch): Triple[] {
    if (batch.pairs.length === 0 || (batch.baselinesBefore.size === 0 && batch.baselines.length === 0)) return [];
    // The batch's statement that stored the sides read the baselines stored before.
    const fresh = new Map(batch.baselines.map((b) => [b.id, b]));
    const out: Triple[] = [];
    for (const e of batch.pairs) {
      const before = batch.baselinesBefore.get(e.id);
      const b = before === undefined ? fresh.get(e.id) : (JSON.parse(before) as ShadowRecord);
      const t = b === undefined ? null : this.triple(e.id, e.production, e.shadow, b, e.comparison.diffs);
      if (t) out.push(t);
    }
    return out;
  }

  /** New baselines whose pair was stored before this batch (a pair of this batch met it above). */
  private async baselinesMeetingPairs(c: PgClient, batch: StoredBatch): Promise<Triple[]> {
    const pairedNow = new Set(batch.pairs.map((e) => e.id));
    const waiting = batch.baselines.filter((b) => !pairedNow.has(b.id));
    if (waiting.length === 0) return [];
    const found = await c.query<{ id: string; diffs: string; production: string; shadow: string }>({
      name: 'noise:pairs-of-baselines',
      text: `SELECT q.id, q.diffs, p.record AS production, s.record AS shadow
             FROM pairs q JOIN records p ON p.seq = q.prod_seq JOIN records s ON s.seq = q.shadow_seq
             WHERE q.id = ANY($1::text[])`,
      values: [waiting.map((b) => b.id)],
    });
    if (found.rows.length === 0) return [];
    const byId = new Map(waiting.map((b) => [b.id, b]));
    const out: Triple[] = [];
    for (const r of found.rows) {
      const t = this.triple(r.id, JSON.parse(r.production) as ShadowRecord, JSON.parse(r.shadow) as ShadowRecord, byId.get(r.id)!, JSON.parse(r.diffs) as Diff[]);
      if (t) out.push(t);
    }
    return out;
  }

  /** Null when the comparison fails: noise is learned from the other triples, the batch is kept. */
  private triple(id: string, production: ShadowRecord, shadow: ShadowRecord, baseline: ShadowRecord, shadowDiffs: readonly Diff[]): Triple | null {
    try {
      const t = triplePaths(this.config, production, shadow, baseline, shadowDiffs);
      return { id, route: production.route, baseline: t.baseline, shadow: t.shadow };
    } catch {
      return null;
    }
  }

  apply(tx: FeedTransaction): void {
    for (const t of tx.rows<TripleRow>('noise_triples')) {
      this.book.route(t.route).addTriple(JSON.parse(t.baseline_paths) as string[], JSON.parse(t.shadow_paths) as string[]);
    }
    for (const e of tx.rows<ExcusableRow>('noise_excusable')) this.book.route(e.route).addExcusable(JSON.parse(e.paths) as string[]);
  }

  reset(): void {
    this.book.clear();
  }
}
