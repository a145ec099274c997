// The join window's pending accounting, like join/window.ts (buckets keyed by
// arrival ms, route and role), but sides may be added in any arrival order: the
// change feed delivers transactions in id order, and replicas' clocks and commits
// interleave. Buckets stay sorted by arrival; nearly every add lands at the end.
import type { RouteStats } from '../../stats/route-stats.js';
import type { Role } from '../../types.js';

interface Bucket {
  key: string;
  arrivalMs: number;
  stats: RouteStats;
  role: Role;
  count: number;
}

export class ArrivalWindow {
  private sorted: Bucket[] = [];
  private head = 0;
  private readonly byKey = new Map<string, Bucket>();

  constructor(readonly windowMs: number) {}

  private static key(arrivalMs: number, route: string, role: Role): string {
    return `${arrivalMs}\u0000${role}\u0000${route}`;
  }

  /** A side starts waiting; false (nothing counted) when its window is already over at nowMs. */
  add(arrivalMs: number, route: string, stats: RouteStats, role: Role, nowMs: number): boolean {
    if (arrivalMs + this.windowMs <= nowMs) return false;
    const key = ArrivalWindow.key(arrivalMs, route, role);
    let bucket = this.byKey.get(key);
    if (!bucket) {
      bucket = { key, arrivalMs, stats, role, count: 0 };
      this.byKey.set(key, bucket);
      let i = this.sorted.length;
      while (i > this.head && this.sorted[i - 1]!.arrivalMs > arrivalMs) i--;
      this.sorted.splice(i, 0, bucket);
    }
    bucket.count++;
    stats.addPending(role, 1);
    return true;
  }

  /** A waiting side found its partner. False when its window had already ended. */
  remove(arrivalMs: number, route: string, role: Role): boolean {
    const bucket = this.byKey.get(ArrivalWindow.key(arrivalMs, route, role));
    if (!bucket || bucket.count === 0) return false;
    bucket.count--;
    bucket.stats.addPending(role, -1);
    return true;
  }

  /** Ends the window of every side that arrived at or before now − windowMs. */
  expire(nowMs: number): void {
    const q = this.sorted;
    while (this.head < q.length && q[this.head]!.arrivalMs + this.windowMs <= nowMs) {
      const b = q[this.head++]!;
      b.stats.addPending(b.role, -b.count);
      this.byKey.delete(b.key);
    }
    if (this.head > 1024 && this.head * 2 > q.length) {
      this.sorted = q.slice(this.head);
      this.head = 0;
    }
  }

  get buckets(): number {
    return this.byKey.size;
  }

  clear(): void {
    this.sorted = [];
    this.head = 0;
    this.byKey.clear();
  }
}
