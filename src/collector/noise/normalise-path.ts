// Noise is learned per field, not per array element: `/items/3/ts` and
// `/items/0/ts` are the same field `/items/*/ts`. Which segments are array indices
// is read from the documents themselves, so an object key "3" stays "3".
import { escapeSegment, parsePointer } from '../compare/pointer.js';

export function normalisePath(path: string, ...docs: unknown[]): string {
  if (path === '' || path.startsWith('header:')) return path;
  let nodes = docs;
  let out = '';
  for (const seg of parsePointer(path)) {
    const isIndex = nodes.some((n) => Array.isArray(n));
    out += '/' + (isIndex ? '*' : escapeSegment(seg));
    nodes = nodes.map((n) => (n !== null && typeof n === 'object' ? (n as Record<string, unknown>)[seg] : undefined));
  }
  return out;
}

/** True when a raw diff path (`/items/3/ts`) lies at the normalised noise path (`/items/*\/ts`). */
export function pathMatches(noisePath: string, rawPath: string): boolean {
  const a = noisePath.split('/');
  const b = rawPath.split('/');
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    if (a[i] === '*' && /^(0|[1-9][0-9]*)$/.test(b[i]!)) continue;
    return false;
  }
  return true;
}
