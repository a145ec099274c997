// A throw-away PostgreSQL cluster for tests and benches: initdb into a temporary
// directory, pg_ctl start on a free loopback port, dropped again by stop().
// PostgreSQL refuses to run as root, so as root the server runs as the `postgres`
// account (Debian's package creates it) with the directory handed over to it.
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PgCluster {
  /** postgres://shadowmesh@127.0.0.1:PORT/DB (trust authentication, loopback only). */
  url(db?: string): string;
  port: number;
  dir: string;
  createDatabase(name: string): Promise<string>;
  /** Stops the server (fast shutdown) and keeps the data: start() brings it back. */
  stopServer(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and deletes the cluster. */
  stop(): Promise<void>;
}

export interface PgClusterOptions {
  /** fsync off is fine for tests that never crash the machine; benches keep it on. */
  fsync?: boolean;
  maxConnections?: number;
  /** More server settings (-c name=value), e.g. for a bench's profile. */
  settings?: Record<string, string>;
  /**
   * The cluster's default collation from ICU (e.g. 'en-US'), as on a server set up
   * with a language locale, instead of C. Text comparisons then cost what they cost
   * on such a server.
   */
  icuLocale?: string;
}

const USER = 'shadowmesh';

/** The directory of initdb and pg_ctl, or null when PostgreSQL is not installed. */
export function pgBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length > 0) return join(root, versions[0]!, 'bin');
  }
  for (const d of (process.env.PATH ?? '').split(':')) if (d && existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl'))) return d;
  return null;
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** Why a cluster cannot be started here, or null when it can (tests skip with this message). */
export function pgUnavailable(): string | null {
  if (!pgBinDir()) return 'PostgreSQL is not installed (no initdb): install Debian\'s postgresql to run these tests';
  if (isRoot() && !existsSync('/usr/sbin/runuser')) return 'running as root without runuser: PostgreSQL cannot be started';
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function pgRun(bin: string, args: string[]): Promise<void> {
  const [cmd, argv] = isRoot() ? ['/usr/sbin/runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  await run(cmd, argv, { timeout: 120_000 });
}

export async function startPgCluster(opts: PgClusterOptions = {}): Promise<PgCluster> {
  const why = pgUnavailable();
  if (why) throw new Error(why);
  const bin = pgBinDir()!;
  const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-pg-'));
  if (isRoot()) {
    const { uid, gid } = await postgresIds();
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  await pgRun(join(bin, 'initdb'), ['-D', data, '-U', USER, '--auth=trust', '-E', 'UTF8', '--locale=C', ...(opts.icuLocale ? ['--locale-provider=icu', `--icu-locale=${opts.icuLocale}`] : []), '--no-sync']);
  const port = await freePort();
  const serverOpts = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses='127.0.0.1'",
    `-c fsync=${opts.fsync === false ? 'off' : 'on'}`,
    `-c max_connections=${opts.maxConnections ?? 100}`,
    ...Object.entries(opts.settings ?? {}).map(([k, v]) => `-c ${k}=${v}`),
  ].join(' ');
  const start = async (): Promise<void> => {
    await pgRun(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-o', serverOpts, '-w', '-t', '60', 'start']);
  };
  const stopServer = async (): Promise<void> => {
    await pgRun(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
  };
  await start();
  const url = (db = 'postgres'): string => `postgres://${USER}@127.0.0.1:${port}/${db}`;
  let running = true;
  return {
    url,
    port,
    dir,
    async createDatabase(name: string): Promise<string> {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      await pgRun(join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', USER, '-d', 'postgres', '-q', '-c', `CREATE DATABASE ${name}`]);
      return url(name);
    },
    async stopServer() {
      await stopServer();
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async stop() {
      if (running) await stopServer().catch(() => undefined);
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const { stdout } = await run('id', ['postgres']);
  const uid = /uid=(\d+)/.exec(stdout);
  const gid = /gid=(\d+)/.exec(stdout);
  if (!uid || !gid) throw new Error('no postgres account: install Debian\'s postgresql');
  return { uid: Number(uid[1]), gid: Number(gid[1]) };
}
