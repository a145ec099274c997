// What noise learning keeps: per triple the normalised paths where baseline and
// shadow differ from production (kind `changed`), and per pair that differs only
// by `changed` body diffs the normalised paths of those diffs, so that the
// adjusted match count can follow the noise paths as they change.
import type Database from 'better-sqlite3';
import type { Cell } from './row-batch.js';

export interface TripleRow {
  route: string;
  baselinePaths: string[];
  shadowPaths: string[];
}

export interface ExcusableRow {
  route: string;
  paths: string[];
}

export class NoiseStore {
  private readonly stmt;

  constructor(
    db: Database.Database,
    /** Adds an excusable_pairs row (pair_seq, route, paths) to the repository's rows of this transaction. */
    private readonly addExcusable: (row: readonly Cell[]) => void,
  ) {
    this.stmt = {
      insertTriple: db.prepare('INSERT OR IGNORE INTO triples (id, route, baseline_paths, shadow_paths) VALUES (?, ?, ?, ?)'),
      scanTriples: db.prepare<[], { route: string; b: string; s: string }>('SELECT route, baseline_paths AS b, shadow_paths AS s FROM triples'),
      scanExcusable: db.prepare<[], { route: string; paths: string }>('SELECT route, paths FROM excusable_pairs'),
    };
  }

  /** False when the id already made a triple. */
  insertTriple(id: string, route: string, baselinePaths: readonly string[], shadowPaths: readonly string[]): boolean {
    return this.stmt.insertTriple.run(id, route, JSON.stringify(baselinePaths), JSON.stringify(shadowPaths)).changes === 1;
  }

  *scanTriples(): IterableIterator<TripleRow> {
    for (const r of this.stmt.scanTriples.iterate()) {
      yield { route: r.route, baselinePaths: JSON.parse(r.b) as string[], shadowPaths: JSON.parse(r.s) as string[] };
    }
  }

  /** Written with the pair's other rows, in a multi-row INSERT OR IGNORE. */
  insertExcusable(pairSeq: number, route: string, paths: readonly string[]): void {
    this.addExcusable([pairSeq, route, JSON.stringify(paths)]);
  }

  *scanExcusable(): IterableIterator<ExcusableRow> {
    for (const r of this.stmt.scanExcusable.iterate()) yield { route: r.route, paths: JSON.parse(r.paths) as string[] };
  }
}
