// SQLite layout. `records` keeps every side exactly as received (first copy of an
// (id, role) wins); `pairs` keeps each production/shadow pair with its comparison.
// A pair is written in the same transaction as its second side, so a lone side is
// simply a production/shadow record whose partner role is absent: nothing about
// joining lives only in memory.
//
// Correlation ids are random, and every insert into an index keyed by them dirties
// a random page. So `records` has no id index of its own: (id, role) → seq lives in
// `record_ids`, written in sorted runs (see id-index.ts), and pairs are found
// through their production record's seq, which grows with time like the pair's own
// seq, so that index stays append-like.
export const SCHEMA_VERSION = 4;

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
  record     TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS record_ids (
  id   TEXT    NOT NULL,
  role TEXT    NOT NULL,
  seq  INTEGER NOT NULL,
  PRIMARY KEY (id, role)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pairs (
  seq          INTEGER PRIMARY KEY,
  prod_seq     INTEGER NOT NULL UNIQUE,
  shadow_seq   INTEGER NOT NULL,
  id           TEXT    NOT NULL,
  route        TEXT    NOT NULL,
  status_match INTEGER NOT NULL,
  body_match   INTEGER NOT NULL,
  match        INTEGER NOT NULL,
  truncated    INTEGER NOT NULL,
  late         INTEGER NOT NULL,
  diffs        TEXT    NOT NULL,
  created_ms   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS predictions (
  pair_seq     INTEGER PRIMARY KEY,
  route        TEXT    NOT NULL,
  prod_label   TEXT,
  shadow_label TEXT,
  prod_score   REAL,
  shadow_score REAL
);
CREATE INDEX IF NOT EXISTS predictions_by_route ON predictions (route, pair_seq);
CREATE INDEX IF NOT EXISTS pairs_by_route ON pairs (route, seq);
CREATE INDEX IF NOT EXISTS pairs_by_match ON pairs (match, seq);
`;
