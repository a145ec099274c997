// One POST body's preparation, the same wherever it runs — on the prepare thread, or
// on the main thread (--ingest-thread off, a lost thread's bodies) — so that the
// answer and the stored text never depend on where it ran.
import { parseJsonArray, parseNdjson } from './body.js';
import { prepareItems, type PairFinder, type PreparedBatch } from './prepare.js';

/** On the prepare thread: the batch crosses to the main thread as copies anyway. */
export function prepareBodyOnThread(text: string, ndjson: boolean, finder: PairFinder): PreparedBatch {
  return prepareItems(ndjson ? parseNdjson(text) : parseJsonArray(text, true), finder);
}

/**
 * On the main thread: the records' texts as sent are copied out of the body (a slice
 * would keep the whole body alive as long as one side is held), and the parsed
 * records are kept, so the joiner need not parse them again. No early comparison:
 * the joiner compares the pair itself, to the same outcome.
 */
export function prepareBodyHere(text: string, ndjson: boolean): PreparedBatch {
  const items = ndjson ? parseNdjson(text) : parseJsonArray(text, true);
  for (const item of items) if (item.text !== undefined) item.text = ownCopy(item.text);
  return prepareItems(items, undefined, true);
}

function ownCopy(s: string): string {
  // A UTF-8 round trip makes a new flat string (the body came in as UTF-8, so it is lossless).
  return Buffer.from(s, 'utf8').toString('utf8');
}
