// What the PostgreSQL server saw during one measured run, for the bench's profile:
// - statements and their execution time (pg_stat_statements, reset before the run),
//   so round trips per batch and the time spent waiting in the advisory locks and in
//   COMMIT (the WAL flush) are counted by the server itself;
// - WAL flushes and their time (pg_stat_wal, track_wal_io_timing on);
// - what the collector's connections were doing, sampled from pg_stat_activity every
//   few ms: running, waiting on a lock, flushing WAL, or idle waiting for the client
//   (the collector process): the last one says "latency- or client-bound".
import pg from 'pg';

/** Server settings the profile needs (the cluster must be started with them). */
export const PROFILE_SETTINGS: Record<string, string> = {
  shared_preload_libraries: 'pg_stat_statements',
  'pg_stat_statements.track_utility': 'on',
  track_wal_io_timing: 'on',
};

export interface StatementRow {
  query: string;
  calls: number;
  ms: number;
}

export interface ServerProfile {
  statements: StatementRow[];
  walSyncs: number;
  walSyncMs: number;
  /** pg_stat_activity samples of the collector's connections, by state/wait event. */
  activity: Map<string, number>;
  samples: number;
}

export class ServerProfiler {
  private sampler: NodeJS.Timeout | null = null;
  private readonly activity = new Map<string, number>();
  private samples = 0;
  private busy = false;

  private constructor(
    private readonly client: pg.Client,
    private readonly db: string,
  ) {}

  static async open(url: string): Promise<ServerProfiler> {
    const client = new pg.Client({ connectionString: url, application_name: 'bench-profiler' });
    await client.connect();
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    const db = (await client.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
    return new ServerProfiler(client, db);
  }

  async start(sampleMs = 10): Promise<void> {
    await this.client.query('SELECT pg_stat_statements_reset()');
    await this.client.query("SELECT pg_stat_reset_shared('wal')");
    this.sampler = setInterval(() => void this.sample(), sampleMs);
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const r = await this.client.query<{ state: string | null; wait: string | null }>(
        `SELECT state, CASE WHEN wait_event IS NULL THEN NULL ELSE wait_event_type || ':' || wait_event END AS wait
         FROM pg_stat_activity WHERE datname = $1 AND application_name = 'shadowmesh-collector'`,
        [this.db],
      );
      this.samples++;
      for (const row of r.rows) {
        const key =
          row.state === 'active'
            ? row.wait === null
              ? 'active: running'
              : `active: ${row.wait}`
            : row.state === 'idle in transaction'
              ? 'idle in transaction (waiting for the collector)'
              : `${row.state ?? '?'} (between transactions)`;
        this.activity.set(key, (this.activity.get(key) ?? 0) + 1);
      }
    } finally {
      this.busy = false;
    }
  }

  async stop(): Promise<ServerProfile> {
    if (this.sampler) clearInterval(this.sampler);
    while (this.busy) await new Promise((r) => setTimeout(r, 5));
    const st = await this.client.query<{ query: string; calls: string; ms: number }>(
      `SELECT s.query, s.calls::text AS calls, s.total_exec_time AS ms FROM pg_stat_statements s
       JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.userid
       WHERE d.datname = $1 ORDER BY s.total_exec_time DESC`,
      [this.db],
    );
    const wal = (await this.client.query<{ n: string; ms: number }>('SELECT wal_sync::text AS n, wal_sync_time AS ms FROM pg_stat_wal')).rows[0]!;
    // The profiler's own statements are not the collector's.
    const statements = st.rows
      .filter((r) => !/pg_stat_activity|pg_stat_statements|pg_stat_wal|pg_stat_reset/.test(r.query))
      .map((r) => ({ query: r.query.replace(/\s+/g, ' ').trim(), calls: Number(r.calls), ms: r.ms }));
    return { statements, walSyncs: Number(wal.n), walSyncMs: wal.ms, activity: new Map(this.activity), samples: this.samples };
  }

  async close(): Promise<void> {
    if (this.sampler) clearInterval(this.sampler);
    await this.client.end();
  }
}
