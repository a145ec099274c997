// Per-id advisory locks held until the transaction ends. Everything that must see
// the other side of an id (a side and its partner, a label and its pair) takes the
// lock of that id first, on any replica, so such writers serialize on the id and
// the later one reads the earlier one's committed rows. Keys are taken in sorted
// order, so two transactions never wait on each other in a cycle.
//
// Take them BEFORE the transaction's first write. A transaction gets its id (xid)
// at its first write, and the change feed applies transactions in xid order; a
// transaction that locks first and then writes gets an xid larger than that of
// every transaction it waited for, so whatever it read of them is applied before
// it on every replica. Locking after a write would break that order (a writer in
// the batch transaction, after the sides are inserted, may only lock ids the batch
// already holds).
import type { PgClient } from './pool.js';

export async function lockIds(client: PgClient, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await client.query({
    name: 'lock-ids',
    text: 'SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT DISTINCT hashtextextended(i, 0) AS k FROM unnest($1::text[]) i ORDER BY k) s',
    values: [ids],
  });
}
