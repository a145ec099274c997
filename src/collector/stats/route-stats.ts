// Running aggregates of one route (contract §3, S). Everything here can be
// rebuilt from the database, which is how a restart gets the same numbers.
import type { Comparison, Diff, Role } from '../types.js';
import { PredictionStats, type PredictionSnapshot } from './prediction-stats.js';
import { LatencySketch, type Quantiles } from './sketch.js';

export interface RouteStatsSnapshot {
  production: number;
  shadow: number;
  baseline: number;
  pairs: number;
  pending: number;
  unmatched_production: number;
  unmatched_shadow: number;
  late: number;
  status_match: number;
  body_match: number;
  match: number;
  match_rate: number | null;
  production_errors: number;
  shadow_errors: number;
  baseline_errors: number;
  latency_ms: { production: Quantiles; shadow: Quantiles };
  fields: { path: string; diffs: number }[];
  /** Only for routes whose config has `prediction`. */
  prediction?: PredictionSnapshot;
}

/** How many entries `fields` lists. */
export const MAX_FIELDS = 50;

export const isErrorStatus = (status: number): boolean => status === 0 || status >= 500;

/** Diff paths that `fields` counts: body JSON paths only (no headers, no whole-body diffs). */
export function fieldPaths(diffs: readonly Diff[]): Set<string> {
  const paths = new Set<string>();
  for (const d of diffs) if (d.kind !== 'body' && !d.path.startsWith('header:')) paths.add(d.path);
  return paths;
}

export class RouteStats {
  production = 0;
  shadow = 0;
  baseline = 0;
  pairs = 0;
  late = 0;
  statusMatch = 0;
  bodyMatch = 0;
  match = 0;
  productionErrors = 0;
  shadowErrors = 0;
  baselineErrors = 0;
  /** Sides without a partner, inside or past the join window. */
  loneProduction = 0;
  loneShadow = 0;
  /** Of those, the ones still inside their window. */
  pendingProduction = 0;
  pendingShadow = 0;
  readonly latencyProduction = new LatencySketch();
  readonly latencyShadow = new LatencySketch();
  readonly fields = new Map<string, number>();
  private prediction: PredictionStats | null = null;

  predictionStats(): PredictionStats {
    return (this.prediction ??= new PredictionStats());
  }

  get hasPrediction(): boolean {
    return this.prediction !== null;
  }

  countSide(role: Role, status: number, latencyMs: number): void {
    const err = isErrorStatus(status);
    if (role === 'production') {
      this.production++;
      if (err) this.productionErrors++;
      this.latencyProduction.add(latencyMs);
    } else if (role === 'shadow') {
      this.shadow++;
      if (err) this.shadowErrors++;
      this.latencyShadow.add(latencyMs);
    } else {
      this.baseline++;
      if (err) this.baselineErrors++;
    }
  }

  addLone(role: Role, delta: number): void {
    if (role === 'production') this.loneProduction += delta;
    else if (role === 'shadow') this.loneShadow += delta;
  }

  addPending(role: Role, delta: number): void {
    if (role === 'production') this.pendingProduction += delta;
    else if (role === 'shadow') this.pendingShadow += delta;
  }

  countPair(c: Pick<Comparison, 'statusMatch' | 'bodyMatch' | 'match'>, late: boolean, fieldDiffs: Iterable<string>): void {
    this.pairs++;
    if (late) this.late++;
    if (c.statusMatch) this.statusMatch++;
    if (c.bodyMatch) this.bodyMatch++;
    if (c.match) this.match++;
    for (const path of fieldDiffs) this.fields.set(path, (this.fields.get(path) ?? 0) + 1);
  }

  /** Adds another route's numbers into this one (for `total`). */
  absorb(o: RouteStats): void {
    this.production += o.production;
    this.shadow += o.shadow;
    this.baseline += o.baseline;
    this.pairs += o.pairs;
    this.late += o.late;
    this.statusMatch += o.statusMatch;
    this.bodyMatch += o.bodyMatch;
    this.match += o.match;
    this.productionErrors += o.productionErrors;
    this.shadowErrors += o.shadowErrors;
    this.baselineErrors += o.baselineErrors;
    this.loneProduction += o.loneProduction;
    this.loneShadow += o.loneShadow;
    this.pendingProduction += o.pendingProduction;
    this.pendingShadow += o.pendingShadow;
    o.latencyProduction.mergeInto(this.latencyProduction);
    o.latencyShadow.mergeInto(this.latencyShadow);
    for (const [path, n] of o.fields) this.fields.set(path, (this.fields.get(path) ?? 0) + n);
  }

  /** `hideField`: paths left out of `fields` (the route's noise paths). */
  snapshot(hideField?: (path: string) => boolean): RouteStatsSnapshot {
    const fields = [...this.fields]
      .filter(([path]) => !hideField?.(path))
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, MAX_FIELDS)
      .map(([path, diffs]) => ({ path, diffs }));
    return {
      production: this.production,
      shadow: this.shadow,
      baseline: this.baseline,
      pairs: this.pairs,
      pending: this.pendingProduction + this.pendingShadow,
      unmatched_production: this.loneProduction - this.pendingProduction,
      unmatched_shadow: this.loneShadow - this.pendingShadow,
      late: this.late,
      status_match: this.statusMatch,
      body_match: this.bodyMatch,
      match: this.match,
      match_rate: this.pairs === 0 ? null : this.match / this.pairs,
      production_errors: this.productionErrors,
      shadow_errors: this.shadowErrors,
      baseline_errors: this.baselineErrors,
      latency_ms: { production: this.latencyProduction.quantiles(), shadow: this.latencyShadow.quantiles() },
      fields,
    };
  }
}
