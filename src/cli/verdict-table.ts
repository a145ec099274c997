// The verdict as a table a person reads.
import type { Verdict } from '../collector/verdict/decide.js';
import { fmt } from '../collector/verdict/decide.js';

const okText = (ok: boolean | null): string => (ok === true ? 'yes' : ok === false ? 'NO' : 'not yet');

export function verdictTable(v: Verdict): string {
  const scope = v.route === null ? 'all routes' : `route ${v.route}`;
  const rows = [['criterion', 'observed', 'threshold', 'ok', 'n', 'interval']];
  for (const r of v.reasons) {
    rows.push([
      r.criterion,
      fmt(r.observed),
      String(r.threshold),
      okText(r.ok),
      String(r.n),
      r.lower !== undefined && r.upper !== undefined ? `[${fmt(r.lower)}, ${fmt(r.upper)}]` : '',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
  return [`${scope}: ${v.decision.toUpperCase()} — ${v.summary}`, '', ...lines, '', `evaluated at ${v.evaluated_at}`, ''].join('\n');
}
