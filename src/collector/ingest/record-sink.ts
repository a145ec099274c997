// Where POST /v1/records hands its parsed items: the seam between HTTP and a store.
// Asynchronous so that a store may answer once its records are durable, whether it
// commits in place (SQLite), commits several requests' batches together, or talks
// to a server (PostgreSQL). A promise resolves only after the records it accepted
// are committed; it rejects when nothing of the batch was (the sender retries).
import type { BodyItem } from './body.js';
import type { IngestResult } from '../types.js';

export interface RecordSink {
  ingest(items: readonly BodyItem[]): Promise<IngestResult>;
  /**
   * Optional: the same for a body still in text (a JSON array, or NDJSON), for a sink
   * that parses elsewhere (another thread). Rejects with a BodyError when the text
   * is not a JSON array; the route then answers 400.
   */
  ingestText?(text: string, ndjson: boolean): Promise<IngestResult>;
}

/** A sink over a synchronous ingest (one transaction per call, committed on return). */
export function syncRecordSink(target: { ingest(items: readonly BodyItem[]): IngestResult }): RecordSink {
  return {
    ingest: (items) => {
      try {
        return Promise.resolve(target.ingest(items));
      } catch (err) {
        return Promise.reject(err);
      }
    },
  };
}
