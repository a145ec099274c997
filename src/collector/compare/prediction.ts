// Model outputs read from both bodies at the route's `prediction` pointers.
import type { PredictionRule } from '../config.js';
import type { ShadowRecord } from '../types.js';
import { bodyView } from './body-view.js';
import { parsePointer } from './pointer.js';

export interface PredictionSample {
  /** Labels as their JSON text (`1`, `"cat"`); null when the rule has no label. */
  productionLabel: string | null;
  shadowLabel: string | null;
  /** null when the rule has no score. */
  productionScore: number | null;
  shadowScore: number | null;
}

function at(doc: unknown, segments: readonly string[]): unknown {
  let node = doc;
  for (const s of segments) {
    if (Array.isArray(node)) {
      if (!/^(0|[1-9][0-9]*)$/.test(s)) return undefined;
      node = node[Number(s)];
    } else if (node !== null && typeof node === 'object' && Object.prototype.hasOwnProperty.call(node, s)) {
      node = (node as Record<string, unknown>)[s];
    } else {
      return undefined;
    }
  }
  return node;
}

/**
 * The pair's sample, or null when a configured value is missing on either side
 * (or a score is not a number): such pairs are left out of the model metrics.
 */
export function predictionSample(rule: PredictionRule, production: ShadowRecord, shadow: ShadowRecord): PredictionSample | null {
  if (rule.label === undefined && rule.score === undefined) return null;
  const vp = bodyView(production);
  const vs = bodyView(shadow);
  // A label is kept as its JSON text: serialising a subtree nested this deep would overflow the stack.
  if (vp.tooDeep || vs.tooDeep) return null;
  const p = vp.json;
  const s = vs.json;
  if (!p || !s) return null;
  const sample: PredictionSample = { productionLabel: null, shadowLabel: null, productionScore: null, shadowScore: null };
  if (rule.label !== undefined) {
    const path = parsePointer(rule.label);
    const a = at(p.value, path);
    const b = at(s.value, path);
    if (a === undefined || b === undefined) return null;
    sample.productionLabel = JSON.stringify(a);
    sample.shadowLabel = JSON.stringify(b);
  }
  if (rule.score !== undefined) {
    const path = parsePointer(rule.score);
    const a = at(p.value, path);
    const b = at(s.value, path);
    if (typeof a !== 'number' || typeof b !== 'number') return null;
    sample.productionScore = a;
    sample.shadowScore = b;
  }
  return sample;
}
