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

export class RecentSides {
  private readonly map = new Map<string, RecentSide>();

  constructor(readonly max: number = DEFAULT_RECENT_SIDES) {}

  add(id: string, role: Role, side: RecentSide): void {
    if (this.max === 0) return;
    this.map.set(`${role}\u0000${id}`, side);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }

  take(id: string, role: Role): RecentSide | undefined {
    const key = `${role}\u0000${id}`;
    const side = this.map.get(key);
    if (side) this.map.delete(key);
    return side;
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}
