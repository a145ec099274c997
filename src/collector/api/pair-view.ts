// Builds pair answers as JSON text, splicing in the stored record and diff texts
// instead of parsing and re-serialising them.
import type { PairRow, Repository } from '../store/repository.js';
import type { Role } from '../types.js';

const bool = (v: number | null | undefined): string => (v === null || v === undefined ? 'null' : v === 1 ? 'true' : 'false');

function truncatedFlag(record: string | undefined): boolean {
  if (record === undefined) return false;
  return (JSON.parse(record) as { response_body_truncated?: unknown }).response_body_truncated === true;
}

/** The pair of `id` as JSON text, or null when no side of it is known. */
export function pairJson(repo: Repository, id: string, row?: PairRow): string | null {
  return pairJsonOf(id, repo.sidesOf(id), row ?? repo.pairById(id));
}

/** The pair answer from a side list and the pair row (any store), or null without sides. */
export function pairJsonOf(
  id: string,
  sideList: readonly { role: Role; route: string; record: string }[],
  pair: Pick<PairRow, 'route' | 'truncated' | 'status_match' | 'body_match' | 'match' | 'late' | 'diffs' | 'compare_note'> | undefined,
): string | null {
  const sides = new Map<Role, { route: string; record: string }>();
  for (const s of sideList) sides.set(s.role, s);
  if (sides.size === 0) return null;
  const production = sides.get('production');
  const shadow = sides.get('shadow');
  const baseline = sides.get('baseline');
  const route = pair?.route ?? production?.route ?? shadow?.route ?? baseline!.route;
  const truncated = pair ? pair.truncated === 1 : truncatedFlag(production?.record) || truncatedFlag(shadow?.record);
  return (
    `{"id":${JSON.stringify(id)},"route":${JSON.stringify(route)}` +
    `,"production":${production?.record ?? 'null'},"shadow":${shadow?.record ?? 'null'}` +
    `,"status_match":${bool(pair?.status_match)},"body_match":${bool(pair?.body_match)},"match":${bool(pair?.match)}` +
    `,"truncated":${truncated},"late":${bool(pair?.late)},"diffs":${pair?.diffs ?? '[]'}` +
    `,"compare_note":${JSON.stringify(pair?.compare_note ?? null)}` +
    `,"baseline":${baseline?.record ?? 'null'}}`
  );
}
