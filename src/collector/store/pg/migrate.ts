// Creates or migrates the PostgreSQL layout at start, and refuses a database of
// another schema version (exit 2, like SQLite). Replicas may start at the same
// instant: the whole step runs under one advisory lock, so only one of them
// creates the tables and the others find them made.
//
// A start on a database already in this layout runs no DDL at all: even
// `CREATE INDEX IF NOT EXISTS` takes a SHARE lock on its table when the index is
// there, so a starting replica would wait for every open ingest transaction of the
// other replicas and hold up the new ones behind it.
import { createHash } from 'node:crypto';
import { SchemaError } from '../repository.js';
import type { PgPool } from './pool.js';
import { PG_CORE_SCHEMA, PG_SCHEMA_VERSION } from './schema.js';
import { query, withTransaction } from './tx.js';
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

/** Names the DDL of these parts: a part added or changed runs its DDL once more. */
export function partsDigest(parts: readonly PgSchemaPart[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(`${p.name}\u0000${p.sql}\u0000`);
  return h.digest('hex');
}

/** Whether the database already has this schema version with exactly these parts (no lock, no DDL). */
async function alreadyInPlace(pool: PgPool, digest: string): Promise<boolean> {
  let rows: { key: string; value: string }[];
  try {
    rows = await query<{ key: string; value: string }>(pool, "SELECT key, value FROM meta WHERE key IN ('schema_version', 'parts_digest')");
  } catch (err) {
    // No meta table yet (a new database): the locked step creates it.
    if ((err as { code?: unknown }).code === '42P01') return false;
    throw err;
  }
  const v = new Map(rows.map((r) => [r.key, r.value]));
  return v.get('schema_version') === String(PG_SCHEMA_VERSION) && v.get('parts_digest') === digest;
}

export async function migratePg(pool: PgPool, url: string, parts: readonly PgSchemaPart[]): Promise<void> {
  const digest = partsDigest(parts);
  if (await alreadyInPlace(pool, digest)) return;
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
    await c.query(
      "INSERT INTO meta (key, value) VALUES ('parts_digest', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      [digest],
    );
  });
}

function allStepsFrom(version: number): boolean {
  for (let v = version; v < PG_SCHEMA_VERSION; v++) if (STEPS[v] === undefined) return false;
  return true;
}
