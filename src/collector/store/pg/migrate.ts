// Creates or migrates the PostgreSQL layout at start, and refuses a database of
// another schema version (exit 2, like SQLite). Replicas may start at the same
// instant: the whole step runs under one advisory lock, so only one of them
// creates the tables and the others find them made.
import { SchemaError } from '../repository.js';
import type { PgPool } from './pool.js';
import { PG_CORE_SCHEMA, PG_SCHEMA_VERSION } from './schema.js';
import { withTransaction } from './tx.js';
import { describePgUrl } from './url.js';

/** A named piece of DDL, run on every start (so it must be idempotent: IF NOT EXISTS). */
export interface PgSchemaPart {
  name: string;
  sql: string;
}

export const PG_CORE_PART: PgSchemaPart = { name: 'core', sql: PG_CORE_SCHEMA };

/** Arbitrary constant: the advisory lock key of schema changes. */
const MIGRATION_LOCK = 0x5348_4d45_5348; // "SHMESH"

/**
 * Steps from an older version to the next one, run in order; none yet (version 1
 * is the first PostgreSQL layout). A database newer than this collector, or one
 * without a step, is refused.
 */
const STEPS: Record<number, string> = {};

export async function migratePg(pool: PgPool, url: string, parts: readonly PgSchemaPart[]): Promise<void> {
  await withTransaction(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await c.query('CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL)');
    const found = (await c.query<{ value: string }>("SELECT value FROM meta WHERE key = 'schema_version'")).rows[0]?.value;
    let version = found === undefined ? PG_SCHEMA_VERSION : Number(found);
    if (found !== undefined && !(Number.isInteger(version) && version <= PG_SCHEMA_VERSION && allStepsFrom(version))) {
      throw new SchemaError(
        `${describePgUrl(url)}: database has schema version ${found}, this collector uses ${PG_SCHEMA_VERSION}; use another --db database`,
      );
    }
    for (; version < PG_SCHEMA_VERSION; version++) await c.query(STEPS[version]!);
    for (const p of parts) await c.query(p.sql);
    await c.query(
      "INSERT INTO meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      [String(PG_SCHEMA_VERSION)],
    );
  });
}

function allStepsFrom(version: number): boolean {
  for (let v = version; v < PG_SCHEMA_VERSION; v++) if (STEPS[v] === undefined) return false;
  return true;
}
