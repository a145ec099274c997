// The most recent sides that arrived alone, kept in memory (a bounded number, oldest
// dropped first). The partner of a side usually follows within a batch or two, and
// then it is joined with the side in hand: no read back from SQLite, and when the
// prepare thread compared the two already (same `wseq`), no parsing at all. A side
// that has dropped out is still found in SQLite, as before.
import type { Role, ShadowRecord } from '../types.js';

export interface RecentSide {
  seq: number;
  route: string;
  arrivalMs: number;
  /** The prepare thread's number of this side (0 when prepared in-process). */
  wseq: number;
  /** The stored text. */
  json: string;
  /** Kept when it was at hand already (prepared in-process). */
  record?: ShadowRecord;
}

/** About 1–4 KiB of heap each for ~1 KB records (text, or text and parsed): ~16 MiB at most. */
export const DEFAULT_RECENT_SIDES = 4096;

interface Held {
  side: RecentSide;
  /** When it was added, across roles: the oldest of all goes first. */
  order: number;
}

export class RecentSides {
  // One map per role, keyed by the id string itself: the id's hash is computed once
  // (V8 keeps it in the string) for every lookup of the record, where a composite
  // "role + id" key would be a new string to build and hash at each call.
  private readonly byRole: Record<Role, Map<string, Held>> = { production: new Map(), shadow: new Map(), baseline: new Map() };
  private added = 0;
  private held = 0;

  constructor(readonly max: number = DEFAULT_RECENT_SIDES) {}

  add(id: string, role: Role, side: RecentSide): void {
    if (this.max === 0) return;
    const map = this.byRole[role];
    const before = map.size;
    map.delete(id); // a second side under the same key counts as the newest
    map.set(id, { side, order: ++this.added });
    this.held += map.size - before;
    if (this.held > this.max) this.dropOldest();
  }

  take(id: string, role: Role): RecentSide | undefined {
    const map = this.byRole[role];
    const held = map.get(id);
    if (!held) return undefined;
    map.delete(id);
    this.held--;
    return held.side;
  }

  clear(): void {
    for (const map of Object.values(this.byRole)) map.clear();
    this.held = 0;
  }

  get size(): number {
    return this.held;
  }

  private dropOldest(): void {
    let oldest: Map<string, Held> | undefined;
    let order = Infinity;
    for (const map of Object.values(this.byRole)) {
      const first = map.values().next().value;
      if (first && first.order < order) {
        order = first.order;
        oldest = map;
      }
    }
    if (!oldest) return;
    oldest.delete(oldest.keys().next().value!);
    this.held--;
  }
}
