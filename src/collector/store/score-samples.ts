// Reads a route's stored score pairs and hands them to the shift computation.
// Self-contained (no imports, no outer names): the reader thread runs it from its
// source text, with the computation passed in.
import type Database from 'better-sqlite3';
import type { DistributionShift } from '../stats/score-distributions.js';

export function makeShiftReader(
  db: Database.Database,
  shift: (production: Float64Array, shadow: Float64Array) => DistributionShift,
): (route: string) => DistributionShift {
  const count = db.prepare<[string], number>('SELECT count(*) FROM predictions WHERE route = ? AND prod_score IS NOT NULL').pluck();
  const rows = db
    .prepare<[string], [number, number]>('SELECT prod_score, shadow_score FROM predictions WHERE route = ? AND prod_score IS NOT NULL')
    .raw();
  return (route) => {
    const n = count.get(route) ?? 0;
    const production = new Float64Array(n);
    const shadow = new Float64Array(n);
    let i = 0;
    for (const [p, s] of rows.iterate(route)) {
      if (i >= n) break;
      production[i] = p;
      shadow[i] = s;
      i++;
    }
    return shift(production.subarray(0, i), shadow.subarray(0, i));
  };
}
