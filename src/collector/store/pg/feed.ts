// The change feed every replica follows. Each row carries the id of the
// transaction that wrote it (xid, from pg_current_xact_id()). A follow reads, in
// one REPEATABLE READ snapshot, the snapshot's xmin (the oldest transaction still
// running) and the rows of every transaction between the last watermark and that
// xmin. Every transaction below xmin has ended, so its rows are either all visible
// in the snapshot (committed) or never will be (rolled back): none is skipped,
// although sequence numbers and transaction ids commit out of order. The watermark
// then moves to xmin. All replicas consume the same transactions in the same
// (xid, table, seq) order, so the aggregates they build are the same; a replica
// that starts later follows from zero, which is its rebuild.
//
// A long-running writing transaction anywhere in the cluster holds xmin back: the
// feed waits for it (bounded by idle_in_transaction_session_timeout and the
// statement timeout on the collector's own connections).
import type { PgClient, PgPool } from './pool.js';
import { withTransaction } from './tx.js';

/** A table in the feed: it has an `xid xid8` column, indexed on (xid, orderBy). */
export interface FeedTable {
  name: string;
  /** The columns read (SQL select list, without xid). */
  columns: string;
  /** Order inside one transaction; `seq` unless said. */
  orderBy?: string;
}

/** One committed transaction's rows of a consumer's tables, each in its own order. */
export interface FeedTransaction {
  xid: bigint;
  rows<R>(table: string): readonly R[];
}

export interface FeedConsumer {
  /** Read in this order; empty tables are still asked for. */
  tables: readonly FeedTable[];
  /** Called for every transaction that wrote to any of the feed's tables, in xid order. */
  apply(tx: FeedTransaction): void;
  /** Forget everything: the feed starts again from zero. */
  reset?(): void;
}

export interface ChangeFeedOptions {
  /** Transaction ids covered per round trip at most (a long backlog is read in steps). */
  step?: number;
  /** A consumer threw on a transaction: it is skipped for that consumer (see applyRange). */
  onConsumerError?: (err: unknown, xid: bigint) => void;
}

const EMPTY: readonly never[] = [];

export class ChangeFeed {
  private readonly consumers: FeedConsumer[] = [];
  /** Every transaction below this has been applied. */
  private next = 0n;
  /** The newest transaction id seen in use when a follow began (pg_snapshot_xmax). */
  private seenXmax = 0n;
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private readonly step: bigint;
  private lastError: unknown = null;
  private readonly onConsumerError: (err: unknown, xid: bigint) => void;

  constructor(
    private readonly pool: PgPool,
    opts: ChangeFeedOptions = {},
  ) {
    this.step = BigInt(opts.step ?? 2000);
    this.onConsumerError = opts.onConsumerError ?? (() => undefined);
  }

  /** Consumers are applied in registration order within each transaction. */
  register(consumer: FeedConsumer): void {
    if (this.next !== 0n) throw new Error('feed consumers must be registered before the first follow');
    this.consumers.push(consumer);
  }

  /** The watermark: every transaction id below it has been applied. */
  get watermark(): bigint {
    return this.next;
  }

  /** The error of the last follow, or null when it succeeded (PostgreSQL down shows here). */
  get error(): unknown {
    return this.lastError;
  }

  /**
   * Applies what has been committed up to now. Concurrent callers share one
   * follow; a caller arriving while one runs gets the next one (which starts after
   * the call, so it sees what was committed before it).
   */
  follow(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.running) return (this.running = this.runOnce());
    const after = this.running.catch(() => undefined);
    this.queued = after.then(() => {
      this.queued = null;
      return (this.running = this.runOnce());
    });
    return this.queued;
  }

  /**
   * Waits until every transaction committed before this call is applied (a read
   * after a write on another replica sees the write), giving up after `maxWaitMs`
   * when an older transaction stays open. Throws when PostgreSQL cannot be asked.
   */
  async sync(maxWaitMs = 2000): Promise<void> {
    await this.follow();
    const target = this.seenXmax;
    const deadline = Date.now() + maxWaitMs;
    while (this.next < target && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
      await this.follow();
    }
  }

  private async runOnce(): Promise<void> {
    try {
      // Several rounds when far behind (a start on a full database).
      for (let round = 0; round < 1_000_000; round++) {
        if (!(await withTransaction(this.pool, (c) => this.round(c), { isolation: 'repeatable read', readOnly: true }))) break;
      }
      this.lastError = null;
    } catch (err) {
      this.lastError = err;
      throw err;
    } finally {
      this.running = null;
    }
  }

  /** One snapshot; true when there is more below xmin than this round read. */
  private async round(c: PgClient): Promise<boolean> {
    const tables = this.consumers.flatMap((k) => k.tables);
    // The first statement takes the snapshot; the next visible transaction at or
    // above the watermark lets a long gap (other databases' xids) be jumped.
    const firsts = tables.map((t) => `(SELECT min(xid) FROM ${t.name} WHERE xid >= $1::xid8)`).join(', ');
    const head = (
      await c.query<{ xmin: string; xmax: string; first: string | null }>(
        `SELECT pg_snapshot_xmin(s)::text AS xmin, pg_snapshot_xmax(s)::text AS xmax, least(${firsts})::text AS first
         FROM pg_current_snapshot() s`,
        [this.next.toString()],
      )
    ).rows[0]!;
    const xmin = BigInt(head.xmin);
    const xmax = BigInt(head.xmax);
    if (xmax > this.seenXmax) this.seenXmax = xmax;
    const first = head.first === null ? null : BigInt(head.first);
    if (first === null || first >= xmin) {
      if (xmin > this.next) this.next = xmin;
      return false;
    }
    const upper = first + this.step < xmin ? first + this.step : xmin;
    const byTable = new Map<string, { xid: string }[]>();
    for (const t of tables) {
      // ORDER BY the table's xid8 column, qualified: a bare `xid` names the text output
      // column, whose order ("1000" < "999") is not the numeric one applyRange walks in,
      // and a range across a power of ten lost every transaction out of step.
      const rows = await c.query<{ xid: string }>({
        name: `feed:${t.name}`,
        text: `SELECT xid::text AS xid, ${t.columns} FROM ${t.name} WHERE xid >= $1::xid8 AND xid < $2::xid8 ORDER BY ${t.name}.xid, ${t.orderBy ?? 'seq'}`,
        values: [first.toString(), upper.toString()],
      });
      byTable.set(t.name, rows.rows);
    }
    this.applyRange(byTable);
    this.next = upper;
    return upper < xmin;
  }

  /** Groups the rows by transaction and hands each transaction to every consumer. */
  private applyRange(byTable: Map<string, { xid: string }[]>): void {
    // Bucketed by xid rather than walked in step with the SQL order, so that no order
    // the rows come in can drop one; inside a transaction each table keeps its order.
    const byXid = new Map<string, Map<string, unknown[]>>();
    for (const [name, tableRows] of byTable) {
      for (const r of tableRows) {
        let slice = byXid.get(r.xid);
        if (!slice) byXid.set(r.xid, (slice = new Map()));
        let rows = slice.get(name);
        if (!rows) slice.set(name, (rows = []));
        rows.push(r);
      }
    }
    const order = [...byXid.keys()].map((x) => BigInt(x)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const xid of order) {
      const slice = byXid.get(xid.toString())!;
      const tx: FeedTransaction = { xid, rows: <R>(name: string) => (slice.get(name) as R[] | undefined) ?? (EMPTY as readonly R[]) };
      for (const k of this.consumers) {
        if (!k.tables.some((t) => slice.has(t.name))) continue;
        // A consumer that throws must not stop the range half-applied: the watermark
        // would stay behind, and the next follow would apply again what the others
        // already took (double counts). The failure is reported and that consumer
        // skips that transaction; rows are the same on every replica, so every
        // replica skips the same one and they still agree.
        try {
          k.apply(tx);
        } catch (err) {
          this.onConsumerError(err, xid);
        }
      }
    }
  }

  /** Back to zero: consumers forget and the next follow reads everything again. */
  reset(): void {
    this.next = 0n;
    this.seenXmax = 0n;
    for (const k of this.consumers) k.reset?.();
  }
}
