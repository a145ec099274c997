// One page of GET /v1/pairs as JSON text, built from stored texts without parsing
// them. It runs on a reader thread (see pair-page-reader.ts) so that large pages do
// not hold up ingestion, or in-thread for an in-memory database.
//
// makePairPager must stay self-contained (no imports, no outer names): the reader
// thread is started from its source text, which works the same under tsx and in
// the compiled build.
import type Database from 'better-sqlite3';
import type { PairRow } from './repository.js';

export interface PairPageQuery {
  route?: string;
  match?: boolean;
  beforeSeq?: number;
  limit: number;
}

export interface PairPage {
  /** The items as a JSON array text. */
  items: string;
  /** seq of the last item when another page exists. */
  nextSeq: number | null;
}

/** The pairs columns a page reads (the row shape is the repository's). */
type PairPageRow = Omit<PairRow, 'created_ms'>;

export function makePairPager(db: Database.Database): (q: PairPageQuery) => PairPage {
  const recordBySeq = db.prepare<[number], string>('SELECT record FROM records WHERE seq = ?').pluck();
  const lists = new Map<string, Database.Statement<(string | number)[], PairPageRow>>();
  const bool = (v: number): string => (v === 1 ? 'true' : 'false');
  return (q) => {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.route !== undefined) {
      where.push('route = ?');
      args.push(q.route);
    }
    if (q.match !== undefined) {
      where.push('match = ?');
      args.push(q.match ? 1 : 0);
    }
    if (q.beforeSeq !== undefined) {
      where.push('seq < ?');
      args.push(q.beforeSeq);
    }
    const sql = `SELECT * FROM pairs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq DESC LIMIT ?`;
    // One more than asked tells whether another page exists.
    args.push(q.limit + 1);
    let stmt = lists.get(sql);
    if (!stmt) {
      stmt = db.prepare<(string | number)[], PairPageRow>(sql);
      lists.set(sql, stmt);
    }
    const rows = stmt.all(...args);
    const page = rows.slice(0, q.limit);
    const items = page.map(
      (p) =>
        `{"id":${JSON.stringify(p.id)},"route":${JSON.stringify(p.route)}` +
        `,"production":${recordBySeq.get(p.prod_seq) ?? 'null'},"shadow":${recordBySeq.get(p.shadow_seq) ?? 'null'}` +
        `,"status_match":${bool(p.status_match)},"body_match":${bool(p.body_match)},"match":${bool(p.match)}` +
        `,"truncated":${bool(p.truncated)},"late":${bool(p.late)},"diffs":${p.diffs}` +
        `,"compare_note":${JSON.stringify(p.compare_note ?? null)}}`,
    );
    return { items: `[${items.join(',')}]`, nextSeq: rows.length > q.limit ? page[page.length - 1]!.seq : null };
  };
}
