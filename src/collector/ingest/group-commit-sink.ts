// The SQLite record sink: bodies are prepared on the prepare thread, then every
// batch that is ready when the main thread gets to it is stored in one transaction
// (group commit): while one commit runs, the batches arriving meanwhile wait and go
// together into the next. Each request is answered only after the transaction
// holding its records has committed; a failed commit fails exactly its batches.
import type { BatchOutcome, Joiner } from '../join/joiner.js';
import type { IngestResult } from '../types.js';
import { parseJsonArray, parseNdjson, type BodyItem } from './body.js';
import { prepareItems, type PreparedBatch } from './prepare.js';
import type { TextPreparer } from './prepare-supervisor.js';
import type { RecordSink } from './record-sink.js';

/** A group stops growing here, so one commit (and the answers waiting on it) stays short. */
const MAX_GROUP_RECORDS = 2048;

interface Waiting {
  batch: PreparedBatch;
  resolve: (r: IngestResult) => void;
  reject: (e: unknown) => void;
}

export class GroupCommitSink implements RecordSink {
  private readonly queue: Waiting[] = [];
  private scheduled = false;
  /** Commits made, and batches they held (for /healthz and the bench). */
  commits = 0;
  batches = 0;

  constructor(
    private readonly joiner: Joiner,
    /** Null: prepare in this thread (e.g. in-process tests). */
    private readonly thread: TextPreparer | null,
  ) {}

  /** Stops the prepare thread; call once no request is in flight any more. */
  close(): Promise<void> {
    return this.thread?.close() ?? Promise.resolve();
  }

  ingest(items: readonly BodyItem[]): Promise<IngestResult> {
    return this.enqueue(prepareItems(items, undefined, true));
  }

  async ingestText(text: string, ndjson: boolean): Promise<IngestResult> {
    if (!this.thread) return this.ingest(ndjson ? parseNdjson(text) : parseJsonArray(text));
    return this.enqueue(await this.thread.prepare(text, ndjson));
  }

  private enqueue(batch: PreparedBatch): Promise<IngestResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // After the I/O callbacks of this turn: batches the prepare thread answered
        // meanwhile join this group.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      let records = 0;
      let n = 0;
      while (n < this.queue.length && (n === 0 || records + this.queue[n]!.batch.records.length <= MAX_GROUP_RECORDS)) {
        records += this.queue[n]!.batch.records.length;
        n++;
      }
      const group = this.queue.splice(0, n);
      let outcomes: BatchOutcome[];
      try {
        outcomes = this.joiner.commit(group.map((w) => w.batch));
      } catch (err) {
        for (const w of group) w.reject(err);
        continue;
      }
      this.commits++;
      this.batches += group.length;
      group.forEach((w, i) => {
        const o = outcomes[i]!;
        if ('result' in o) w.resolve(o.result);
        else w.reject(o.error);
      });
    }
  }
}
