// Finds triples as their third side arrives (a baseline after its pair, or a pair
// after its baseline), compares production with baseline under the route's rules,
// and records which normalised paths differ (kind `changed` only: the only kind
// that can be noise). Also notes each pair that differs only by `changed` body
// diffs, so the adjusted match rate follows the noise paths as they are learned.
import type { CollectorConfig } from '../config.js';
import { tryParseJson, decodeBody } from '../compare/body.js';
import { comparePair } from '../compare/compare-pair.js';
import { MAX_DIFFS } from '../compare/json-diff.js';
import type { Joiner, JoinListener, PairEvent } from '../join/joiner.js';
import type { Repository } from '../store/repository.js';
import type { Diff, ShadowRecord } from '../types.js';
import { NoiseBook } from './noise-book.js';
import { normalisePath } from './normalise-path.js';

const parsed = (r: ShadowRecord): unknown => tryParseJson(decodeBody(r).text)?.value;

function changedPaths(diffs: readonly Diff[], docs: unknown[]): string[] {
  const out = new Set<string>();
  for (const d of diffs) if (d.kind === 'changed' && !d.path.startsWith('header:')) out.add(normalisePath(d.path, ...docs));
  return [...out].sort();
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
    const c = e.comparison;
    const route = e.route;
    let prodDoc: unknown;
    // Could a noise path excuse this pair? Only if all its diffs are `changed` body
    // diffs (and none were cut off by the diff limit).
    if (!c.match && c.statusMatch && c.headersMatch && c.diffs.length > 0 && c.diffs.length < MAX_DIFFS && c.diffs.every((d) => d.kind === 'changed')) {
      prodDoc = parsed(e.production);
      const paths = changedPaths(c.diffs, [prodDoc, parsed(e.shadow)]);
      this.repo.noise.insertExcusable(e.pairSeq, route, paths);
      this.book.route(route).addExcusable(paths);
    }
    const baseline = this.baselineSeen ? this.repo.findSide(e.id, 'baseline') : undefined;
    if (baseline) this.triple(e.id, e.production, e.shadow, JSON.parse(baseline.record) as ShadowRecord, c.diffs);
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
    const vsBaseline = comparePair(production, baseline, this.config.rulesFor(route));
    const docs = [parsed(production), parsed(shadow), parsed(baseline)];
    const b = changedPaths(vsBaseline.diffs, docs);
    const s = changedPaths(shadowDiffs, docs);
    if (this.repo.noise.insertTriple(id, route, b, s)) this.book.route(route).addTriple(b, s);
  }

  rebuilt(): void {
    this.book.clear();
    this.baselineSeen = [...this.joiner.stats.routes.values()].some((r) => r.baseline > 0);
    for (const t of this.repo.noise.scanTriples()) this.book.route(t.route).addTriple(t.baselinePaths, t.shadowPaths);
    for (const e of this.repo.noise.scanExcusable()) this.book.route(e.route).addExcusable(e.paths);
  }
}
