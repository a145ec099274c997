// `shadowmesh collector …` (contract §5).
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfig } from './config.js';
import { DEFAULTS, openCollector } from './server.js';
import { INGEST_THREAD_MODES, type IngestThreadMode } from './ingest/prepare-supervisor.js';
import { isPgUnavailable } from './store/pg/pool.js';
import { describePgUrl, isPostgresUrl } from './store/pg/url.js';
import { describeListenError } from './listen-error.js';
import { SchemaError } from './store/repository.js';
import { collectorLogger, internalErrorFields, loggableDb, LOG_LEVELS, type LogLevel } from './log.js';

function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`must be between ${min} and ${max}`);
    return n;
  };
}

interface CollectorFlags {
  host: string;
  port: number;
  db: string;
  config?: string;
  token?: string;
  readToken?: string;
  joinWindowMs: number;
  maxBodyBytes: number;
  maxPending: number;
  requestTimeoutMs: number;
  maxRoutes: number;
  sync: 'normal' | 'full';
  alertWebhook: string[];
  logLevel: LogLevel;
  ingestThread: IngestThreadMode;
  ingestThreadTimeoutMs: number;
}

function webhookUrl(value: string, previous: string[]): string[] {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new InvalidArgumentError('must be an http:// or https:// URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InvalidArgumentError('must be an http:// or https:// URL');
  return [...previous, value];
}

export function register(program: Command): void {
  program
    .command('collector')
    .description('join, compare and store production/shadow records; serve stats and pairs')
    .option('--host <host>', 'address to listen on', DEFAULTS.host)
    .option('--port <port>', 'port to listen on (0 = any free port)', integer(0, 65535), DEFAULTS.port)
    .option('--db <file|url>', 'SQLite database file, :memory:, or postgres://USER@HOST:PORT/DB (replicas share it)', DEFAULTS.db)
    .option('--config <file>', 'comparison rules and verdict criteria (YAML or JSON)')
    .option('--token <token>', 'bearer token every POST must carry')
    .option('--read-token <token>', 'bearer token GET /v1/* and GET / must carry')
    .option('--join-window-ms <ms>', 'how long a side waits for its partner before it counts as unmatched', integer(1), DEFAULTS.joinWindowMs)
    .option('--max-body-bytes <n>', 'largest accepted request body', integer(1), DEFAULTS.maxBodyBytes)
    .option('--max-pending <n>', 'pending sides kept in memory; more wait in SQLite only', integer(0), DEFAULTS.maxPending)
    .option('--request-timeout-ms <ms>', 'a request (head and body) must arrive within this, else 408', integer(100), DEFAULTS.requestTimeoutMs)
    .option('--max-routes <n>', 'distinct routes kept; a record of a new route beyond this is rejected', integer(1), DEFAULTS.maxRoutes)
    .addOption(new Option('--sync <mode>', 'SQLite synchronous mode: normal survives a process crash, full also a power loss').choices(['normal', 'full']).default('normal'))
    .option('--alert-webhook <url>', 'POST a Slack-compatible message here when a verdict changes (repeatable)', webhookUrl, [])
    .addOption(new Option('--ingest-thread <mode>', 'prepare POST bodies on a second thread (on) or on the main thread (off)').choices(INGEST_THREAD_MODES).default(DEFAULTS.ingestThread))
    // At most setTimeout's largest delay: a longer one would fire at once.
    .option('--ingest-thread-timeout-ms <ms>', 'a prepare thread that owes an answer this long is taken as hung, terminated and replaced', integer(100, 2_147_483_647), DEFAULTS.ingestThreadTimeoutMs)
    .addOption(new Option('--log-level <level>', 'structured log (JSON lines on stderr) from this level up').choices(LOG_LEVELS).default('info'))
    .action(async (flags: CollectorFlags) => {
      const log = collectorLogger(flags.logLevel);
      let config;
      try {
        config = loadConfig(flags.config);
      } catch (err) {
        if (err instanceof ConfigError) {
          log.fatal({ problem: err.message }, 'config problem');
          process.stderr.write(`shadowmesh collector: ${err.message}\n`);
          process.exit(2);
        }
        throw err;
      }
      let collector;
      try {
        collector = await openCollector({
          host: flags.host,
          port: flags.port,
          db: flags.db,
          config,
          token: flags.token,
          readToken: flags.readToken,
          joinWindowMs: flags.joinWindowMs,
          maxBodyBytes: flags.maxBodyBytes,
          maxPending: flags.maxPending,
          requestTimeoutMs: flags.requestTimeoutMs,
          maxRoutes: flags.maxRoutes,
          synchronous: flags.sync,
          alertWebhooks: flags.alertWebhook,
          logger: log,
          ingestThread: flags.ingestThread,
          ingestThreadTimeoutMs: flags.ingestThreadTimeoutMs,
        });
      } catch (err) {
        // A database that cannot be used is a start-up configuration error, like a bad --config.
        const code = (err as { code?: string }).code;
        if (isPostgresUrl(flags.db) && !(err instanceof SchemaError)) {
          // Never the URL itself: it may carry a password.
          const where = describePgUrl(flags.db);
          // PgUnavailableError wraps the driver's error: its own message says what happened.
          const message = ((err as Error).cause instanceof Error ? ((err as Error).cause as Error) : (err as Error)).message;
          if (isPgUnavailable(err)) {
            log.fatal({ problem: message, db: where }, 'PostgreSQL unavailable at start');
            process.stderr.write(`shadowmesh collector: cannot reach PostgreSQL at ${where}: ${message}\n`);
            process.exit(1);
          }
          // Refused login, a database that does not exist, a URL that cannot be read.
          log.fatal({ problem: message, db: where }, 'config problem');
          process.stderr.write(`shadowmesh collector: PostgreSQL at ${where}: ${message}\n`);
          process.exit(2);
        }
        if (err instanceof SchemaError || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_NOTADB') {
          const where = err instanceof SchemaError ? '' : `${flags.db}: `;
          log.fatal({ problem: `${where}${(err as Error).message}`, db: loggableDb(flags.db) }, 'config problem');
          process.stderr.write(`shadowmesh collector: ${where}${(err as Error).message}\n`);
          process.exit(2);
        }
        log.fatal(internalErrorFields(err), 'internal error at start');
        throw err;
      }
      let url: string;
      try {
        url = await collector.listen();
      } catch (err) {
        log.fatal({ problem: (err as Error).message, host: flags.host, port: flags.port }, 'config problem');
        // A taken port is a plain operator mistake: one line, not a stack trace.
        process.stderr.write(`shadowmesh collector: ${describeListenError(err, flags.host, flags.port)}\n`);
        await collector.close().catch(() => {});
        process.exit(1);
      }
      // Handlers first: whoever reads the line below may signal at once.
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'collector stopping');
        collector.close().then(
          () => {
            log.info({ signal }, 'collector stopped');
            process.exit(0);
          },
          (err: unknown) => {
            log.error({ ...internalErrorFields(err), signal }, 'internal error while stopping');
            process.stderr.write(`shadowmesh collector: error while stopping on ${signal}: ${String(err)}\n`);
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      // Never silent: whatever escapes a handler is logged before the process ends.
      process.on('uncaughtException', (err) => {
        log.fatal(internalErrorFields(err), 'internal error');
        process.exit(1);
      });
      log.info({ url, db: loggableDb(flags.db), join_window_ms: flags.joinWindowMs, max_body_bytes: flags.maxBodyBytes, ingest_thread: flags.ingestThread, ingest_thread_timeout_ms: flags.ingestThreadTimeoutMs }, 'collector started');
      process.stdout.write(`listening on ${url}\n`);

    });
}
