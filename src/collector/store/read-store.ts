// What the read endpoints need of a store, whichever it is: SQLite (through the
// Repository) or PostgreSQL (store/pg/pg-store.ts). Async, because PostgreSQL is.
import type { DistributionShift } from '../stats/score-distributions.js';
import type { PairPage, PairPageQuery } from './pair-pages.js';
import { pairJson } from '../api/pair-view.js';
import type { Repository } from './repository.js';

export interface PairReader {
  /** Pages of pairs, newest first. */
  pairPage(q: PairPageQuery): Promise<PairPage>;
  /** GET /v1/pairs/{id} as JSON text, or null when no side of the id is known. */
  pairJson(id: string): Promise<string | null>;
}

export interface ScoreShiftReader {
  /** PSI and KS of a route's stored score pairs. */
  scoreShift(route: string): Promise<DistributionShift>;
}

export type ReadStore = PairReader & ScoreShiftReader;

/** The SQLite repository seen through the read interface. */
export function sqliteReadStore(repo: Repository): ReadStore {
  return {
    pairPage: (q) => repo.pairPage(q),
    pairJson: async (id) => pairJson(repo, id),
    scoreShift: (route) => repo.scoreShift(route),
  };
}
