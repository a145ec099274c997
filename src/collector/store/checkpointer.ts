// Moves WAL pages into the database file on a worker thread with its own
// connection, so the ingest thread never waits for the checkpoint's writes and
// fsyncs (the main connection's auto-checkpoint is switched off). A PASSIVE
// checkpoint never blocks writers.
//
// SQLite writes the WAL from its start again only when a write transaction begins
// with every frame already copied into the database file. Under steady ingestion
// that never happened: each pass here copies what was in the WAL when it started,
// and the writer appends more meanwhile. The WAL then grew to the main connection's
// auto-checkpoint (50,000 pages, ~200 MB), every commit went to fresh file blocks
// (which ext4 zeroes before writing: ~9 % of the ingest thread in a bench run), and
// the page cache held all of it. So this thread copies in passes until one finds
// nothing new, and once the WAL is past `restartAtFrames` it asks the ingest thread
// (restartWanted) to copy the last few frames itself before its next transaction:
// that transaction then starts the WAL over, and the file's blocks are reused.
import { Worker } from 'node:worker_threads';
import { nameThisThreadSource } from '../thread-name.js';
const WORKER_SOURCE = `
${nameThisThreadSource('sm-checkpoint')}
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
let timer = null;
const run = () => {
  try {
    // Until a pass finds no frame the previous one did not see (or the WAL started over).
    let last = -1;
    for (let pass = 0; pass < 8; pass++) {
      const [r] = db.pragma('wal_checkpoint(PASSIVE)');
      if (r.busy || r.log <= last) break;
      last = r.log;
    }
    if (last >= workerData.restartAtFrames) parentPort.postMessage('restart');
  } catch (err) { parentPort.postMessage({ error: String(err) }); }
};
timer = setInterval(run, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'stop') { clearInterval(timer); run(); db.close(); parentPort.postMessage('stopped'); }
});
`;

export class Checkpointer {
  private readonly worker: Worker;
  private stopped: Promise<void> | null = null;
  /** The WAL is long and nearly all copied: the writer should copy the rest before its next transaction (see the top). */
  restartWanted = false;
  /** Why the thread ended, when it ended by failing. */
  failed: Error | null = null;

  constructor(
    file: string,
    sqliteModulePath: string,
    intervalMs = 200,
    /** 4,096 frames of 4 KiB pages: ~16 MiB of WAL. */
    restartAtFrames = 4096,
    /** Hears a failed checkpoint, or the thread's end by an error (the collector logs it). */
    onError: (err: Error) => void = (err) => process.stderr.write(`shadowmesh collector: checkpoint failed: ${err.message}\n`),
  ) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, sqlite: sqliteModulePath, intervalMs, restartAtFrames } });
    this.worker.on('message', (m: unknown) => {
      if (m === 'restart') this.restartWanted = true;
      else if (m && typeof m === 'object' && 'error' in m) onError(new Error(`checkpoint failed: ${String((m as { error: unknown }).error)}`));
    });
    // Without a listener, a thread that fails (its database cannot be opened, say)
    // would take the collector down with it. Ingestion goes on without it: the main
    // connection's auto-checkpoint (50,000 pages) still bounds the WAL.
    this.worker.on('error', (err) => {
      this.failed = err instanceof Error ? err : new Error(String(err));
      onError(new Error(`the checkpoint thread ended: ${this.failed.message}`));
    });
    this.worker.unref();
  }

  stop(): Promise<void> {
    if (this.failed) return Promise.resolve();
    this.stopped ??= new Promise<void>((resolve) => {
      const done = (): void => {
        void this.worker.terminate().then(() => resolve());
      };
      // Keep the process alive until the last checkpoint is done.
      this.worker.ref();
      this.worker.once('message', (m) => m === 'stopped' && done());
      this.worker.once('exit', () => resolve());
      this.worker.postMessage('stop');
      setTimeout(done, 2000).unref();
    });
    return this.stopped;
  }
}
