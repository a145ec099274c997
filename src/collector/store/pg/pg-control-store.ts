// The remote control setting in PostgreSQL, one row shared by every replica. It is
// read again for every batch answer (api/pg-control-refresh.ts), so a setting saved
// through one replica is carried by the next answer of any other. Each save bumps a
// version, so an answer that arrives late never replaces a newer setting.
import type { PgPool } from './pool.js';
import { query } from './tx.js';
import type { ControlStore } from '../../control/remote-control.js';

const KEY = 'control';

export class PgControlStore implements ControlStore {
  private cached: string | undefined;
  private version = 0;

  private constructor(private readonly pool: PgPool) {}

  static async open(pool: PgPool): Promise<PgControlStore> {
    const s = new PgControlStore(pool);
    await s.load();
    return s;
  }

  control(): string | undefined {
    return this.cached;
  }

  /** The newest setting known (JSON text; undefined when never set), after reading it again. */
  async load(): Promise<string | undefined> {
    const r = await query<{ value: string; version: number }>(this.pool, 'SELECT value, version FROM sampling_control WHERE key = $1', [KEY]);
    const row = r[0];
    if (row) this.take(row.value, row.version);
    return this.cached;
  }

  async saveControl(json: string): Promise<void> {
    const r = await query<{ version: number }>(
      this.pool,
      `INSERT INTO sampling_control AS c (key, value, version, changed_ms) VALUES ($1, $2, 1, $3)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = c.version + 1, changed_ms = excluded.changed_ms
       RETURNING version`,
      [KEY, json, Date.now()],
    );
    this.take(json, r[0]!.version);
  }

  private take(json: string, version: number): void {
    if (version < this.version) return;
    this.version = version;
    this.cached = json;
  }
}
