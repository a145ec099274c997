// What the prepare thread's watchdog costs per body: timers created while bodies go
// through the real supervisor and prepare thread (in this process, 4 bodies in
// flight). A count, not a timing: the watchdog should create timers per bound of
// elapsed time, never per body.
//
//   node --import tsx bench/collector/watchdog-timers.ts [--bodies N] [--bound MS]
import { createHook } from 'node:async_hooks';
import { CollectorConfig } from '../../src/collector/config.js';
import { PrepareSupervisor } from '../../src/collector/ingest/prepare-supervisor.js';
import { silentLogger } from '../../src/collector/log.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : dflt;
};
const BODIES = arg('--bodies', 6000);
const BOUND = arg('--bound', 10_000);

const rec = (i: number): Record<string, unknown> => ({
  v: 1, route: 'predict', method: 'POST', path: '/predict', status: 200, latency_ms: 10, ts_ms: 1_700_000_000_000,
  id: `x${i}`, role: i % 2 ? 'shadow' : 'production', response_body: JSON.stringify({ i, pad: 'y'.repeat(900) }),
});
const text = JSON.stringify(Array.from({ length: 64 }, (_, i) => rec(i)));

// The thread and the watchdog are unref'd (the collector's server keeps it alive); here this does.
const keep = setInterval(() => {}, 1000);
const sup = new PrepareSupervisor(new CollectorConfig().file, { mode: 'on', logger: silentLogger(), timing: { hungAfterMs: BOUND } });
await sup.prepare(text, false); // started and ready
let timers = 0;
const hook = createHook({
  init(_id, type) {
    if (type === 'Timeout') timers++;
  },
}).enable();
const t0 = performance.now();
let sent = 0;
async function lane(): Promise<void> {
  while (sent < BODIES) {
    sent++;
    await sup.prepare(text, false);
  }
}
await Promise.all([lane(), lane(), lane(), lane()]);
hook.disable();
const ms = performance.now() - t0;
console.log(`${sent} bodies of 64 records in ${ms.toFixed(0)} ms, bound ${BOUND} ms: ${timers} timers created (${(timers / sent).toFixed(4)} a body, ${((timers * BOUND) / ms).toFixed(2)} a bound)`);
await sup.close();
clearInterval(keep);
