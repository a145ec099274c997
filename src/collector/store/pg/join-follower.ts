// The join aggregates of one replica, built from the change feed: every side,
// pair and prediction any replica committed is counted here exactly once, in the
// feed's order, so every replica holds the same numbers (the same StatsBook the
// SQLite Joiner fills, read by the same StatsBuilder and /metrics code).
//
// Whether a side is lone is known from the feed alone: a pair is written in the
// transaction of its second side and names the side that waited for it (from an
// earlier transaction), so a side is lone unless a pair in its own transaction
// took it, and a lone side stops being lone at its pair's transaction. Whether a
// pair was late was decided by the replica that made it and is stored on the pair.
import type { SideObserver } from '../../join/joiner.js';
import type { JoinView } from '../../join/join-view.js';
import { RouteCap } from '../../ingest/route-cap.js';
import { fieldPaths } from '../../stats/route-stats.js';
import { StatsBook } from '../../stats/stats-book.js';
import type { Diff, Role } from '../../types.js';
import { ArrivalWindow } from './arrival-window.js';
import type { FeedConsumer, FeedTable, FeedTransaction } from './feed.js';

export interface FeedSideRow {
  seq: number;
  id: string;
  role: Role;
  route: string;
  status: number;
  latency_ms: number;
  arrival_ms: number;
}

export interface FeedPairRow {
  seq: number;
  id: string;
  route: string;
  status_match: number;
  body_match: number;
  match: number;
  late: number;
  diffs: string;
  waited_role: Role | null;
  waited_route: string | null;
  waited_arrival_ms: number | null;
}

export interface FeedPredictionRow {
  pair_seq: number;
  route: string;
  productionLabel: string | null;
  shadowLabel: string | null;
  productionScore: number | null;
  shadowScore: number | null;
}

export const CORE_FEED_TABLES: readonly FeedTable[] = [
  { name: 'records', columns: 'seq, id, role, route, status, latency_ms, arrival_ms' },
  {
    name: 'pairs',
    columns: 'seq, id, route, status_match, body_match, match, late, diffs, waited_role, waited_route, waited_arrival_ms',
  },
  {
    name: 'predictions',
    columns:
      'pair_seq, route, prod_label AS "productionLabel", shadow_label AS "shadowLabel", prod_score AS "productionScore", shadow_score AS "shadowScore"',
    orderBy: 'pair_seq',
  },
];

export interface JoinFollowerOptions {
  joinWindowMs: number;
  maxRoutes?: number;
  sides?: SideObserver;
  clock?: () => number;
}

export class JoinFollower implements JoinView, FeedConsumer {
  readonly tables = CORE_FEED_TABLES;
  readonly stats = new StatsBook();
  readonly routeCap: RouteCap;
  private readonly window: ArrivalWindow;
  private readonly clock: () => number;
  private lastNow = 0;
  private lone = 0;

  constructor(private readonly opts: JoinFollowerOptions) {
    this.window = new ArrivalWindow(opts.joinWindowMs);
    this.clock = opts.clock ?? Date.now;
    this.routeCap = new RouteCap(opts.maxRoutes ?? Infinity, this.stats.routes);
  }

  now(): number {
    const t = this.clock();
    if (t > this.lastNow) this.lastNow = t;
    return this.lastNow;
  }

  tick(): void {
    this.window.expire(this.now());
  }

  apply(tx: FeedTransaction): void {
    const now = this.now();
    const pairs = tx.rows<FeedPairRow>('pairs');
    const pairedHere = pairs.length > 0 ? new Map(pairs.map((p) => [p.id, p])) : null;
    for (const r of tx.rows<FeedSideRow>('records')) {
      const s = this.stats.route(r.route);
      s.countSide(r.role, r.status, r.latency_ms);
      this.opts.sides?.side(r.route, r.role, r.latency_ms);
      if (r.role === 'baseline') continue;
      const p = pairedHere?.get(r.id);
      // Paired in its own transaction: it is the second side, or both came together.
      if (p && p.waited_role !== r.role) continue;
      s.addLone(r.role, 1);
      this.lone++;
      this.window.add(r.arrival_ms, r.route, s, r.role, now);
    }
    for (const p of pairs) {
      if (p.waited_role !== null) {
        const w = this.stats.route(p.waited_route!);
        w.addLone(p.waited_role, -1);
        this.lone--;
        this.window.remove(p.waited_arrival_ms!, p.waited_route!, p.waited_role);
      }
      const c = { statusMatch: p.status_match === 1, bodyMatch: p.body_match === 1, match: p.match === 1 };
      const paths = p.diffs === '[]' ? [] : fieldPaths(JSON.parse(p.diffs) as Diff[]);
      this.stats.route(p.route).countPair(c, p.late === 1, paths);
    }
    for (const p of tx.rows<FeedPredictionRow>('predictions')) this.stats.route(p.route).predictionStats().add(p);
  }

  reset(): void {
    this.stats.clear();
    this.opts.sides?.reset();
    this.window.clear();
    this.lone = 0;
  }

  memoryState(): { cachedPending: number; windowBuckets: number; lone: number } {
    return { cachedPending: 0, windowBuckets: this.window.buckets, lone: this.lone };
  }
}
