// Rows of one table written with multi-row INSERTs. One `.run()` per row pays a
// statement's fixed cost (the call into native code, step, reset) per row; a group
// commit's rows instead go out 64 at a time, the rest in a few smaller fixed sizes,
// every statement prepared once. The cells are passed spread,
// as arguments: better-sqlite3 binds an array argument through a generic property
// read per element, which cost about twice as much per row.
import type Database from 'better-sqlite3';

/** What a column takes here. */
export type Cell = string | number | null;

/** Rows per statement, largest first. */
const SIZES = [64, 16, 4, 1] as const;

export class RowBatch {
  /** One statement per entry of SIZES. */
  private readonly stmts: Database.Statement<Cell[]>[];
  /** The rows not written yet, their cells one after another. */
  private readonly cells: Cell[] = [];
  private readonly fullCells: number;

  constructor(
    db: Database.Database,
    /** e.g. `INSERT INTO t (a, b)`; VALUES … is added here. */
    head: string,
    readonly columns: number,
  ) {
    const tuple = `(${Array<string>(columns).fill('?').join(', ')})`;
    this.stmts = SIZES.map((n) => db.prepare<Cell[]>(`${head} VALUES ${Array<string>(n).fill(tuple).join(', ')}`));
    this.fullCells = SIZES[0] * columns;
  }

  /** Rows added and not written yet. */
  get size(): number {
    return this.cells.length / this.columns;
  }

  /**
   * Adds one row (`columns` cells); call inside the write transaction. A full largest
   * statement's worth is written at once, so what waits here stays small.
   */
  add(row: readonly Cell[]): void {
    for (let i = 0; i < row.length; i++) this.cells.push(row[i]!);
    if (this.cells.length === this.fullCells) {
      this.stmts[0]!.run(...this.cells);
      this.cells.length = 0;
    }
  }

  /** Writes the rows still waiting; call inside the write transaction they belong to. */
  write(): void {
    const cells = this.cells;
    let from = 0;
    for (let s = 0; s < SIZES.length && from < cells.length; s++) {
      const n = SIZES[s]! * this.columns;
      for (; from + n <= cells.length; from += n) this.stmts[s]!.run(...(from === 0 && n === cells.length ? cells : cells.slice(from, from + n)));
    }
    cells.length = 0;
  }

  /** Forgets the waiting rows (their transaction or savepoint rolled back). */
  drop(): void {
    this.cells.length = 0;
  }
}
