// Pending accounting for the join window without one entry per side: lone sides
// are counted in buckets keyed by (arrival ms, route, role). Buckets expire in
// arrival order, so memory is bounded by the window's length in milliseconds,
// not by how many sides wait.
import type { Role } from '../types.js';
import type { RouteStats } from '../stats/route-stats.js';

interface Bucket {
  arrivalMs: number;
  route: string;
  stats: RouteStats;
  role: Role;
  count: number;
}

/** The buckets of one arrival ms: per route, one per role (by roleIndex). */
type MsBuckets = Map<string, (Bucket | undefined)[]>;

const roleIndex = (role: Role): number => (role === 'production' ? 0 : role === 'shadow' ? 1 : 2);

export class JoinWindow {
  private queue: Bucket[] = [];
  private head = 0;
  // Looked up by ms, then route, then role: a string key joining the three was built
  // and hashed anew on every add and remove (twice per pair).
  private readonly byMs = new Map<number, MsBuckets>();
  private count = 0;

  constructor(readonly windowMs: number) {}

  private find(arrivalMs: number, route: string, role: Role): Bucket | undefined {
    return this.byMs.get(arrivalMs)?.get(route)?.[roleIndex(role)];
  }

  /** A side starts waiting (arrivals must come in non-decreasing arrivalMs). */
  add(arrivalMs: number, route: string, stats: RouteStats, role: Role): void {
    let bucket = this.find(arrivalMs, route, role);
    if (!bucket) {
      bucket = { arrivalMs, route, stats, role, count: 0 };
      let ms = this.byMs.get(arrivalMs);
      if (!ms) this.byMs.set(arrivalMs, (ms = new Map()));
      let roles = ms.get(route);
      if (!roles) ms.set(route, (roles = [undefined, undefined, undefined]));
      roles[roleIndex(role)] = bucket;
      this.count++;
      this.queue.push(bucket);
    }
    bucket.count++;
    stats.addPending(role, 1);
  }

  /** A waiting side found its partner. False when its window had already ended. */
  remove(arrivalMs: number, route: string, role: Role): boolean {
    const bucket = this.find(arrivalMs, route, role);
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
      this.drop(b);
    }
    if (this.head > 1024 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
  }

  private drop(b: Bucket): void {
    const ms = this.byMs.get(b.arrivalMs)!;
    const roles = ms.get(b.route)!;
    roles[roleIndex(b.role)] = undefined;
    this.count--;
    if (roles.every((x) => x === undefined)) {
      ms.delete(b.route);
      if (ms.size === 0) this.byMs.delete(b.arrivalMs);
    }
  }

  get buckets(): number {
    return this.count;
  }

  /** Queue slots held, expired ones not yet compacted away included (memory bound). */
  get queueSlots(): number {
    return this.queue.length;
  }

  clear(): void {
    this.queue = [];
    this.head = 0;
    this.byMs.clear();
    this.count = 0;
  }
}
