// Tables of the decision features on PostgreSQL (feedback, noise, verdict decisions,
// remote control), a schema part run with the core's (migrate.ts). Rows every
// replica folds into its view (matched labels, triples, excusable pairs) carry the
// id of the transaction that wrote them, so the change feed hands them to every
// replica in the same order. A row there is written once, under the id's advisory
// lock that record ingest takes too (id-locks.ts), by whichever transaction completes the set
// (label and pair, or baseline and pair): never twice, never by no one.
import type { PgSchemaPart } from './migrate.js';

export const PG_DECISION_TABLES_SQL = `
CREATE TABLE IF NOT EXISTS feedback_labels (
  id         text COLLATE "C" PRIMARY KEY,
  label      text   NOT NULL,
  arrival_ms bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback_matches (
  seq          bigserial PRIMARY KEY,
  xid          xid8      NOT NULL DEFAULT pg_current_xact_id(),
  id           text COLLATE "C" NOT NULL UNIQUE,
  route        text COLLATE "C" NOT NULL,
  prod_label   text      NOT NULL,
  shadow_label text      NOT NULL,
  label        text      NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_matches_by_xid ON feedback_matches (xid, seq);
CREATE TABLE IF NOT EXISTS noise_triples (
  seq            bigserial PRIMARY KEY,
  xid            xid8      NOT NULL DEFAULT pg_current_xact_id(),
  id             text COLLATE "C" NOT NULL UNIQUE,
  route          text COLLATE "C" NOT NULL,
  baseline_paths text      NOT NULL,
  shadow_paths   text      NOT NULL
);
CREATE INDEX IF NOT EXISTS noise_triples_by_xid ON noise_triples (xid, seq);
CREATE TABLE IF NOT EXISTS noise_excusable (
  seq   bigserial PRIMARY KEY,
  xid   xid8      NOT NULL DEFAULT pg_current_xact_id(),
  id    text COLLATE "C" NOT NULL UNIQUE,
  route text COLLATE "C" NOT NULL,
  paths text      NOT NULL
);
CREATE INDEX IF NOT EXISTS noise_excusable_by_xid ON noise_excusable (xid, seq);
CREATE TABLE IF NOT EXISTS verdict_decisions (
  scope      text   PRIMARY KEY,
  decision   text   NOT NULL,
  previous   text,
  verdict    text   NOT NULL,
  changed_ms bigint NOT NULL,
  basis      bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS sampling_control (
  key        text   PRIMARY KEY,
  value      text   NOT NULL,
  version    bigint NOT NULL,
  changed_ms bigint NOT NULL
);
`;

export const PG_DECISION_PART: PgSchemaPart = { name: 'decisions', sql: PG_DECISION_TABLES_SQL };
