// Columns added after a table was first shipped. Adding a nullable column keeps
// every older row valid, so a database written by an earlier collector of the same
// schema version is upgraded in place instead of refused.
import type Database from 'better-sqlite3';

const ADDED: readonly { table: string; column: string; type: string }[] = [
  // Why a pair's JSON bodies were compared byte for byte (too deep or too large); null otherwise.
  { table: 'pairs', column: 'compare_note', type: 'TEXT' },
];

export function addMissingColumns(db: Database.Database): void {
  for (const { table, column, type } of ADDED) {
    const columns = db.prepare<[], { name: string }>(`PRAGMA table_info(${table})`).all();
    if (!columns.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
  }
}
