// Moves WAL pages into the database file on a worker thread with its own
// connection, so the ingest thread never waits for the checkpoint's writes and
// fsyncs (the main connection's auto-checkpoint is switched off). A PASSIVE
// checkpoint never blocks writers.
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
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (err) { parentPort.postMessage({ error: String(err) }); }
};
timer = setInterval(run, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'stop') { clearInterval(timer); run(); db.close(); parentPort.postMessage('stopped'); }
});
`;

export class Checkpointer {
  private readonly worker: Worker;
  private stopped: Promise<void> | null = null;

  constructor(file: string, sqliteModulePath: string, intervalMs = 200) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, sqlite: sqliteModulePath, intervalMs } });
    this.worker.on('message', (m: unknown) => {
      if (m && typeof m === 'object' && 'error' in m) process.stderr.write(`shadowmesh collector: checkpoint failed: ${String((m as { error: unknown }).error)}\n`);
    });
    this.worker.unref();
  }

  stop(): Promise<void> {
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
