// The connection pool every PostgreSQL part shares. Bounded waits everywhere: a
// database that is down or stuck makes a request fail fast (503), never hang.
import pg from 'pg';
import type { CollectorLogger } from '../../log.js';
import { describePgUrl } from './url.js';

export interface PgPoolOptions {
  /** Connections held at most by this replica. */
  max?: number;
  /** Waiting for a free connection or a new one, before giving up. */
  connectTimeoutMs?: number;
  /** A statement (lock waits included) is cancelled by the server after this. */
  statementTimeoutMs?: number;
  logger?: CollectorLogger;
}

export const PG_POOL_DEFAULTS = { max: 10, connectTimeoutMs: 3000, statementTimeoutMs: 10_000 };

/**
 * PostgreSQL cannot be reached, or failed the statement (down, restarting,
 * timed out): the request is answered 503 and the sender retries later.
 */
export class PgUnavailableError extends Error {
  readonly statusCode = 503;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PgUnavailableError';
  }
}

export type PgPool = pg.Pool;
export type PgClient = pg.PoolClient;

// bigint (int8) columns as numbers: seqs and millisecond times stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));

export function openPgPool(url: string, opts: PgPoolOptions = {}): PgPool {
  const o = { ...PG_POOL_DEFAULTS, ...opts };
  const pool = new pg.Pool({
    connectionString: url,
    max: o.max,
    connectionTimeoutMillis: o.connectTimeoutMs,
    // The server cancels a statement after this; the client gives up a little later
    // in case the server cannot even answer (a half-open connection).
    statement_timeout: o.statementTimeoutMs,
    query_timeout: o.statementTimeoutMs + 2000,
    // A replica that dies mid-transaction must not hold row and advisory locks for long.
    idle_in_transaction_session_timeout: Math.max(o.statementTimeoutMs * 3, 30_000),
    application_name: 'shadowmesh-collector',
    keepAlive: true,
  });
  // An idle connection that breaks (PostgreSQL restarted) is dropped by the pool; the
  // event must be handled or it would end the process.
  let lastWarn = 0;
  pool.on('error', (err) => {
    const now = Date.now();
    if (now - lastWarn < 5000) return;
    lastWarn = now;
    opts.logger?.warn({ problem: err.message, db: describePgUrl(url) }, 'PostgreSQL connection lost');
  });
  return pool;
}

// SQLSTATE classes that say "not now" rather than "wrong": connection problems (08),
// cancelled by timeout or shut down (57), out of resources (53), serialization or
// deadlock (40), lock not available (55P03), system errors (58).
const RETRYABLE_SQLSTATE = /^(08|57|53|40|58|55P03)/;

/**
 * Whether an error means PostgreSQL is down or cannot do the work now (a retry may
 * succeed), as opposed to a statement of ours that is wrong (a bug: answered 500).
 */
export function isPgUnavailable(err: unknown): boolean {
  if (err instanceof PgUnavailableError) return true;
  if (err instanceof pg.DatabaseError) return RETRYABLE_SQLSTATE.test(err.code ?? '');
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)$/.test(e.code)) return true;
  const m = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection error|Connection closed|not queryable/i.test(m);
}

/** Whether the connection the error happened on can no longer be trusted. */
export const breaksConnection = (err: unknown): boolean => !(err instanceof pg.DatabaseError) || /^(08|57P0)/.test(err.code ?? '');

/** The error as the sender sees it: a PostgreSQL failure becomes PgUnavailableError. */
export function asUnavailable(err: unknown): unknown {
  if (err instanceof PgUnavailableError || !isPgUnavailable(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new PgUnavailableError(`PostgreSQL is unavailable, retry later: ${message}`, { cause: err });
}
