// Durations on the command line: `500ms`, `90s`, `10m`, `1h` (decimals allowed).
import { InvalidArgumentError } from 'commander';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(value: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError('must be a duration like 90s, 10m or 1h');
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
}
