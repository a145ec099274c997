// A real collector process on a fresh SQLite file in a temporary directory, stopped
// and the directory removed after the test: the start of most fault tests.
import { join } from 'node:path';
import { startCollector, tempDir, type Running } from '../collector/helpers.js';

type TestContext = { after: (fn: () => unknown) => void };

export interface CollectorOnTempDb {
  collector: Running;
  /** The SQLite file (`c.db` in `dir`), for restarts and for reading it directly. */
  db: string;
  dir: string;
}

/** `shadowmesh collector --db DIR/c.db ARGS…`, with DIR new for this test. */
export async function startCollectorOnTempDb(t: TestContext, args: string[] = []): Promise<CollectorOnTempDb> {
  const dir = tempDir(t);
  const db = join(dir, 'c.db');
  const collector = await startCollector(['--db', db, ...args], t);
  return { collector, db, dir };
}
