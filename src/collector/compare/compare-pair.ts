// Compares the production and shadow sides of one id (contract §4): status, then
// bodies (JSON structurally under the route's rules, anything else byte for
// byte), then the headers the route names.
import type { RouteRules } from '../config.js';
import type { Comparison, Diff, ShadowRecord } from '../types.js';
import { bodyBytes } from './body.js';
import { bodyView } from './body-view.js';
import { diffHeaders } from './headers.js';
import { ignoreMatcher } from './ignore.js';
import { diffJson } from './json-diff.js';

/** How much of a non-JSON body a `body` diff shows; the full body stays in the record. */
const BODY_DIFF_PREVIEW = 256;

/**
 * True when the bodies are equal under the route's rules; diffs go to `diffs`.
 * `onFallback` hears why JSON bodies were compared byte for byte (too deep or too large).
 */
export function compareBodies(
  production: ShadowRecord,
  shadow: ShadowRecord,
  rules: RouteRules,
  diffs: Diff[],
  onFallback?: (note: string) => void,
): boolean {
  const encP = production.body_encoding ?? 'utf8';
  const encS = shadow.body_encoding ?? 'utf8';
  const rawP = production.response_body ?? '';
  const rawS = shadow.response_body ?? '';
  // Same bytes are equal under any rules: skip parsing for the common case.
  if (encP === encS && rawP === rawS) return true;

  const vp = bodyView(production);
  const vs = bodyView(shadow);
  const bp = vp.decoded;
  const bs = vs.decoded;
  const note = vp.limitNote ?? vs.limitNote;
  if (note === null) {
    const jp = vp.json;
    const js = jp === undefined ? undefined : vs.json;
    if (jp !== undefined && js !== undefined) {
      return diffJson(jp.value, js.value, { ignore: ignoreMatcher(rules.ignore), tolerance: rules.numeric_tolerance }, diffs);
    }
  } else {
    onFallback?.(note);
  }
  if (bodyBytes(bp).equals(bodyBytes(bs))) return true;
  diffs.push({
    path: '',
    kind: 'body',
    production: bp.raw.slice(0, BODY_DIFF_PREVIEW),
    shadow: bs.raw.slice(0, BODY_DIFF_PREVIEW),
  });
  return false;
}

export function comparePair(production: ShadowRecord, shadow: ShadowRecord, rules: RouteRules): Comparison {
  const diffs: Diff[] = [];
  let compareNote: string | null = null;
  const statusMatch = production.status === shadow.status;
  const bodyMatch = compareBodies(production, shadow, rules, diffs, (note) => (compareNote = note));
  const headersMatch = rules.compare_headers.length === 0 || diffHeaders(production, shadow, rules.compare_headers, diffs);
  return {
    statusMatch,
    bodyMatch,
    headersMatch,
    match: statusMatch && bodyMatch && headersMatch,
    truncated: production.response_body_truncated === true || shadow.response_body_truncated === true,
    diffs,
    compareNote,
  };
}
