// Wires the collector together: SQLite repository → joiner → HTTP routes, or, for a
// postgres:// database, the PostgreSQL store → change feed → the same HTTP routes.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { CollectorConfig } from './config.js';
import { registerAuthHooks } from './api/auth-hooks.js';
import { registerEarlyAnswerDrain } from './api/early-answer.js';
import { registerHealthRoutes } from './api/health.js';
import { registerMetricsRoutes } from './api/metrics.js';
import { registerDashboardRoutes } from './dashboard/dashboard-routes.js';
import { registerPairRoutes } from './api/pairs.js';
import { registerRecordRoutes } from './api/records.js';
import { attachDecisionFeatures } from './decision-features.js';
import type { StatsBuilder } from './stats/stats-builder.js';
import type { RemoteControl } from './control/remote-control.js';
import type { VerdictKeeper } from './verdict/verdict-keeper.js';
import { DEFAULT_MAX_ROUTES } from './ingest/route-cap.js';
import { GroupCommitSink } from './ingest/group-commit-sink.js';
import { PrepareSupervisor, type IngestThreadMode } from './ingest/prepare-supervisor.js';
import { Joiner } from './join/joiner.js';
import { CollectorMetrics } from './metrics/collector-metrics.js';
import { PrepareThreadMetrics } from './metrics/prepare-thread-metrics.js';
import { scrapeState } from './metrics/scrape-state.js';
import { Repository, type Synchronous } from './store/repository.js';
import { sqliteReadStore } from './store/read-store.js';
import { PgUnavailableError } from './store/pg/pool.js';
import { PgStore } from './store/pg/pg-store.js';
import { isPostgresUrl } from './store/pg/url.js';
import { attachPgDecisionFeatures, pgDecisionParts } from './store/pg/pg-decision-features.js';
import { internalErrorFields, silentLogger, type CollectorLogger } from './log.js';

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 8700,
  db: './.shadowmesh/collector.db',
  joinWindowMs: 30_000,
  maxBodyBytes: 8 * 1024 * 1024,
  maxPending: 100_000,
  maxRoutes: DEFAULT_MAX_ROUTES,
  synchronous: 'normal' as Synchronous,
  requestTimeoutMs: 30_000,
  ingestThread: 'on' as IngestThreadMode,
  ingestThreadTimeoutMs: 10_000,
};

export interface CollectorOptions {
  host?: string;
  port?: number;
  db?: string;
  config?: CollectorConfig;
  token?: string;
  readToken?: string;
  joinWindowMs?: number;
  maxBodyBytes?: number;
  maxPending?: number;
  maxRoutes?: number;
  synchronous?: Synchronous;
  /** A whole request (head and body) must arrive within this, else 408: slow senders cannot hold connections. */
  requestTimeoutMs?: number;
  /** POSTed on every decision change (contract §3.1). */
  alertWebhooks?: string[];
  /** Structured log (internal errors with the request id); silent when absent. */
  logger?: CollectorLogger;
  /** `off`: prepare POST bodies on the main thread, no prepare thread (either store). */
  ingestThread?: IngestThreadMode;
  /** A prepare thread that has owed an answer for a body this long is taken as hung, terminated and replaced. */
  ingestThreadTimeoutMs?: number;
}

export interface Collector {
  app: FastifyInstance;
  repo: Repository;
  joiner: Joiner;
  /** Builds S (GET /v1/stats) with noise, join rate and feedback. */
  stats: StatsBuilder;
  /** verdict(route?) → the current verdict; webhookFailures; lastDecisions(). */
  verdicts: VerdictKeeper;
  /** `control.current`: what POST /v1/records answers carry. */
  control: RemoteControl;
  metrics: CollectorMetrics;
  /** Listens and answers the base URL, e.g. http://127.0.0.1:8700. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export function createCollector(options: CollectorOptions = {}): Collector {
  const o = { ...DEFAULTS, ...stripUndefined(options) };
  const config = options.config ?? new CollectorConfig();
  const log = options.logger ?? silentLogger();
  const repo = new Repository(o.db, o.synchronous, undefined, { onError: (err) => log.error({ ...internalErrorFields(err) }, 'checkpoint problem') });
  const metrics: CollectorMetrics = new CollectorMetrics({ scrape: () => scrapeState({ joiner, stats: decisions.stats, verdicts: decisions.verdicts, control: decisions.control }) });
  const joiner = new Joiner(repo, config, { joinWindowMs: o.joinWindowMs, maxPending: o.maxPending, maxRoutes: o.maxRoutes, sides: metrics.latency });

  const app = buildApp(o, options.logger);
  registerEarlyAnswerDrain(app);
  registerAuthHooks(app, { token: o.token, readToken: o.readToken });
  registerHealthRoutes(app, joiner);
  const preparer = bodyPreparer(config, o, options.logger, metrics);
  const sink = new GroupCommitSink(joiner, preparer);
  registerRecordRoutes(app, sink);
  const decisions = attachDecisionFeatures(app, repo, joiner, config, { token: o.token, alertWebhooks: options.alertWebhooks });
  registerPairRoutes(app, sqliteReadStore(repo));
  registerMetricsRoutes(app, metrics);
  registerDashboardRoutes(app, { readToken: o.readToken });

  // Ends windows even when nobody ingests or asks, to free the pending cache.
  const ticker = setInterval(() => joiner.tick(), 1000);
  ticker.unref();

  let closed = false;
  return {
    app,
    repo,
    joiner,
    stats: decisions.stats,
    verdicts: decisions.verdicts,
    control: decisions.control,
    metrics,
    listen: () => listenOn(app, o.host, o.port),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(ticker);
      decisions.close();
      await app.close();
      await sink.close();
      await repo.close();
    },
  };
}

/** A collector on PostgreSQL: one of any number of replicas sharing one database. */
export interface PgCollector {
  app: FastifyInstance;
  store: PgStore;
  stats: StatsBuilder;
  verdicts: VerdictKeeper;
  control: RemoteControl;
  metrics: CollectorMetrics;
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** What the CLI runs: a SQLite collector, or a PostgreSQL one for a postgres:// --db. */
export async function openCollector(options: CollectorOptions = {}): Promise<Collector | PgCollector> {
  const db = options.db;
  return db !== undefined && isPostgresUrl(db) ? openPgCollector({ ...options, db }) : createCollector(options);
}

// Reads that must show what other replicas committed before the request came in.
const FOLLOWING_READS = /^\/(v1\/(stats|pairs|verdict)|metrics)(\/|\?|$)/;

/**
 * Connects to PostgreSQL, creates or checks the schema (SchemaError on another
 * version), applies what is stored, and wires the same routes as createCollector.
 */
export async function openPgCollector(options: CollectorOptions & { db: string }): Promise<PgCollector> {
  const o = { ...DEFAULTS, ...stripUndefined(options) };
  const config = options.config ?? new CollectorConfig();
  const metrics: CollectorMetrics = new CollectorMetrics({
    scrape: () => scrapeState({ joiner: store.join, stats: decisions.stats, verdicts: decisions.verdicts, control: decisions.control }),
  });
  const parts = pgDecisionParts(config);
  const store = await PgStore.open(o.db, config, {
    joinWindowMs: o.joinWindowMs,
    maxRoutes: o.maxRoutes,
    sides: metrics.latency,
    parts,
    logger: options.logger,
    preparer: bodyPreparer(config, o, options.logger, metrics),
  });
  const app = buildApp(o, options.logger);
  registerEarlyAnswerDrain(app);
  registerAuthHooks(app, { token: o.token, readToken: o.readToken });
  app.addHook('preHandler', async (req) => {
    if (req.method === 'GET' && FOLLOWING_READS.test(req.url)) await store.sync();
  });
  registerHealthRoutes(app, store.join);
  registerRecordRoutes(app, store.records);
  const decisions = await attachPgDecisionFeatures(app, store, parts, config, { token: o.token, alertWebhooks: options.alertWebhooks }).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  registerPairRoutes(app, store.reader);
  registerMetricsRoutes(app, metrics);
  registerDashboardRoutes(app, { readToken: o.readToken });
  const ticker = setInterval(() => store.join.tick(), 1000);
  ticker.unref();

  let closed = false;
  return {
    app,
    store,
    stats: decisions.stats,
    verdicts: decisions.verdicts,
    control: decisions.control,
    metrics,
    listen: () => listenOn(app, o.host, o.port),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(ticker);
      decisions.close();
      await app.close();
      await store.close();
    },
  };
}

/** Where POST bodies are prepared: the prepare thread, looked after, or the main thread (--ingest-thread off). */
function bodyPreparer(
  config: CollectorConfig,
  o: Pick<typeof DEFAULTS, 'ingestThread' | 'ingestThreadTimeoutMs'>,
  logger: CollectorLogger | undefined,
  metrics: CollectorMetrics,
): PrepareSupervisor {
  const preparer: PrepareSupervisor = new PrepareSupervisor(config.file, {
    mode: o.ingestThread,
    timing: { hungAfterMs: o.ingestThreadTimeoutMs },
    logger: logger ?? silentLogger(),
    observer: new PrepareThreadMetrics(metrics.registry, () => preparer.inFlight),
  });
  return preparer;
}

async function listenOn(app: FastifyInstance, host: string, port: number): Promise<string> {
  await app.listen({ host, port });
  const addr = app.server.address() as AddressInfo;
  return `http://${addr.family === 'IPv6' ? `[${host}]` : host}:${addr.port}`;
}

/** The Fastify app with the collector's parsing, error answers and limits (either store). */
function buildApp(o: typeof DEFAULTS, logger: CollectorLogger | undefined): FastifyInstance {
  const app = Fastify({
    // Typed as Fastify's logger so the app keeps its default type; a pino logger is one.
    loggerInstance: fastifyLogger(logger) as FastifyBaseLogger,
    // One line per request would drown the lines that matter (and could leak paths).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: o.maxBodyBytes,
    return503OnClosing: true,
    requestTimeout: o.requestTimeoutMs,
    // Node checks the timeout on this interval (30 s by default): a tenth of the timeout keeps it close.
    http: { connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(o.requestTimeoutMs / 10))), headersTimeout: o.requestTimeoutMs },
  });
  // Bodies arrive as text; the ingest layer parses them (JSON array or NDJSON)
  // so that it can answer per record.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err: { statusCode?: number; message: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    // Never silent: the answer says what failed, the log says where (with the request id).
    if (status === 503 && err instanceof PgUnavailableError) req.log.warn({ problem: err.message, method: req.method, route: req.routeOptions.url }, 'database unavailable');
    else if (status >= 500) req.log.error({ ...internalErrorFields(err), method: req.method, route: req.routeOptions.url }, 'internal error');
    const message = status === 413 ? `body larger than ${o.maxBodyBytes} bytes` : err.message;
    // The request id finds the log line that says more.
    void reply.code(status).send(status >= 500 ? { error: message, request_id: req.id } : { error: message });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?', 1)[0]}` });
  });

  return app;
}

/** Fastify logs only warnings and errors: the start and stop lines are the CLI's own. */
function fastifyLogger(logger: CollectorLogger | undefined): CollectorLogger {
  if (!logger) return silentLogger();
  return logger.levelVal < logger.levels.values.warn! ? logger.child({}, { level: 'warn' }) : logger;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
