// The prepare thread itself (node:worker_threads): request bodies in as text, batches
// of prepared records out, in the order they came. Parsing, validation, serialising
// and most comparisons happen here, on the second core, while the collector's main
// thread does HTTP and SQLite.
import { parentPort, workerData } from 'node:worker_threads';
import { CollectorConfig, type CollectorConfigFile } from '../config.js';
import { BodyError } from './body.js';
import { PreComparer } from './pre-compare.js';
import { prepareBodyOnThread } from './prepare-body.js';
import { toWire } from './prepared-wire.js';
import { nameThisThread } from '../thread-name.js';
import type { PrepareReply, PrepareRequest } from './prepare-thread.js';
import { crashThread, markedCrash, testCrashPlan } from './prepare-test-crash.js';

nameThisThread('sm-prepare');
const data = workerData as { config: CollectorConfigFile; base: number };
const pre = new PreComparer(new CollectorConfig(data.config), data.base);
const port = parentPort!;
// Tests only (prepare-test-crash.ts); null in production, so the check below is one comparison.
const crashPlan = testCrashPlan();
if (crashPlan?.at === 'start') crashThread(crashPlan.how);

port.on('message', (m: PrepareRequest) => {
  if (crashPlan?.at === 'marker') {
    const how = markedCrash(m.text);
    if (how === 'hold') return;
    if (how) return crashThread(how);
  }
  let reply: PrepareReply;
  try {
    reply = { n: m.n, batch: toWire(prepareBodyOnThread(m.text, m.ndjson, pre.find)) };
  } catch (err) {
    reply = err instanceof BodyError ? { n: m.n, bodyError: err.message } : { n: m.n, failure: String((err as Error)?.stack ?? err) };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true });
