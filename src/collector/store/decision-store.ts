// The last verdict per scope (a route, or "*" for all routes together) and the
// remote control setting: small, rarely written, kept across restarts.
import type Database from 'better-sqlite3';

export interface StoredDecision {
  scope: string;
  decision: string;
  verdict: string;
  changedMs: number;
}

const CONTROL_KEY = 'control';

export class DecisionStore {
  private readonly stmt;

  constructor(db: Database.Database) {
    this.stmt = {
      upsert: db.prepare(
        `INSERT INTO decisions (scope, decision, verdict, changed_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (scope) DO UPDATE SET decision = excluded.decision, verdict = excluded.verdict, changed_ms = excluded.changed_ms`,
      ),
      all: db.prepare<[], StoredDecision>('SELECT scope, decision, verdict, changed_ms AS changedMs FROM decisions'),
      getMeta: db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck(),
      setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    };
  }

  saveDecision(d: StoredDecision): void {
    this.stmt.upsert.run(d.scope, d.decision, d.verdict, d.changedMs);
  }

  /** One collector per SQLite file: every change is its own. */
  change(d: StoredDecision, before: string | null): { made: true; previous: string | null } {
    this.saveDecision(d);
    return { made: true, previous: before };
  }

  decisions(): StoredDecision[] {
    return this.stmt.all.all();
  }

  /** The control object as JSON text, or undefined when never set. */
  control(): string | undefined {
    return this.stmt.getMeta.get(CONTROL_KEY);
  }

  saveControl(json: string): void {
    this.stmt.setMeta.run(CONTROL_KEY, json);
  }
}
