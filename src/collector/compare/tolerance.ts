import type { NumericTolerance } from '../config.js';

/**
 * |a−b| ≤ abs or |a−b| ≤ rel·max(|a|,|b|); symmetric in a and b by construction.
 * A non-zero bound gets a few units of rounding slack, because the subtraction
 * itself rounds: with abs 0.005, 0.856 − 0.851 is 0.0050000000000000044, and a
 * user who wrote 0.005 means it to pass. A zero bound stays exact.
 */
export function numbersEqual(a: number, b: number, tol: NumericTolerance): boolean {
  if (a === b) return true;
  const d = Math.abs(a - b);
  const scale = Math.max(Math.abs(a), Math.abs(b));
  const slack = 4 * Number.EPSILON * scale;
  return (tol.abs > 0 && d <= tol.abs + slack) || (tol.rel > 0 && d <= tol.rel * scale + slack);
}
