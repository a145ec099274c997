// Builds S (contract §3 and §3.1) from the running aggregates: the joiner's counts,
// the learned noise (adjusted match rate, `noise`, `fields` without noise paths)
// and the ground-truth feedback. /v1/stats, the verdict and /metrics all read
// their numbers here, so they never disagree.
import type { CollectorConfig } from '../config.js';
import { FeedbackCounts } from '../feedback/feedback-book.js';
import type { FeedbackBook } from '../feedback/feedback-book.js';
import type { JoinView } from '../join/join-view.js';
import type { NoiseBook, NoisePath } from '../noise/noise-book.js';
import { pathMatches } from '../noise/normalise-path.js';
import type { ScoreShiftReader } from '../store/read-store.js';
import { resolveCriteria } from '../verdict/criteria.js';
import { PredictionStats } from './prediction-stats.js';
import { RouteStats, type RouteStatsSnapshot } from './route-stats.js';

export interface FullStats extends RouteStatsSnapshot {
  /** pairs / (pairs + unmatched_production + unmatched_shadow); null when all are 0. */
  join_rate: number | null;
  /** Pairs that match once differences at noise paths are excused. */
  adjusted_match: number;
  adjusted_match_rate: number | null;
  /** The route's noise paths (in `total`: every route's, each with its `route`). */
  noise: (NoisePath & { route?: string })[];
}

export interface FullStatsAnswer {
  routes: Record<string, FullStats>;
  total: FullStats;
}

interface Built {
  stats: RouteStats;
  s: FullStats;
  hidden: (path: string) => boolean;
}

export class StatsBuilder {
  constructor(
    private readonly joiner: JoinView,
    private readonly repo: ScoreShiftReader,
    private readonly config: CollectorConfig,
    // Only their books are read: the SQLite learners and the PostgreSQL followers both have one.
    private readonly noise: { readonly book: NoiseBook },
    private readonly feedback: { readonly book: FeedbackBook },
  ) {}

  /** Route names with any side received, sorted. */
  routeNames(): string[] {
    return [...this.joiner.stats.routes.keys()].sort();
  }

  private build(name: string): Built {
    const stats = this.joiner.stats.routes.get(name) ?? new RouteStats();
    const learned = this.noise.book.routes.get(name);
    const noise = learned ? learned.noise(this.config.noiseFor(name)) : [];
    const paths = noise.map((n) => n.path);
    const hidden = (p: string): boolean => paths.some((n) => pathMatches(n, p));
    const snap = stats.snapshot(paths.length > 0 ? hidden : undefined);
    const adjusted = stats.match + (learned ? learned.excusedPairs(new Set(paths)) : 0);
    return { stats, s: extend(snap, adjusted, noise), hidden };
  }

  /** S of one route (sync; without `prediction`). */
  route(name: string): FullStats {
    return this.build(name).s;
  }

  /** S of all routes together (sync; without `prediction`). */
  total(): FullStats {
    return this.answerSync().total;
  }

  /** Like GET /v1/stats without `prediction` (which needs the reader thread). */
  answerSync(only?: string): FullStatsAnswer {
    if (only !== undefined) {
      const s = this.route(only);
      return { routes: { [only]: s }, total: s };
    }
    const total = new RouteStats();
    const routes: Record<string, FullStats> = {};
    let adjusted = 0;
    const noise: FullStats['noise'] = [];
    for (const name of this.routeNames()) {
      const b = this.build(name);
      routes[name] = b.s;
      total.absorb(b.stats);
      adjusted += b.s.adjusted_match;
      for (const n of b.s.noise) noise.push({ ...n, route: name });
      // A route's noise paths are not listed in `total.fields` either.
      if (b.s.noise.length > 0) {
        for (const [path, n] of b.stats.fields) {
          if (!b.hidden(path)) continue;
          const left = (total.fields.get(path) ?? 0) - n;
          if (left > 0) total.fields.set(path, left);
          else total.fields.delete(path);
        }
      }
    }
    noise.sort((x, y) => y.baseline_diffs - x.baseline_diffs);
    return { routes, total: extend(total.snapshot(), adjusted, noise) };
  }

  /** GET /v1/stats: S per route and in total, with `prediction` for routes that have the rule. */
  async answer(only?: string): Promise<FullStatsAnswer> {
    this.joiner.tick();
    const answer = this.answerSync(only);
    const confidence = resolveCriteria(this.config.verdict).confidence;
    for (const [name, s] of Object.entries(answer.routes)) {
      if (!this.config.rulesFor(name).prediction) continue;
      const stats = this.joiner.stats.routes.get(name);
      const prediction = stats?.hasPrediction ? stats.predictionStats() : new PredictionStats();
      // The distribution shift is computed from the stored scores on the reader thread.
      const shift = prediction.pairs > 0 ? await this.repo.scoreShift(name) : { psi: null, ks: null };
      s.prediction = prediction.snapshot(shift, this.feedbackCounts(name).snapshot(confidence));
    }
    return answer;
  }

  /** Ground-truth counts of a route, or of all routes pooled. */
  feedbackCounts(route?: string): FeedbackCounts {
    if (route !== undefined) return this.feedback.book.routes.get(route) ?? new FeedbackCounts();
    const all = new FeedbackCounts();
    for (const c of this.feedback.book.routes.values()) all.absorb(c);
    return all;
  }
}

function extend(s: RouteStatsSnapshot, adjusted: number, noise: FullStats['noise']): FullStats {
  const seen = s.pairs + s.unmatched_production + s.unmatched_shadow;
  return {
    ...s,
    join_rate: seen === 0 ? null : s.pairs / seen,
    adjusted_match: adjusted,
    adjusted_match_rate: s.pairs === 0 ? null : adjusted / s.pairs,
    noise,
  };
}
