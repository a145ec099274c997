// Tables of the decision features (feedback, noise, verdict, control). They only
// add to the core layout (schema.ts), so a database written before them opens
// unchanged and gains them empty.
export const DECISION_TABLES_SQL = `
CREATE TABLE IF NOT EXISTS feedback (
  id         TEXT    PRIMARY KEY,
  label      TEXT    NOT NULL,
  arrival_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS triples (
  id             TEXT PRIMARY KEY,
  route          TEXT NOT NULL,
  baseline_paths TEXT NOT NULL,
  shadow_paths   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS excusable_pairs (
  pair_seq INTEGER PRIMARY KEY,
  route    TEXT    NOT NULL,
  paths    TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS decisions (
  scope      TEXT    PRIMARY KEY,
  decision   TEXT    NOT NULL,
  verdict    TEXT    NOT NULL,
  changed_ms INTEGER NOT NULL
);
`;
