// One transaction on one pooled connection: committed when fn resolves, rolled
// back when it throws. A connection that failed is discarded, not returned.
import { asUnavailable, breaksConnection, type PgClient, type PgPool } from './pool.js';

export type Isolation = 'read committed' | 'repeatable read' | 'serializable';

export interface TxOptions {
  isolation?: Isolation;
  readOnly?: boolean;
}

/** A pooled connection, or PgUnavailableError when none can be had in time. */
export async function connect(pool: PgPool): Promise<PgClient> {
  try {
    return await pool.connect();
  } catch (err) {
    throw asUnavailable(err);
  }
}

export async function withTransaction<T>(pool: PgPool, fn: (client: PgClient) => Promise<T>, opts: TxOptions = {}): Promise<T> {
  const client = await connect(pool);
  let broken: Error | undefined;
  // The pool only listens for errors of idle connections: one that breaks while
  // checked out (PostgreSQL stopped between two statements) would otherwise end the
  // process with an unhandled 'error' event. The next statement fails and says so.
  const onError = (err: Error): void => {
    broken ??= err;
  };
  client.on('error', onError);
  try {
    await client.query(`BEGIN ISOLATION LEVEL ${(opts.isolation ?? 'read committed').toUpperCase()}${opts.readOnly ? ' READ ONLY' : ''}`);
    try {
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => {
        broken = e;
      });
      throw err;
    }
  } catch (err) {
    if (!broken && breaksConnection(err)) broken = err as Error;
    throw asUnavailable(err);
  } finally {
    client.off('error', onError);
    // release(err) destroys the connection: after a failure of it its state is unknown.
    client.release(broken);
  }
}

/** One statement outside a transaction, with the same error mapping. */
export async function query<R extends object>(pool: PgPool, text: string, values?: unknown[]): Promise<R[]> {
  try {
    return (await pool.query<R>(text, values)).rows;
  } catch (err) {
    throw asUnavailable(err);
  }
}
