// One prepare thread (prepare-thread-main.ts), as the main thread holds it. Bodies go
// over as strings (copied once, no object graph to clone); prepared batches come
// back as columns (prepared-wire.ts) whose only large field is the stored texts. Answers
// arrive in request order. When the thread ends, for whatever reason, the jobs it still
// held go back, unanswered, to whoever started it (prepare-supervisor.ts), which
// decides what becomes of them and of the thread. The thread also says since when it
// has owed an answer (`owingSince`), so that the supervisor can notice one that hangs
// and abandon it: from then on nothing it sends is applied.
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { CollectorConfigFile } from '../config.js';
import { BodyError } from './body.js';
import type { PreparedBatch } from './prepare.js';
import { fromWire, type WireBatch } from './prepared-wire.js';

export interface PrepareRequest {
  n: number;
  text: string;
  ndjson: boolean;
}

export type PrepareReply =
  | { n: number; batch: WireBatch }
  | { n: number; bodyError: string }
  | { n: number; failure: string };

/** A body to prepare, and how to answer it. */
export interface PrepareJob {
  text: string;
  ndjson: boolean;
  resolve: (b: PreparedBatch) => void;
  reject: (e: Error) => void;
}

/** How a thread ended. */
export interface ThreadLoss {
  /**
   * `error`: it threw (uncaught) or ran out of heap; `exit`: it exited (process.exit, or
   * after an error); `hung`: it was abandoned (abandon()) for answering nothing too long.
   */
  kind: 'error' | 'exit' | 'hung';
  /** The error it ended with, `exit code N`, or what the hang was. */
  error: Error;
  exitCode: number | null;
  /** Whether it had said it was ready (its modules loaded) before it ended. */
  wasReady: boolean;
}

export interface PrepareThreadOptions {
  config: CollectorConfigFile;
  /** The thread numbers the sides it sees from just above this (prepare.ts `wseq`). */
  base: number;
  resourceLimits?: ResourceLimits;
  onReady: () => void;
  /** A body was prepared here (not counted: bodies refused as not a JSON array). */
  onPrepared: () => void;
  /** Called once, when the thread has ended, with the jobs it had not answered. */
  onLost: (loss: ThreadLoss, unanswered: PrepareJob[]) => void;
}

// Under tsx (tests, benches) the thread loads the TypeScript sources through tsx's
// loader, which a worker does not inherit; built, it loads the compiled file.
const fromSource = import.meta.url.endsWith('.ts');
const BOOT = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})();
`;

export class PrepareThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, PrepareJob>();
  private next = 0;
  private ready = false;
  private ended = false;
  // When the thread took up the body it owes an answer for now: its previous answer, its
  // being ready, or the body's arrival at an idle thread (performance.now()). One clock
  // read per answer; a backlog behind a thread that answers steadily never looks hung.
  private busySince = 0;

  /** Starts the thread; throws when node cannot create it at all. */
  constructor(private readonly o: PrepareThreadOptions) {
    const entry = new URL(fromSource ? './prepare-thread-main.ts' : './prepare-thread-main.js', import.meta.url).href;
    const tsx = fromSource ? import.meta.resolve('tsx/esm/api') : null;
    this.worker = new Worker(BOOT, {
      eval: true,
      workerData: { entry, tsx, config: o.config, base: o.base },
      // As the main thread's stack: a record nesting too deeply to serialise there is
      // too deep here as well, so the answer does not depend on the thread.
      resourceLimits: { stackSizeMb: 1, ...o.resourceLimits },
    });
    this.worker.on('message', (m: PrepareReply | { ready: true }) => {
      // Abandoned (hung): an answer it sends late is never applied, its body is prepared elsewhere.
      if (this.ended) return;
      if ('ready' in m) {
        this.ready = true;
        this.busySince = performance.now();
        this.o.onReady();
        return;
      }
      const job = this.waiting.get(m.n);
      if (!job) return;
      this.waiting.delete(m.n);
      this.busySince = performance.now();
      if ('batch' in m) {
        this.o.onPrepared();
        job.resolve(fromWire(m.batch));
      }
      else if ('bodyError' in m) job.reject(new BodyError(m.bodyError));
      else job.reject(new Error(`prepare thread: ${m.failure}`));
    });
    // An uncaught error (out of heap included) comes as 'error' and then 'exit'; the
    // first one says why.
    this.worker.on('error', (error) => this.end({ kind: 'error', error, exitCode: null, wasReady: this.ready }));
    this.worker.on('exit', (exitCode) => this.end({ kind: 'exit', error: new Error(`exit code ${exitCode}`), exitCode, wasReady: this.ready }));
    this.worker.unref();
  }

  prepare(job: PrepareJob): void {
    const n = ++this.next;
    if (this.waiting.size === 0) this.busySince = performance.now();
    this.waiting.set(n, job);
    this.worker.postMessage({ n, text: job.text, ndjson: job.ndjson } satisfies PrepareRequest);
  }

  /** Bodies sent and not yet answered. */
  get inFlight(): number {
    return this.waiting.size;
  }

  /** Whether it has said it is ready (its modules loaded). */
  get isReady(): boolean {
    return this.ready;
  }

  /**
   * Since when (performance.now()) the oldest body it holds has waited for it to answer:
   * since the thread's previous answer, since it became ready, or since that body came to
   * an idle thread, whichever is latest. Null while it holds none.
   */
  get owingSince(): number | null {
    return this.waiting.size === 0 ? null : this.busySince;
  }

  /**
   * Gives the thread up as hung: its unanswered jobs go back through onLost at once (the
   * loss as given), whatever it answers later is dropped, and it is terminated.
   */
  abandon(loss: ThreadLoss): void {
    this.end(loss);
    // Terminating interrupts even a busy loop; its 'exit' then finds the thread ended.
    this.worker.terminate().catch(() => {});
  }

  /** Stops the thread; what it held is handed back through onLost like any other end. */
  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  private end(loss: ThreadLoss): void {
    if (this.ended) return;
    this.ended = true;
    const unanswered = [...this.waiting.values()];
    this.waiting.clear();
    this.o.onLost(loss, unanswered);
  }
}
