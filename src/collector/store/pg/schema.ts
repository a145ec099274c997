// PostgreSQL layout of the core: the same tables as SQLite (schema.ts one level
// up), plus what several replicas sharing one database need:
// - every row names the transaction that wrote it (`xid`, pg_current_xact_id()),
//   which is what the change feed follows (feed.ts);
// - `records` is unique on (id, role): the first copy of a side wins, whichever
//   replica receives it;
// - `pairs` is unique on id: a second guard that an id is never paired twice;
// - a pair says which side waited for it (from an earlier transaction), so every
//   replica can take that side out of its pending/unmatched counts from the pair
//   row alone;
// - ids, roles and routes are collated "C" (compared byte by byte, as SQLite does),
//   whatever the database's default: they are opaque keys, and under a language
//   collation every unique-key check and index insert on them runs the locale's
//   comparison (about 7 % of records/s in the bench, BENCHMARKS.md session 7).
//   Tables created before keep their collation and work as before.
export const PG_SCHEMA_VERSION = 1;

export const PG_CORE_SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  seq        bigserial        PRIMARY KEY,
  xid        xid8             NOT NULL DEFAULT pg_current_xact_id(),
  id         text COLLATE "C" NOT NULL,
  role       text COLLATE "C" NOT NULL,
  route      text COLLATE "C" NOT NULL,
  status     integer          NOT NULL,
  latency_ms double precision NOT NULL,
  arrival_ms bigint           NOT NULL,
  record     text             NOT NULL,
  UNIQUE (id, role)
);
CREATE INDEX IF NOT EXISTS records_by_xid ON records (xid, seq);
CREATE TABLE IF NOT EXISTS pairs (
  seq               bigserial PRIMARY KEY,
  xid               xid8      NOT NULL DEFAULT pg_current_xact_id(),
  prod_seq          bigint    NOT NULL,
  shadow_seq        bigint    NOT NULL,
  id                text COLLATE "C" NOT NULL UNIQUE,
  route             text COLLATE "C" NOT NULL,
  status_match      smallint  NOT NULL,
  body_match        smallint  NOT NULL,
  match             smallint  NOT NULL,
  truncated         smallint  NOT NULL,
  late              smallint  NOT NULL,
  diffs             text      NOT NULL,
  created_ms        bigint    NOT NULL,
  compare_note      text,
  waited_role       text COLLATE "C",
  waited_route      text COLLATE "C",
  waited_arrival_ms bigint
);
CREATE INDEX IF NOT EXISTS pairs_by_xid ON pairs (xid, seq);
CREATE INDEX IF NOT EXISTS pairs_by_route ON pairs (route, seq);
CREATE INDEX IF NOT EXISTS pairs_by_match ON pairs (match, seq);
CREATE TABLE IF NOT EXISTS predictions (
  pair_seq     bigint PRIMARY KEY,
  xid          xid8   NOT NULL DEFAULT pg_current_xact_id(),
  route        text COLLATE "C" NOT NULL,
  prod_label   text,
  shadow_label text,
  prod_score   double precision,
  shadow_score double precision
);
CREATE INDEX IF NOT EXISTS predictions_by_xid ON predictions (xid, pair_seq);
CREATE INDEX IF NOT EXISTS predictions_by_route ON predictions (route, pair_seq);
`;
