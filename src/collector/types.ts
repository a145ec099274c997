// Shapes shared by the collector's stages (ingest → join → compare → store → stats → api).

export type Role = 'production' | 'shadow' | 'baseline';

/** One side of one request as the filter sends it (contract §2). Unknown fields are kept. */
export interface ShadowRecord {
  v: 1;
  id: string;
  role: Role;
  route: string;
  method: string;
  path: string;
  status: number;
  error?: string | null;
  latency_ms: number;
  ts_ms: number;
  request_body?: string | null;
  response_headers?: Record<string, string> | null;
  response_body?: string | null;
  body_encoding?: 'utf8' | 'base64' | null;
  response_body_truncated?: boolean | null;
  source?: string | null;
  [extra: string]: unknown;
}

export type DiffKind = 'changed' | 'added' | 'removed' | 'type' | 'body';

/** One difference between the production and the shadow answer. */
export interface Diff {
  path: string;
  kind: DiffKind;
  production?: unknown;
  shadow?: unknown;
}

/** The outcome of comparing the two sides of a pair. */
export interface Comparison {
  statusMatch: boolean;
  bodyMatch: boolean;
  headersMatch: boolean;
  match: boolean;
  truncated: boolean;
  diffs: Diff[];
  /** Set when JSON bodies were too deep or too large to compare structurally (then byte for byte). */
  compareNote?: string | null;
}

/** Per-record answer of POST /v1/records. */
export interface IngestError {
  index: number;
  error: string;
}

export interface IngestResult {
  accepted: number;
  rejected: number;
  errors: IngestError[];
  /** Records that failed for a reason of the collector's own (not sent in the answer: logged). */
  readonly internal?: IngestInternalError[];
}

export interface IngestInternalError {
  index: number;
  error: unknown;
}

// The query API's answers, for clients in this repository (the demo's report).
export type { FullStats, FullStatsAnswer } from './stats/stats-builder.js';
export type { Decision, Reason, Verdict } from './verdict/decide.js';
