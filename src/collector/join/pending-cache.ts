// Lone sides still inside their window, held in memory up to a bound so that
// most partners are found without asking SQLite. It keeps only what the join
// needs to find the partner row (no record bodies); sides beyond the bound live
// only in SQLite and are found there.
import type { Role } from '../types.js';

export interface PendingSide {
  role: Role;
  route: string;
  arrivalMs: number;
}

export class PendingCache {
  private readonly map = new Map<string, PendingSide>();

  constructor(readonly maxEntries: number) {}

  /** False when the bound is reached: the side then lives only in SQLite. */
  add(id: string, side: PendingSide): boolean {
    if (this.map.size >= this.maxEntries) return false;
    this.map.set(id, side);
    return true;
  }

  take(id: string): PendingSide | undefined {
    const s = this.map.get(id);
    if (s) this.map.delete(id);
    return s;
  }

  /** Drops sides whose window ended (Map order is arrival order). */
  evictExpired(nowMs: number, windowMs: number): void {
    for (const [id, s] of this.map) {
      if (s.arrivalMs + windowMs > nowMs) break;
      this.map.delete(id);
    }
  }

  get size(): number {
    return this.map.size;
  }

  clear(): void {
    this.map.clear();
  }
}
