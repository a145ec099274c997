// Gives the calling thread a name in /proc (what `top -H` and `ps -L` show, and
// how bench/collector/ingest.ts tells the collector's threads apart). Linux only;
// elsewhere, or if /proc is read-only, the thread keeps its name.
import { writeFileSync } from 'node:fs';

/** At most 15 bytes are kept (the kernel's limit). */
export function nameThisThread(name: string): void {
  try {
    writeFileSync('/proc/thread-self/comm', name.slice(0, 15));
  } catch {
    // Not Linux, or no /proc: nothing to name.
  }
}

/** The same as source text, for workers started from an eval'd string. */
export const nameThisThreadSource = (name: string): string =>
  `try { require('node:fs').writeFileSync('/proc/thread-self/comm', ${JSON.stringify(name.slice(0, 15))}); } catch {}`;
