// SQLite layout. `records` keeps every side exactly as received (first copy of an
// (id, role) wins); `pairs` keeps each production/shadow pair with its comparison.
// Lone sides are the production/shadow records without a pair row, so nothing
// about joining lives only in memory.
export const SCHEMA_VERSION = 1;

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
  seq        INTEGER PRIMARY KEY,
  id         TEXT    NOT NULL,
  role       TEXT    NOT NULL,
  route      TEXT    NOT NULL,
  status     INTEGER NOT NULL,
  latency_ms REAL    NOT NULL,
  arrival_ms INTEGER NOT NULL,
  record     TEXT    NOT NULL,
  UNIQUE (id, role)
);
CREATE TABLE IF NOT EXISTS pairs (
  seq          INTEGER PRIMARY KEY,
  id           TEXT    NOT NULL UNIQUE,
  route        TEXT    NOT NULL,
  status_match INTEGER NOT NULL,
  body_match   INTEGER NOT NULL,
  match        INTEGER NOT NULL,
  truncated    INTEGER NOT NULL,
  late         INTEGER NOT NULL,
  diffs        TEXT    NOT NULL,
  created_ms   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS pairs_by_route ON pairs (route, seq);
CREATE INDEX IF NOT EXISTS pairs_by_match ON pairs (match, seq);
`;
