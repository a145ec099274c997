// Verdict decisions in PostgreSQL, shared by every replica. Each replica evaluates
// the verdict on its own view; a change is written with one conditional upsert, so
// when several replicas see the same change at once exactly one row comes back and
// only that replica sends the alert. `basis` says how much data the verdict was
// computed from (it only grows while the replicas follow the same feed): a replica
// that lags behind cannot undo a decision taken on more data than it has seen.
import type { PgPool } from './pool.js';
import { query } from './tx.js';
import type { StoredDecision } from '../decision-store.js';
import type { Decision } from '../../verdict/decide.js';
import type { DecisionChange, DecisionSink, VerdictKeeper } from '../../verdict/verdict-keeper.js';

interface Row {
  scope: string;
  decision: string;
  verdict: string;
  changed_ms: number;
}

export class PgDecisionStore implements DecisionSink {
  private loaded: StoredDecision[] = [];
  private keeper: VerdictKeeper | null = null;
  private timer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly pool: PgPool,
    private readonly basis: () => bigint,
  ) {}

  static async open(pool: PgPool, basis: () => bigint): Promise<PgDecisionStore> {
    const s = new PgDecisionStore(pool, basis);
    s.loaded = await s.read();
    return s;
  }

  /** The decisions kept when the store was opened (what a keeper starts from). */
  decisions(): StoredDecision[] {
    return this.loaded;
  }

  async change(d: StoredDecision, _before: string | null): Promise<DecisionChange> {
    const made = await query<{ previous: string | null }>(
      this.pool,
      `INSERT INTO verdict_decisions AS d (scope, decision, previous, verdict, changed_ms, basis) VALUES ($1, $2, NULL, $3, $4, $5::bigint)
       ON CONFLICT (scope) DO UPDATE SET previous = d.decision, decision = excluded.decision, verdict = excluded.verdict,
         changed_ms = excluded.changed_ms, basis = excluded.basis
       WHERE d.decision IS DISTINCT FROM excluded.decision AND d.basis <= excluded.basis
       RETURNING previous`,
      [d.scope, d.decision, d.verdict, d.changedMs, this.basis().toString()],
    );
    const row = made[0];
    if (row) return { made: true, previous: row.previous };
    const now = await query<Row>(this.pool, 'SELECT scope, decision, verdict, changed_ms FROM verdict_decisions WHERE scope = $1', [d.scope]);
    const cur = now[0];
    return cur ? { made: false, current: { decision: cur.decision, changedMs: Number(cur.changed_ms) } } : { made: false };
  }

  /** Keeps the keeper's last decisions equal to the shared ones (for /metrics and the dashboard). */
  follow(keeper: VerdictKeeper, pollMs = 1000): void {
    this.keeper = keeper;
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.sync().catch(() => undefined);
    }, pollMs);
    this.timer.unref();
  }

  /** Reads the shared decisions now and hands them to the keeper. */
  async sync(): Promise<void> {
    const rows = await this.read();
    for (const d of rows) this.keeper?.adopt(d.scope, d.decision as Decision, d.changedMs);
  }

  private async read(): Promise<StoredDecision[]> {
    const r = await query<Row>(this.pool, 'SELECT scope, decision, verdict, changed_ms FROM verdict_decisions');
    return r.map((x) => ({ scope: x.scope, decision: x.decision, verdict: x.verdict, changedMs: Number(x.changed_ms) }));
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
