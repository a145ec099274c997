// The setup every PostgreSQL test file shares: one throw-away cluster per file,
// started before its first test and stopped after its last, and the message its
// tests are skipped with where PostgreSQL cannot start (never a silent pass).
// fsync is off: these tests never crash the machine.
import { after, before } from 'node:test';
import { pgUnavailable, startPgCluster, type PgCluster } from './pg-cluster.js';

/** Why PostgreSQL tests are skipped here (a message), or false: `test(name, { skip: pgSkip }, …)`. */
export const pgSkip: string | false = pgUnavailable() ?? false;

/**
 * Registers the calling file's before/after hooks (call it once, at the file's top
 * level) and returns the file's running cluster, for use inside its tests.
 */
export function pgClusterPerFile(): () => PgCluster {
  let cluster: PgCluster | undefined;
  before(async () => {
    if (!pgSkip) cluster = await startPgCluster({ fsync: false });
  });
  after(async () => {
    await cluster?.stop();
  });
  return () => {
    if (!cluster) throw new Error('no PostgreSQL cluster: only a test of a file that is not skipped (pgSkip) has one');
    return cluster;
  };
}

/** A cluster of the test's own, stopped after it, for tests that stop and start the server. */
export async function ownPgCluster(t: { after: (fn: () => Promise<unknown>) => void }): Promise<PgCluster> {
  const c = await startPgCluster({ fsync: false });
  t.after(() => c.stop());
  return c;
}
