// Finds triples as their third side arrives (a baseline after its pair, or a pair
// after its baseline), compares production with baseline under the route's rules,
// and records which normalised paths differ (kind `changed` only: the only kind
// that can be noise). Also notes each pair that differs only by `changed` body
// diffs, so the adjusted match rate follows the noise paths as they are learned.
import type { CollectorConfig } from '../config.js';
import { comparePair } from '../compare/compare-pair.js';
import type { Joiner, JoinListener, PairEvent } from '../join/joiner.js';
import type { Repository } from '../store/repository.js';
import type { Diff, ShadowRecord } from '../types.js';
import { NoiseBook } from './noise-book.js';
import { changedPaths, excusablePaths, parsedBody as parsed } from './excusable-paths.js';

export { excusablePaths } from './excusable-paths.js';

/** Where baseline and shadow differ from production in one triple (normalised, `changed` only). */
export function triplePaths(
  config: CollectorConfig,
  production: ShadowRecord,
  shadow: ShadowRecord,
  baseline: ShadowRecord,
  shadowDiffs: readonly Diff[],
): { baseline: string[]; shadow: string[] } {
  const vsBaseline = comparePair(production, baseline, config.rulesFor(production.route));
  const docs = [parsed(production), parsed(shadow), parsed(baseline)];
  return { baseline: changedPaths(vsBaseline.diffs, docs), shadow: changedPaths(shadowDiffs, docs) };
}

export class NoiseLearner implements JoinListener {
  readonly book = new NoiseBook();
  /** Until a baseline side exists, pairs skip the lookup of one (most deployments have none). */
  private baselineSeen = false;

  constructor(
    private readonly repo: Repository,
    private readonly config: CollectorConfig,
    private readonly joiner: Joiner,
  ) {
    this.rebuilt();
    joiner.listeners.push(this);
  }

  pair(e: PairEvent): void {
    // Worked out on the prepare thread when it compared this pair (same function).
    const paths = e.excusable !== undefined ? e.excusable : excusablePaths(e);
    if (paths) {
      // The pair's route (production's), as the join counts it.
      this.repo.noise.insertExcusable(e.pairSeq, e.route, paths);
      this.book.route(e.route).addExcusable(paths);
    }
    const baseline = this.baselineSeen ? this.repo.findSide(e.id, 'baseline') : undefined;
    if (baseline) this.triple(e.id, e.production, e.shadow, JSON.parse(baseline.record) as ShadowRecord, e.comparison.diffs);
  }

  baseline(b: ShadowRecord): void {
    this.baselineSeen = true;
    const p = this.repo.findSide(b.id, 'production');
    const s = p && this.repo.findSide(b.id, 'shadow');
    if (!p || !s) return;
    const pair = this.repo.pairById(b.id);
    if (!pair) return;
    this.triple(b.id, JSON.parse(p.record) as ShadowRecord, JSON.parse(s.record) as ShadowRecord, b, JSON.parse(pair.diffs) as Diff[]);
  }

  private triple(id: string, production: ShadowRecord, shadow: ShadowRecord, baseline: ShadowRecord, shadowDiffs: readonly Diff[]): void {
    const route = production.route;
    const t = triplePaths(this.config, production, shadow, baseline, shadowDiffs);
    if (this.repo.noise.insertTriple(id, route, t.baseline, t.shadow)) this.book.route(route).addTriple(t.baseline, t.shadow);
  }

  rebuilt(): void {
    this.book.clear();
    this.baselineSeen = [...this.joiner.stats.routes.values()].some((r) => r.baseline > 0);
    for (const t of this.repo.noise.scanTriples()) this.book.route(t.route).addTriple(t.baselinePaths, t.shadowPaths);
    for (const e of this.repo.noise.scanExcusable()) this.book.route(e.route).addExcusable(e.paths);
  }
}
