// Per-route noise learning (contract §4.1). A triple is an id with production,
// shadow and baseline sides; path P is noise once enough triples arrived, the two
// production copies differ at P often enough (baseline rate), and the shadow does
// not differ there clearly more often than they do.
import type { NoiseRule } from '../config.js';

export interface NoisePath {
  path: string;
  baseline_diffs: number;
  shadow_diffs: number;
  triples: number;
}

export class RouteNoise {
  triples = 0;
  readonly baselineDiffs = new Map<string, number>();
  readonly shadowDiffs = new Map<string, number>();
  /** Pairs that differ only by `changed` body diffs, by their sorted normalised paths. */
  private readonly excusable = new Map<string, { paths: string[]; count: number }>();

  addTriple(baselinePaths: Iterable<string>, shadowPaths: Iterable<string>): void {
    this.triples++;
    for (const p of new Set(baselinePaths)) this.baselineDiffs.set(p, (this.baselineDiffs.get(p) ?? 0) + 1);
    for (const p of new Set(shadowPaths)) this.shadowDiffs.set(p, (this.shadowDiffs.get(p) ?? 0) + 1);
  }

  addExcusable(paths: readonly string[]): void {
    const key = paths.join('\u0000');
    const e = this.excusable.get(key);
    if (e) e.count++;
    else this.excusable.set(key, { paths: [...paths], count: 1 });
  }

  /** The noise paths as they stand now, most baseline diffs first. */
  noise(rule: NoiseRule): NoisePath[] {
    if (this.triples < rule.min_triples || this.triples === 0) return [];
    const out: NoisePath[] = [];
    for (const [path, b] of this.baselineDiffs) {
      const baselineRate = b / this.triples;
      if (baselineRate < rule.min_rate) continue;
      const s = this.shadowDiffs.get(path) ?? 0;
      if (s / this.triples > baselineRate * (1 + rule.relative) + rule.absolute) continue;
      out.push({ path, baseline_diffs: b, shadow_diffs: s, triples: this.triples });
    }
    return out.sort((x, y) => y.baseline_diffs - x.baseline_diffs || (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  }

  /** Pairs that do not match but whose every diff is a `changed` one at a noise path. */
  excusedPairs(noise: ReadonlySet<string>): number {
    if (noise.size === 0) return 0;
    let n = 0;
    for (const e of this.excusable.values()) if (e.paths.every((p) => noise.has(p))) n += e.count;
    return n;
  }
}

export class NoiseBook {
  readonly routes = new Map<string, RouteNoise>();

  route(name: string): RouteNoise {
    let r = this.routes.get(name);
    if (!r) {
      r = new RouteNoise();
      this.routes.set(name, r);
    }
    return r;
  }

  clear(): void {
    this.routes.clear();
  }
}
