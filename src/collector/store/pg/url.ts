// Which --db values put the collector on PostgreSQL (contract §5, 1.1).
export const isPostgresUrl = (db: string): boolean => /^postgres(ql)?:\/\//i.test(db);

/** host:port/db of a PostgreSQL URL, for messages: never the user's password. */
export function describePgUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'the --db URL';
  }
}
