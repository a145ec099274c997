// The collector's PostgreSQL store: one pool, the schema checked and migrated at
// start, the change feed with the join aggregates as its first consumer, the
// ingest path and the read side. Features with tables of their own (feedback,
// noise, decisions: pg-decisions) add a schema part, feed consumers and batch
// writers through `PgStoreParts` before the first follow.
import type { CollectorConfig } from '../../config.js';
import type { SideObserver } from '../../join/joiner.js';
import { internalErrorFields, type CollectorLogger } from '../../log.js';
import { ChangeFeed, type FeedConsumer } from './feed.js';
import { JoinFollower } from './join-follower.js';
import { migratePg, PG_CORE_PART, type PgSchemaPart } from './migrate.js';
import { PgPairReader } from './pair-reader.js';
import { openPgPool, type PgPool, type PgPoolOptions } from './pool.js';
import { PgRecordIngest, type BatchWriter, type BodyPreparer } from './record-ingest.js';

export interface PgStoreOptions extends PgPoolOptions {
  joinWindowMs: number;
  maxRoutes?: number;
  sides?: SideObserver;
  /** How often the feed is followed without a read asking for it. */
  followMs?: number;
  /** Extra tables, feed consumers and batch writers (decision features). */
  parts?: PgStoreParts;
  logger?: CollectorLogger;
  /** Parses POST bodies off the main thread (the prepare thread); closed with the store. */
  preparer?: BodyPreparer | null;
}

export interface PgStoreParts {
  schema?: readonly PgSchemaPart[];
  consumers?: readonly FeedConsumer[];
  writers?: readonly BatchWriter[];
}

export class PgStore {
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private lastWarn = 0;

  private constructor(
    readonly pool: PgPool,
    readonly feed: ChangeFeed,
    readonly join: JoinFollower,
    readonly records: PgRecordIngest,
    readonly reader: PgPairReader,
    private readonly logger: CollectorLogger | undefined,
  ) {}

  /**
   * Connects, creates or migrates the tables (SchemaError for a database of another
   * schema version), and applies everything already stored (the rebuild).
   */
  static async open(url: string, config: CollectorConfig, opts: PgStoreOptions): Promise<PgStore> {
    const pool = openPgPool(url, opts);
    try {
      await migratePg(pool, url, [PG_CORE_PART, ...(opts.parts?.schema ?? [])]);
      const feed = new ChangeFeed(pool, {
        onConsumerError: (err, xid) => opts.logger?.error({ ...internalErrorFields(err), xid: xid.toString() }, 'change feed consumer failed on a transaction; skipped'),
      });
      const join = new JoinFollower({ joinWindowMs: opts.joinWindowMs, maxRoutes: opts.maxRoutes, sides: opts.sides });
      feed.register(join);
      for (const c of opts.parts?.consumers ?? []) feed.register(c);
      const records = new PgRecordIngest(pool, config, join, { joinWindowMs: opts.joinWindowMs, preparer: opts.preparer });
      records.writers.push(...(opts.parts?.writers ?? []));
      const store = new PgStore(pool, feed, join, records, new PgPairReader(pool, feed), opts.logger);
      await feed.follow();
      store.startFollowing(opts.followMs ?? 250);
      return store;
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
  }

  private startFollowing(ms: number): void {
    this.timer = setInterval(() => void this.follow(), ms);
    this.timer.unref();
  }

  /** A follow whose failure (PostgreSQL down) is logged, not thrown: the next one retries. */
  async follow(): Promise<void> {
    if (this.closed) return;
    try {
      await this.feed.follow();
    } catch (err) {
      this.warn(err);
    }
  }

  /**
   * Before a read answers: everything committed before now is applied. When
   * PostgreSQL cannot be asked, the answer is what this replica already holds.
   */
  async sync(): Promise<void> {
    if (this.closed) return;
    try {
      await this.feed.sync();
    } catch (err) {
      this.warn(err);
    }
  }

  private warn(err: unknown): void {
    const now = Date.now();
    if (now - this.lastWarn < 5000) return;
    this.lastWarn = now;
    this.logger?.warn({ problem: err instanceof Error ? err.message : String(err) }, 'change feed cannot follow PostgreSQL; retrying');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.records.close();
    await this.pool.end();
  }
}
