// The most recent sides that arrived alone, kept parsed in memory (a bounded number,
// oldest dropped first). The partner of a side usually follows within a batch or
// two, and then it is joined with the record already in hand: no read of the side
// back from SQLite and no second JSON.parse of its text. A side that has dropped out
// is still found in SQLite, as before.
import type { Role, ShadowRecord } from '../types.js';

export interface RecentSide {
  seq: number;
  route: string;
  arrivalMs: number;
  record: ShadowRecord;
}

/** About 3–4 KiB of heap each for ~1 KB records: the default bound is ~16 MiB. */
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
