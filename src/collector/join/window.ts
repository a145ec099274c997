// Pending accounting for the join window without one entry per side: lone sides
// are counted in buckets keyed by (arrival ms, route, role). Buckets expire in
// arrival order, so memory is bounded by the window's length in milliseconds,
// not by how many sides wait.
import type { Role } from '../types.js';
import type { RouteStats } from '../stats/route-stats.js';

interface Bucket {
  key: string;
  arrivalMs: number;
  stats: RouteStats;
  role: Role;
  count: number;
}

export class JoinWindow {
  private queue: Bucket[] = [];
  private head = 0;
  private readonly byKey = new Map<string, Bucket>();

  constructor(readonly windowMs: number) {}

  private static key(arrivalMs: number, route: string, role: Role): string {
    return `${arrivalMs}\u0000${role}\u0000${route}`;
  }

  /** A side starts waiting (arrivals must come in non-decreasing arrivalMs). */
  add(arrivalMs: number, route: string, stats: RouteStats, role: Role): void {
    const key = JoinWindow.key(arrivalMs, route, role);
    let bucket = this.byKey.get(key);
    if (!bucket) {
      bucket = { key, arrivalMs, stats, role, count: 0 };
      this.byKey.set(key, bucket);
      this.queue.push(bucket);
    }
    bucket.count++;
    stats.addPending(role, 1);
  }

  /** A waiting side found its partner. False when its window had already ended. */
  remove(arrivalMs: number, route: string, role: Role): boolean {
    const bucket = this.byKey.get(JoinWindow.key(arrivalMs, route, role));
    if (!bucket || bucket.count === 0) return false;
    bucket.count--;
    bucket.stats.addPending(role, -1);
    return true;
  }

  /** Ends the window of every side that arrived at or before now − windowMs. */
  expire(nowMs: number): void {
    const q = this.queue;
    while (this.head < q.length && q[this.head]!.arrivalMs + this.windowMs <= nowMs) {
      const b = q[this.head++]!;
      b.stats.addPending(b.role, -b.count);
      this.byKey.delete(b.key);
    }
    if (this.head > 1024 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
  }

  get buckets(): number {
    return this.byKey.size;
  }

  /** Queue slots held, expired ones not yet compacted away included (memory bound). */
  get queueSlots(): number {
    return this.queue.length;
  }

  clear(): void {
    this.queue = [];
    this.head = 0;
    this.byKey.clear();
  }
}
