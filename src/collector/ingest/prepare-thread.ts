// The main thread's handle on the prepare thread (prepare-thread-main.ts). Bodies go
// over as strings (copied once, no object graph to clone); prepared batches come
// back as flat records whose only large field is the stored JSON text. Answers
// arrive in request order. If the thread dies, what it held is answered with an
// error (the senders retry) and the next body starts a new one.
import { Worker } from 'node:worker_threads';
import type { CollectorConfigFile } from '../config.js';
import { BodyError } from './body.js';
import type { PreparedBatch } from './prepare.js';

export interface PrepareRequest {
  n: number;
  text: string;
  ndjson: boolean;
}

export type PrepareReply =
  | { n: number; batch: PreparedBatch }
  | { n: number; bodyError: string }
  | { n: number; failure: string };

type Waiting = { resolve: (b: PreparedBatch) => void; reject: (e: Error) => void; generation: number };

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
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, Waiting>();
  private next = 0;
  private generation = 0;
  private closed = false;

  constructor(private readonly config: CollectorConfigFile) {}

  /** The prepared batch, or a BodyError when the text is not a JSON array (or NDJSON). */
  prepare(text: string, ndjson: boolean): Promise<PreparedBatch> {
    if (this.closed) return Promise.reject(new Error('collector is closing'));
    const worker = this.worker ?? this.start();
    const n = ++this.next;
    const generation = this.generation;
    return new Promise((resolve, reject) => {
      this.waiting.set(n, { resolve, reject, generation });
      worker.postMessage({ n, text, ndjson } satisfies PrepareRequest);
    });
  }

  /** Bodies sent and not yet answered. */
  get inFlight(): number {
    return this.waiting.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
    this.failAll(new Error('collector is closing'), null);
  }

  private start(): Worker {
    // Numbers of one generation never reach the next one's (2^32 records apart).
    const generation = ++this.generation;
    const base = generation * 2 ** 32;
    const entry = new URL(fromSource ? './prepare-thread-main.ts' : './prepare-thread-main.js', import.meta.url).href;
    const tsx = fromSource ? import.meta.resolve('tsx/esm/api') : null;
    const worker = new Worker(BOOT, {
      eval: true,
      workerData: { entry, tsx, config: this.config, base },
      // As the main thread's stack: a record nesting too deeply to serialise there is
      // too deep here as well, so the answer does not depend on the thread.
      resourceLimits: { stackSizeMb: 1 },
    });
    worker.on('message', (m: PrepareReply | { ready: true }) => {
      if ('ready' in m) return;
      const w = this.waiting.get(m.n);
      if (!w) return;
      this.waiting.delete(m.n);
      if ('batch' in m) w.resolve(m.batch);
      else if ('bodyError' in m) w.reject(new BodyError(m.bodyError));
      else w.reject(new Error(`prepare thread: ${m.failure}`));
    });
    const lost = (err: Error): void => {
      if (this.worker === worker) this.worker = null;
      this.failAll(err, generation);
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`prepare thread stopped (exit code ${code})`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /** Rejects what a lost thread (or, with null, every thread) still held. */
  private failAll(err: Error, generation: number | null): void {
    for (const [n, w] of this.waiting) {
      if (generation !== null && w.generation !== generation) continue;
      this.waiting.delete(n);
      w.reject(err);
    }
  }
}
