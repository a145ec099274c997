// The join's in-memory structures on their own: the pending cache (bounded,
// arrival-ordered, evicted at the window's end), the window's buckets (pending
// counts, exact expiry edge, compaction of the expired queue head) and the recent
// lone sides kept parsed (bounded, oldest dropped first, one per id and role).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PendingCache } from '../../src/collector/join/pending-cache.js';
import { RecentSides } from '../../src/collector/join/recent-sides.js';
import { JoinWindow } from '../../src/collector/join/window.js';
import { RouteStats } from '../../src/collector/stats/route-stats.js';

const side = (arrivalMs: number) => ({ role: 'production' as const, route: 'r', arrivalMs });

test('pending cache: bounded add, take once, evict at exactly the window end in arrival order, clear', () => {
  const c = new PendingCache(2);
  assert.equal(c.add('a', side(100)), true);
  assert.equal(c.add('b', side(200)), true);
  assert.equal(c.add('c', side(300)), false, 'the bound is reached');
  assert.equal(c.size, 2);
  assert.deepEqual(c.take('a'), side(100));
  assert.equal(c.take('a'), undefined, 'taken once');
  assert.equal(c.take('zzz'), undefined);
  assert.equal(c.size, 1);
  assert.equal(c.add('c', side(300)), true);
  // window 1000: b ends at 1200, c at 1300
  c.evictExpired(1199, 1000);
  assert.equal(c.size, 2);
  c.evictExpired(1200, 1000);
  assert.equal(c.size, 1);
  assert.equal(c.take('b'), undefined);
  assert.deepEqual(c.take('c'), side(300));
  c.add('d', side(0));
  c.clear();
  assert.equal(c.size, 0);
  assert.equal(new PendingCache(0).add('x', side(0)), false);
});

test('pending cache: eviction stops at the first side still inside its window', () => {
  const c = new PendingCache(10);
  c.add('late', side(500));
  c.add('early', side(100)); // out of order on purpose: eviction trusts arrival order
  c.evictExpired(1200, 1000);
  assert.equal(c.size, 2, 'the first entry is still live, so nothing behind it is looked at');
  c.evictExpired(1500, 1000);
  assert.equal(c.size, 0);
});

test('join window: pending per route and role, removal only while counted, expiry at exactly arrival + window', () => {
  const stats = new RouteStats();
  const w = new JoinWindow(1000);
  w.add(100, 'r', stats, 'production');
  w.add(100, 'r', stats, 'production');
  w.add(100, 'r', stats, 'shadow');
  w.add(150, 'r', stats, 'production');
  assert.equal(w.buckets, 3);
  assert.equal(stats.snapshot().pending, 4);
  assert.equal(w.remove(100, 'r', 'production'), true);
  assert.equal(w.remove(100, 'r', 'production'), true);
  assert.equal(w.remove(100, 'r', 'production'), false, 'its count is spent');
  assert.equal(w.remove(100, 'other', 'production'), false);
  assert.equal(stats.snapshot().pending, 2);
  w.expire(1099);
  assert.equal(stats.snapshot().pending, 2);
  w.expire(1100);
  assert.equal(stats.snapshot().pending, 1, 'the shadow side at 100 ended');
  assert.equal(w.remove(100, 'r', 'shadow'), false, 'ended windows are not removable');
  assert.equal(w.buckets, 1);
  w.expire(1150);
  assert.equal(stats.snapshot().pending, 0);
  assert.equal(w.buckets, 0);
  w.add(2000, 'r', stats, 'shadow');
  w.clear();
  assert.equal(w.buckets, 0);
  assert.equal(w.queueSlots, 0);
});

test('join window: the expired head of the queue is compacted away, so memory follows the window', () => {
  const stats = new RouteStats();
  const w = new JoinWindow(10);
  for (let t = 0; t < 5000; t++) {
    w.add(t, 'r', stats, 'production');
    w.expire(t);
  }
  assert.equal(stats.snapshot().pending, 10);
  assert.equal(w.buckets, 10);
  assert.ok(w.queueSlots <= 2 * 1025 + 10, `queue slots ${w.queueSlots}`);
  // And not compacted on every call while the head is small.
  const small = new JoinWindow(1);
  for (let t = 0; t < 100; t++) small.add(t, 'r', stats, 'shadow');
  small.expire(50);
  assert.equal(small.queueSlots, 100);
});

const recent = (seq: number) => ({ seq, route: 'r', arrivalMs: seq, wseq: 0, json: '{}', record: { v: 1, id: `i${seq}`, role: 'production', route: 'r', method: 'GET', path: '/', status: 200, latency_ms: 1, ts_ms: 0 } as const });

test('recent sides: taken once, by id and role; the oldest is dropped past the bound; 0 keeps none', () => {
  const r = new RecentSides(2);
  r.add('a', 'production', recent(1));
  assert.equal(r.take('a', 'shadow'), undefined, 'the role is part of the key');
  assert.deepEqual(r.take('a', 'production'), recent(1));
  assert.equal(r.take('a', 'production'), undefined, 'taken once');
  assert.equal(r.size, 0);
  r.add('a', 'production', recent(1));
  r.add('a', 'shadow', recent(2));
  assert.equal(r.size, 2);
  r.add('b', 'production', recent(3));
  assert.equal(r.size, 2, 'bounded');
  assert.equal(r.take('a', 'production'), undefined, 'the oldest went first');
  assert.deepEqual(r.take('a', 'shadow'), recent(2));
  assert.deepEqual(r.take('b', 'production'), recent(3));
  r.add('c', 'production', recent(4));
  r.clear();
  assert.equal(r.size, 0);
  assert.equal(r.take('c', 'production'), undefined);
  const none = new RecentSides(0);
  none.add('a', 'production', recent(1));
  assert.equal(none.size, 0);
  assert.equal(none.take('a', 'production'), undefined);
});
