// GET /v1/pairs pages, GET /v1/pairs/{id} and the score distributions, read from
// PostgreSQL. They show what the change feed has applied (rows below the
// watermark), so a page agrees with the stats of the same replica.
import { pairJsonOf } from '../../api/pair-view.js';
import { scoreShift, type DistributionShift } from '../../stats/score-distributions.js';
import type { Role } from '../../types.js';
import type { PairPage, PairPageQuery } from '../pair-pages.js';
import type { ReadStore } from '../read-store.js';
import type { ChangeFeed } from './feed.js';
import type { PgPool } from './pool.js';
import { query } from './tx.js';

interface PageRow {
  seq: number;
  id: string;
  route: string;
  production: string | null;
  shadow: string | null;
  status_match: number;
  body_match: number;
  match: number;
  truncated: number;
  late: number;
  diffs: string;
  compare_note: string | null;
}

const bool = (v: number): string => (v === 1 ? 'true' : 'false');

export class PgPairReader implements ReadStore {
  constructor(
    private readonly pool: PgPool,
    private readonly feed: ChangeFeed,
  ) {}

  async pairPage(q: PairPageQuery): Promise<PairPage> {
    const where = ['p.xid < $1::xid8'];
    const args: unknown[] = [this.feed.watermark.toString()];
    if (q.route !== undefined) {
      args.push(q.route);
      where.push(`p.route = $${args.length}`);
    }
    if (q.match !== undefined) {
      args.push(q.match ? 1 : 0);
      where.push(`p.match = $${args.length}`);
    }
    if (q.beforeSeq !== undefined) {
      args.push(q.beforeSeq);
      where.push(`p.seq < $${args.length}`);
    }
    // One more than asked tells whether another page exists.
    args.push(q.limit + 1);
    const rows = await query<PageRow>(
      this.pool,
      `SELECT p.seq, p.id, p.route, rp.record AS production, rs.record AS shadow, p.status_match, p.body_match, p.match,
              p.truncated, p.late, p.diffs, p.compare_note
       FROM pairs p LEFT JOIN records rp ON rp.seq = p.prod_seq LEFT JOIN records rs ON rs.seq = p.shadow_seq
       WHERE ${where.join(' AND ')} ORDER BY p.seq DESC LIMIT $${args.length}`,
      args,
    );
    const page = rows.slice(0, q.limit);
    const items = page.map(
      (p) =>
        `{"id":${JSON.stringify(p.id)},"route":${JSON.stringify(p.route)}` +
        `,"production":${p.production ?? 'null'},"shadow":${p.shadow ?? 'null'}` +
        `,"status_match":${bool(p.status_match)},"body_match":${bool(p.body_match)},"match":${bool(p.match)}` +
        `,"truncated":${bool(p.truncated)},"late":${bool(p.late)},"diffs":${p.diffs}` +
        `,"compare_note":${JSON.stringify(p.compare_note ?? null)}}`,
    );
    return { items: `[${items.join(',')}]`, nextSeq: rows.length > q.limit ? page[page.length - 1]!.seq : null };
  }

  async pairJson(id: string): Promise<string | null> {
    const mark = this.feed.watermark.toString();
    const sides = await query<{ role: Role; route: string; record: string }>(
      this.pool,
      'SELECT role, route, record FROM records WHERE id = $1 AND xid < $2::xid8',
      [id, mark],
    );
    if (sides.length === 0) return null;
    const pair = (
      await query<{ route: string; truncated: number; status_match: number; body_match: number; match: number; late: number; diffs: string; compare_note: string | null }>(
        this.pool,
        'SELECT route, truncated, status_match, body_match, match, late, diffs, compare_note FROM pairs WHERE id = $1 AND xid < $2::xid8',
        [id, mark],
      )
    )[0];
    return pairJsonOf(id, sides, pair);
  }

  async scoreShift(route: string): Promise<DistributionShift> {
    const rows = await query<{ p: number; s: number | null }>(
      this.pool,
      `SELECT prod_score AS p, shadow_score AS s FROM predictions
       WHERE route = $1 AND prod_score IS NOT NULL AND xid < $2::xid8 ORDER BY pair_seq`,
      [route, this.feed.watermark.toString()],
    );
    const production = new Float64Array(rows.length);
    const shadow = new Float64Array(rows.length);
    rows.forEach((r, i) => {
      production[i] = r.p;
      shadow[i] = r.s ?? 0;
    });
    return scoreShift(production, shadow);
  }
}
