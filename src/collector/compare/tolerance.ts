import type { NumericTolerance } from '../config.js';

/** |a−b| ≤ abs or |a−b| ≤ rel·max(|a|,|b|); symmetric in a and b by construction. */
export function numbersEqual(a: number, b: number, tol: NumericTolerance): boolean {
  if (a === b) return true;
  const d = Math.abs(a - b);
  return d <= tol.abs || d <= tol.rel * Math.max(Math.abs(a), Math.abs(b));
}
