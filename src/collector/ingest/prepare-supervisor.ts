// Keeps the prepare thread alive, or does without it. Bodies go to the thread while
// one runs; when it ends (an uncaught error, out of heap, an exit inside it) every
// body it had not answered is prepared again here, on the main thread — nothing of
// them was committed, so the senders get the very answer they would have got — one
// error line is logged, and a new thread is started after a pause that doubles with
// each thread in a row that did not live long or answered no body, so a thread that
// dies (or hangs) at once does not spin. After GIVE_UP_AFTER such threads in a row, or when no thread can be created at
// all, bodies are prepared on the main thread for the rest of the process. A thread that
// hangs without ending (an endless loop) is noticed by a watchdog — one timer for the
// thread, never one per body — once the body it owes an answer for has waited longer
// than `hungAfterMs` (`--ingest-thread-timeout-ms`): the thread is abandoned and
// terminated, and that counts as a loss like any other (cause `hung`). With
// `--ingest-thread off` no thread is ever started. On the main thread a body gets the
// same preparation (prepare-body.ts) minus the early comparison, which the joiner then
// makes itself: the answers and what is stored are the same.
import type { CollectorConfigFile } from '../config.js';
import { internalErrorFields, type CollectorLogger } from '../log.js';
import type { PreparedBatch } from './prepare.js';
import { prepareBodyHere } from './prepare-body.js';
import { TEST_CRASH_HEAP_MB, testCrashPlan } from './prepare-test-crash.js';
import { PrepareThread, type PrepareJob, type ThreadLoss } from './prepare-thread.js';

export type IngestThreadMode = 'on' | 'off';
export const INGEST_THREAD_MODES: readonly IngestThreadMode[] = ['on', 'off'];

export type LossCause = 'exit' | 'uncaught_error' | 'out_of_memory' | 'not_created' | 'hung';
export const LOSS_CAUSES: readonly LossCause[] = ['exit', 'uncaught_error', 'out_of_memory', 'not_created', 'hung'];
export type PreparedWhere = 'thread' | 'main_thread';

/** What the supervisor reports (the collector's /metrics). */
export interface PrepareObserver {
  /** A body was prepared, on the thread or here (bodies refused as not a JSON array are not counted). */
  prepared(where: PreparedWhere): void;
  lost(cause: LossCause): void;
  /** A thread was started again after one was lost. */
  restarted(): void;
  running(up: boolean): void;
}

/** Where POST bodies are prepared (GroupCommitSink's view). */
export interface TextPreparer {
  /** The prepared batch, or a BodyError when the text is not a JSON array (or NDJSON). */
  prepare(text: string, ndjson: boolean): Promise<PreparedBatch>;
  close(): Promise<void>;
}

export interface SupervisorTiming {
  /** Pause before the first restart after a short-lived thread. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** A thread that ended sooner than this after its start (or before it was ready) lived short. */
  shortLifeMs: number;
  /** Short-lived threads in a row after which no new one is started. */
  giveUpAfter: number;
  /** A ready thread that has owed an answer for a body this long is hung (`--ingest-thread-timeout-ms`). */
  hungAfterMs: number;
  /**
   * The same for a thread not ready yet (loading its modules, slower under tsx or on a
   * busy machine); the larger of this and hungAfterMs applies.
   */
  startHungAfterMs: number;
}

export const DEFAULT_TIMING: SupervisorTiming = { firstDelayMs: 100, maxDelayMs: 10_000, shortLifeMs: 10_000, giveUpAfter: 5, hungAfterMs: 10_000, startHungAfterMs: 30_000 };

export interface PrepareSupervisorOptions {
  mode: IngestThreadMode;
  logger: CollectorLogger;
  observer?: PrepareObserver;
  timing?: Partial<SupervisorTiming>;
}

const NO_OBSERVER: PrepareObserver = { prepared() {}, lost() {}, restarted() {}, running() {} };

type State =
  /** No thread yet: the first body starts one. */
  | 'idle'
  | 'thread'
  /** A thread was lost; the next starts when the timer fires. */
  | 'paused'
  /** The main thread prepares every body from now on. */
  | 'main'
  | 'closed';

export class PrepareSupervisor implements TextPreparer {
  private state: State;
  private thread: PrepareThread | null = null;
  private generation = 0;
  private startedAt = 0;
  private shortLives = 0;
  /** Bodies the current thread has answered: one that answered none lived short, however long it took to be lost. */
  private answered = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private readonly timing: SupervisorTiming;
  private readonly observer: PrepareObserver;
  private readonly log: CollectorLogger;
  // Tests only (prepare-test-crash.ts); read here too, so a bad value stops the start with a clear error.
  private readonly testPlan = testCrashPlan();
  private readonly testHeapMb = this.testPlan ? TEST_CRASH_HEAP_MB : undefined;

  constructor(
    private readonly config: CollectorConfigFile,
    o: PrepareSupervisorOptions,
  ) {
    this.state = o.mode === 'off' ? 'main' : 'idle';
    this.timing = { ...DEFAULT_TIMING, ...o.timing };
    this.observer = o.observer ?? NO_OBSERVER;
    this.log = o.logger;
  }

  prepare(text: string, ndjson: boolean): Promise<PreparedBatch> {
    if (this.state === 'closed') return Promise.reject(new Error('collector is closing'));
    if (this.state === 'idle') this.start();
    const thread = this.thread;
    if (!thread) return this.prepareHere(text, ndjson);
    return new Promise((resolve, reject) => thread.prepare({ text, ndjson, resolve, reject }));
  }

  /** Bodies on the thread not yet answered. */
  get inFlight(): number {
    return this.thread?.inFlight ?? 0;
  }

  /** Whether bodies are prepared on a thread now (or will be once one is restarted). */
  get mode(): 'thread' | 'main_thread' {
    return this.state === 'main' ? 'main_thread' : 'thread';
  }

  async close(): Promise<void> {
    this.state = 'closed';
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.unwatch();
    const t = this.thread;
    this.thread = null;
    if (t) await t.terminate();
  }

  private prepareHere(text: string, ndjson: boolean): Promise<PreparedBatch> {
    try {
      const batch = prepareBodyHere(text, ndjson);
      this.observer.prepared('main_thread');
      return Promise.resolve(batch);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private start(): void {
    // Numbers of one generation never reach the next one's (2^32 records apart).
    const generation = ++this.generation;
    this.startedAt = Date.now();
    this.answered = 0;
    let thread: PrepareThread;
    try {
      if (this.testPlan?.at === 'create') throw new Error('test: the prepare thread cannot be created');
      thread = new PrepareThread({
        config: this.config,
        base: generation * 2 ** 32,
        resourceLimits: this.testHeapMb ? { maxOldGenerationSizeMb: this.testHeapMb } : undefined,
        onReady: () => {
          if (this.thread !== thread) return;
          this.observer.running(true);
          // From now on the shorter bound applies: look again in that time, not the start's.
          this.watch(thread);
        },
        onPrepared: () => {
          if (this.thread === thread) this.answered++;
          this.observer.prepared('thread');
        },
        onLost: (loss, jobs) => this.lost(thread, loss, jobs),
      });
    } catch (error) {
      this.thread = null;
      this.state = 'paused';
      this.lost(null, { kind: 'error', error: error as Error, exitCode: null, wasReady: false }, []);
      return;
    }
    this.thread = thread;
    this.state = 'thread';
    this.watch(thread);
  }

  /**
   * (Re)arms the watchdog of the current thread. Each check looks at the one body the
   * thread owes an answer for now and sleeps until that body would be over the bound
   * (or a whole bound while the thread is idle), so a steady stream of bodies costs no
   * timer work at all; only a check that finds it over the bound acts.
   */
  private watch(thread: PrepareThread): void {
    this.unwatch();
    const since = thread.owingSince;
    const bound = thread.isReady ? this.timing.hungAfterMs : Math.max(this.timing.hungAfterMs, this.timing.startHungAfterMs);
    const waited = since === null ? 0 : performance.now() - since;
    if (waited >= bound) {
      this.hung(thread, waited, bound);
      return;
    }
    this.watchdog = setTimeout(() => {
      this.watchdog = null;
      if (this.thread === thread) this.watch(thread);
    }, Math.ceil(bound - waited));
    this.watchdog.unref();
  }

  private unwatch(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = null;
  }

  private hung(thread: PrepareThread, waited: number, bound: number): void {
    // abandon() hands the unanswered bodies back through onLost -> lost() at once, before
    // the thread is terminated: none of its answers can be applied after this.
    thread.abandon({
      kind: 'hung',
      error: new Error(`the prepare thread owed an answer for ${Math.round(waited)} ms (bound ${bound} ms)`),
      exitCode: null,
      wasReady: thread.isReady,
    });
  }

  private lost(thread: PrepareThread | null, loss: ThreadLoss, jobs: PrepareJob[]): void {
    if (this.state === 'closed') {
      for (const j of jobs) j.reject(new Error('collector is closing'));
      return;
    }
    // Nothing of these was committed: prepared here, they get the answer the thread owed them.
    for (const job of jobs) setImmediate(() => this.rerun(job));
    // Each thread ends once, and only the current one can; should an older one report, its bodies are all it has.
    if (thread !== null && thread !== this.thread) return;
    this.thread = null;
    this.unwatch();
    this.observer.running(false);
    const cause = causeOf(thread, loss);
    this.observer.lost(cause);
    const livedMs = Date.now() - this.startedAt;
    // A thread that hangs on its first body each time lives as long as the watchdog's
    // bound, which may exceed shortLifeMs: answering nothing makes it short all the same.
    const short = !loss.wasReady || livedMs < this.timing.shortLifeMs || this.answered === 0;
    this.shortLives = short ? this.shortLives + 1 : 0;
    const giveUp = cause === 'not_created' || this.shortLives >= this.timing.giveUpAfter;
    const delayMs = Math.min(this.timing.maxDelayMs, this.timing.firstDelayMs * 2 ** Math.max(0, this.shortLives - 1));
    this.log.error(
      {
        // An exit says all in its code; an error's message and stack say where it came from;
        // a hang, how long the thread had owed an answer (its stack would be the watchdog's).
        ...(loss.kind === 'error' ? internalErrorFields(loss.error) : {}),
        ...(loss.kind === 'hung' ? { problem: loss.error.message } : {}),
        cause,
        exit_code: loss.exitCode,
        was_ready: loss.wasReady,
        lived_ms: livedMs,
        bodies_answered: this.answered,
        short_lived_in_a_row: this.shortLives,
        bodies_rerun_on_main_thread: jobs.length,
        next: giveUp ? 'main thread from now on' : `new thread in ${delayMs} ms`,
      },
      'prepare thread lost',
    );
    if (giveUp) {
      this.state = 'main';
      return;
    }
    this.state = 'paused';
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.state !== 'paused') return;
      this.observer.restarted();
      this.start();
    }, delayMs);
    this.restartTimer.unref();
  }

  private rerun(job: PrepareJob): void {
    this.prepareHere(job.text, job.ndjson).then(job.resolve, job.reject);
  }
}

function causeOf(thread: PrepareThread | null, loss: ThreadLoss): LossCause {
  if (thread === null) return 'not_created';
  if (loss.kind === 'hung') return 'hung';
  if (loss.kind === 'exit') return 'exit';
  return (loss.error as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'out_of_memory' : 'uncaught_error';
}
