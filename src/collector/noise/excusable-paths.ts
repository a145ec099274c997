// Which normalised paths of a pair a noise path could excuse. A pure function of the
// comparison and the two records, so it runs wherever both parsed records are at
// hand: on the prepare thread when that thread compared the pair (the answer crosses
// with the comparison), in the noise learner otherwise.
import { bodyView } from '../compare/body-view.js';
import { MAX_DIFFS } from '../compare/json-diff.js';
import { normalisePath } from './normalise-path.js';
import type { Comparison, Diff, ShadowRecord } from '../types.js';

export const parsedBody = (r: ShadowRecord): unknown => bodyView(r).json?.value;

export function changedPaths(diffs: readonly Diff[], docs: unknown[]): string[] {
  const out = new Set<string>();
  for (const d of diffs) if (d.kind === 'changed' && !d.path.startsWith('header:')) out.add(normalisePath(d.path, ...docs));
  return [...out].sort();
}

/**
 * The normalised paths of a pair that a noise path could excuse: only when all its
 * diffs are `changed` body diffs (and none were cut off by the diff limit); else null.
 */
export function excusablePaths(e: { comparison: Comparison; production: ShadowRecord; shadow: ShadowRecord }): string[] | null {
  const c = e.comparison;
  if (c.match || !c.statusMatch || !c.headersMatch || c.diffs.length === 0 || c.diffs.length >= MAX_DIFFS) return null;
  if (!c.diffs.every((d) => d.kind === 'changed')) return null;
  return changedPaths(c.diffs, [parsedBody(e.production), parsedBody(e.shadow)]);
}
