// TEST ONLY: makes the prepare thread die on demand, so that tests of a real collector
// process can see what a lost thread does to the requests it held. Inert unless the
// environment variable SHADOWMESH_TEST_PREPARE_CRASH is set when the collector starts;
// nothing in production sets it (docs/collector.md, "Prepare thread faults").
//
//   SHADOWMESH_TEST_PREPARE_CRASH=marker       a thread dies while it prepares a body that
//                                              contains `shadowmesh-test-crash:HOW`, and
//                                              never answers one that contains
//                                              `shadowmesh-test-crash:hold` (so that a
//                                              test can have bodies in flight on it)
//   SHADOWMESH_TEST_PREPARE_CRASH=start:HOW    every thread dies (or, `spin`, hangs) as it
//                                              starts, before it says it is ready
//   SHADOWMESH_TEST_PREPARE_CRASH=create       no thread can be created (as when Node
//                                              refuses one): the supervisor's attempt throws
//
// HOW is `exit` (process.exit(7) inside the thread), `throw` (an uncaught error),
// `oom` (allocates until its heap limit, which is set small while the variable is set)
// or `spin` (a busy loop that never ends: the thread hangs without ending, and only the
// supervisor's watchdog gets the body answered). The marker acts inside the thread only:
// the main thread, preparing the same body again, does not look for it.

export const TEST_CRASH_ENV = 'SHADOWMESH_TEST_PREPARE_CRASH';
const MARKER = 'shadowmesh-test-crash:';
/** The thread's heap limit while the variable is set, so that `oom` ends quickly. */
export const TEST_CRASH_HEAP_MB = 96;

export type CrashHow = 'exit' | 'throw' | 'oom' | 'spin';

export type TestCrashPlan = { at: 'marker' } | { at: 'create' } | { at: 'start'; how: CrashHow };

const HOWS: readonly CrashHow[] = ['exit', 'throw', 'oom', 'spin'];

/** The plan the variable asks for; null when it is unset (production). */
export function testCrashPlan(env: NodeJS.ProcessEnv = process.env): TestCrashPlan | null {
  const v = env[TEST_CRASH_ENV];
  if (v === undefined || v === '') return null;
  if (v === 'marker' || v === 'create') return { at: v };
  const how = v.startsWith('start:') ? (v.slice(6) as CrashHow) : undefined;
  if (how && HOWS.includes(how)) return { at: 'start', how };
  throw new Error(`${TEST_CRASH_ENV}=${v}: expected marker, create or start:exit|throw|oom|spin`);
}

/** The way a body asks the thread to die, or to hold it unanswered, if it does. */
export function markedCrash(text: string): CrashHow | 'hold' | null {
  const at = text.indexOf(MARKER);
  if (at < 0) return null;
  if (text.startsWith('hold', at + MARKER.length)) return 'hold';
  const how = HOWS.find((h) => text.startsWith(h, at + MARKER.length));
  return how ?? null;
}

/** Ends the current thread the given way (`spin`: never ends it, never returns). */
export function crashThread(how: CrashHow): never {
  if (how === 'exit') process.exit(7);
  if (how === 'spin') {
    // Busy, not waiting: the thread's event loop never runs again, as with an endless loop in a bug.
    let x = 0;
    for (;;) x = (x + 1) | 0;
  }
  // Called outside any try/catch of the thread: an uncaught error, as a bug would throw.
  if (how === 'throw') throw new Error('test crash of the prepare thread');
  const hold: number[][] = [];
  for (;;) hold.push(new Array<number>(1 << 20).fill(hold.length));
}
