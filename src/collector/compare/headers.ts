// Response headers a route asks to compare (compare_headers); a difference makes
// the pair a mismatch and is reported as path "header:<name>".
import type { Diff, ShadowRecord } from '../types.js';

export function diffHeaders(production: ShadowRecord, shadow: ShadowRecord, names: readonly string[], out: Diff[]): boolean {
  let equal = true;
  for (const name of names) {
    const p = production.response_headers?.[name];
    const s = shadow.response_headers?.[name];
    if (p === s) continue;
    equal = false;
    const path = `header:${name}`;
    if (p === undefined) out.push({ path, kind: 'added', shadow: s });
    else if (s === undefined) out.push({ path, kind: 'removed', production: p });
    else out.push({ path, kind: 'changed', production: p, shadow: s });
  }
  return equal;
}
