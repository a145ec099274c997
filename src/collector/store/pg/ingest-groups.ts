// Group commit for record batches on PostgreSQL. Batches that arrive while this
// replica's ingest transaction runs wait, and the next transaction stores all of
// them together: one set of round trips (lock, insert, partners, pairs, commit) and
// one WAL flush for several requests. It matters most when consecutive batches
// share ids (the filter sends an id's production and shadow sides in different
// batches): each such batch waits on the previous one's advisory locks, so with one
// transaction per batch the replica's batches commit one after the other, each
// paying its own round trips and flush while the others sit in the lock queue.
//
// Every request is answered only after the transaction holding its records has
// committed. A record whose comparison throws is taken out and the group stored
// again (reported for that record alone, as before). Any other failure of a group
// of several batches is retried batch by batch, so a batch is failed only by its
// own records; PostgreSQL being unavailable fails the whole group at once (each
// sender retries later).
import type { IngestInternalError } from '../../types.js';
import { isPgUnavailable, type PgClient, type PgPool } from './pool.js';
import { withTransaction } from './tx.js';

/** A group stops growing here, so one transaction (and the answers waiting on it) stays short. */
export const MAX_GROUP_RECORDS = 2048;

/** Thrown by the store function: this item failed; the group is done again without it. */
export class ItemFailed<T> extends Error {
  constructor(
    readonly item: T,
    readonly error: unknown,
  ) {
    super('record failed');
  }
}

/** Stores one group's items in the open transaction; `now` is the group's arrival time. */
export type GroupStore<T> = (client: PgClient, items: readonly T[], now: number) => Promise<void>;

interface Pending<T extends { index: number }> {
  items: T[];
  /** The items' lock keys (ids), when the groups know them. */
  keys: ReadonlySet<string> | null;
  internal: IngestInternalError[];
  resolve(internal: IngestInternalError[]): void;
  reject(err: unknown): void;
}

/**
 * Two: while one group waits on ids another replica holds, the next can take the
 * ids that are free (with replicas behind a balancer, consecutive batches, which
 * share ids, go to different replicas). One, in the bench, left two replicas at
 * 0.52-0.63x one; two gave 0.79-1.02x (one replica alone: within the noise).
 */
export const DEFAULT_GROUPS_IN_FLIGHT = 2;

export interface IngestGroupsOptions {
  /** Transactions of this replica running at once (each holding a group). */
  inFlight?: number;
  maxGroupRecords?: number;
}

/**
 * The id an item's transaction locks. Given it, a batch sharing an id with a group
 * this replica is running waits here for that group to commit instead of starting a
 * group of its own: that group would only wait on the same id's lock in PostgreSQL,
 * while the batches arriving meanwhile, which it could have taken along, would have
 * to wait for it in turn (one replica receiving both sides of consecutive ids: each
 * group waited on the previous one, with ~2.5 batches per group in the bench).
 * Batches that share no id with a running group still start at once, unless one that
 * must wait is ahead of them: batches start in their order of arrival.
 */
export type LockKeyOf<T> = (item: T) => string;

export class IngestGroups<T extends { index: number }> {
  private readonly queue: Pending<T>[] = [];
  private running = 0;
  /** The lock keys of each running group. */
  private readonly runningKeys = new Set<ReadonlySet<string>>();
  private readonly inFlight: number;
  private readonly maxRecords: number;
  /** Transactions committed and batches they held (for the bench and tests). */
  commits = 0;
  batches = 0;

  constructor(
    private readonly pool: PgPool,
    private readonly store: GroupStore<T>,
    private readonly now: () => number,
    opts: IngestGroupsOptions = {},
    private readonly keyOf: LockKeyOf<T> | null = null,
  ) {
    this.inFlight = Math.max(1, opts.inFlight ?? DEFAULT_GROUPS_IN_FLIGHT);
    this.maxRecords = Math.max(1, opts.maxGroupRecords ?? MAX_GROUP_RECORDS);
  }

  /** Resolves, once committed, with the items that failed on their own; rejects when none was stored. */
  submit(items: T[]): Promise<IngestInternalError[]> {
    return new Promise((resolve, reject) => {
      const keyOf = this.keyOf;
      this.queue.push({ items, keys: keyOf ? new Set(items.map(keyOf)) : null, internal: [], resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.inFlight && this.queue.length > 0 && !this.waitsOnRunning(this.queue[0]!)) {
      const group = this.take();
      const keys = new Set<string>();
      for (const p of group) for (const k of p.keys ?? []) keys.add(k);
      this.running++;
      this.runningKeys.add(keys);
      void this.runGroup(group).finally(() => {
        this.running--;
        this.runningKeys.delete(keys);
        this.pump();
      });
    }
  }

  /** Whether the batch shares a lock key with a running group (see LockKeyOf). */
  private waitsOnRunning(p: Pending<T>): boolean {
    if (p.keys === null) return false;
    for (const running of this.runningKeys) for (const k of p.keys) if (running.has(k)) return true;
    return false;
  }

  /** The waiting batches, oldest first, up to the record cap (at least one batch) and the first that must wait. */
  private take(): Pending<T>[] {
    let n = 0;
    let records = 0;
    while (n < this.queue.length && (n === 0 || (records + this.queue[n]!.items.length <= this.maxRecords && !this.waitsOnRunning(this.queue[n]!)))) {
      records += this.queue[n]!.items.length;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private async runGroup(group: Pending<T>[]): Promise<void> {
    for (;;) {
      const items = group.flatMap((p) => p.items);
      if (items.length === 0) {
        for (const p of group) p.resolve(p.internal);
        return;
      }
      try {
        await withTransaction(this.pool, (c) => this.store(c, items, this.now()));
        this.commits++;
        this.batches += group.length;
        for (const p of group) p.resolve(p.internal);
        return;
      } catch (err) {
        if (err instanceof ItemFailed) {
          // Rolled back: that record alone is reported, the rest is stored again.
          const owner = group.find((p) => p.items.includes(err.item as T));
          if (owner) {
            owner.internal.push({ index: (err.item as T).index, error: err.error });
            owner.items = owner.items.filter((v) => v !== err.item);
            continue;
          }
        }
        if (group.length > 1 && !isPgUnavailable(err)) {
          // Which batch caused it is unknown: each one alone, so only its own fails.
          for (const p of group) await this.runGroup([p]);
          return;
        }
        for (const p of group) p.reject(err);
        return;
      }
    }
  }
}
