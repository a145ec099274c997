// What the read side (stats, /metrics, /healthz, the decision features) needs
// of the join state. The SQLite Joiner has it, and so has the PostgreSQL
// follower (store/pg/join-follower.ts), which builds the same aggregates from the
// change feed.
import type { RouteCap } from '../ingest/route-cap.js';
import type { StatsBook } from '../stats/stats-book.js';

export interface JoinView {
  readonly stats: StatsBook;
  readonly routeCap: RouteCap;
  /** Milliseconds since the epoch, never going backwards. */
  now(): number;
  /** Ends the windows that are over (sides become unmatched). */
  tick(): void;
  memoryState(): { cachedPending: number; windowBuckets: number; lone: number };
}
