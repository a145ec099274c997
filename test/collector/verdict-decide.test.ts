// The verdict as a pure function: intervals against hand-worked values, decision
// order, and the simulation that shows why a polled verdict needs the sequential bound.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CRITERIA, type Criteria } from '../../src/collector/verdict/criteria.js';
import { decide } from '../../src/collector/verdict/decide.js';
import { betaBinomialSequence, wilsonInterval } from '../../src/collector/verdict/intervals.js';
import type { FullStats } from '../../src/collector/stats/stats-builder.js';

const close = (a: number, b: number, eps = 1e-6) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);

test('anytime-valid bound: s perfect pairs give L = (1 / ((s+1)/α))^(1/s), as B(s+1, 1) = 1/(s+1)', () => {
  const at400 = betaBinomialSequence(400, 0, 0.05);
  close(at400.lower, Math.exp(-Math.log(401 * 20) / 400));
  close(at400.lower, 0.9778, 1e-4);
  assert.equal(at400.upper, 1);
  close(betaBinomialSequence(1000, 0, 0.05).lower, 0.9901, 1e-4);
  close(betaBinomialSequence(1000, 0, 0.05).lower, Math.exp(-Math.log(1001 * 20) / 1000));
  // Mirror image for all failures; nothing known without data.
  close(betaBinomialSequence(0, 400, 0.05).upper, 1 - at400.lower);
  assert.deepEqual(betaBinomialSequence(0, 0, 0.05), { lower: 0, upper: 1 });
  // Wider than Wilson's one-look interval at the same confidence.
  const seq = betaBinomialSequence(950, 50, 0.05);
  const w = wilsonInterval(950, 1000, 0.95);
  assert.ok(seq.lower < w.lower && seq.upper > w.upper);
});

test('Wilson interval against values worked out by hand', () => {
  // 95/100 at 95 % (z = 1.96), by hand: centre 0.93335, half-width 0.04510.
  const w = wilsonInterval(95, 100, 0.95);
  close(w.lower, 0.8882, 1e-4);
  close(w.upper, 0.9785, 1e-4);
  // 0/10: centre = half-width = 0.13877.
  const z = wilsonInterval(0, 10, 0.95);
  assert.equal(z.lower, 0);
  close(z.upper, 0.2775, 1e-4);
});

function synthetic(pairs: number, matches: number, extra: Partial<FullStats> = {}): FullStats {
  const lat = { p50: 10, p95: 20, p99: 30 };
  return {
    production: pairs, shadow: pairs, baseline: 0, pairs, pending: 0, unmatched_production: 0, unmatched_shadow: 0, late: 0,
    status_match: pairs, body_match: matches, match: matches, match_rate: pairs ? matches / pairs : null,
    production_errors: 0, shadow_errors: 0, baseline_errors: 0, latency_ms: { production: lat, shadow: lat }, fields: [],
    join_rate: pairs ? 1 : null, adjusted_match: matches, adjusted_match_rate: pairs ? matches / pairs : null, noise: [],
    ...extra,
  };
}

test('decision order: few pairs, missing records, conclusive failure, inconclusive, promote', () => {
  const c: Criteria = { ...DEFAULT_CRITERIA, min_pairs: 100 };
  assert.equal(decide(synthetic(50, 50), null, c, 'r').decision, 'hold');
  const missing = decide(synthetic(1000, 1000, { unmatched_shadow: 400, join_rate: 1000 / 1400 }), null, c, 'r');
  assert.equal(missing.decision, 'hold');
  assert.match(missing.summary, /records are missing/);
  const bad = decide(synthetic(1000, 900, { shadow_errors: 100 }), null, c, 'r');
  assert.equal(bad.decision, 'reject');
  assert.deepEqual(bad.reasons.filter((r) => r.ok === false).map((r) => r.criterion), ['min_match_rate', 'max_error_rate_delta']);
  const mr = bad.reasons.find((r) => r.criterion === 'min_match_rate')!;
  assert.equal(mr.n, 1000);
  assert.ok(mr.upper! < 0.98 && mr.lower! < mr.upper!);
  const unsure = decide(synthetic(1000, 980), null, c, 'r');
  assert.equal(unsure.decision, 'hold');
  assert.equal(unsure.reasons.find((r) => r.criterion === 'min_match_rate')!.ok, null);
  const good = decide(synthetic(1000, 1000), null, c, null);
  assert.equal(good.decision, 'promote');
  assert.equal(good.route, null);
  assert.ok(good.reasons.every((r) => r.ok === true));
  assert.ok(!Number.isNaN(Date.parse(good.evaluated_at)));
  const slow = decide(synthetic(1000, 1000, { latency_ms: { production: { p50: 1, p95: 2, p99: 10 }, shadow: { p50: 1, p95: 2, p99: 20 } } }), null, c, 'r');
  assert.equal(slow.decision, 'reject');
  assert.equal(slow.reasons.find((r) => r.criterion === 'max_latency_p99_ratio')!.observed, 2);
  const worse = decide(synthetic(1000, 1000), { labelled: 20, production_accuracy: 0.9, shadow_accuracy: 0.5, mcnemar_p: 0.001, conclusion: 'shadow_worse', production_only_correct: 8, shadow_only_correct: 0 }, c, 'r');
  assert.equal(worse.decision, 'reject');
  assert.deepEqual(worse.reasons.filter((r) => r.ok === false).map((r) => r.criterion), ['feedback']);
});

// Small, fast, seeded PRNG (mulberry32): every run of the test sees the same draws.
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How many of `runs` runs are ever promoted when polled after every batch. */
function promotedRuns(trueRate: number, sequential: boolean, runs: number, batches: number, batchSize: number): number {
  const c: Criteria = { ...DEFAULT_CRITERIA, min_pairs: 200, min_match_rate: 0.98, confidence: 0.95, sequential };
  let promoted = 0;
  for (let run = 0; run < runs; run++) {
    const rnd = prng(7919 * (run + 1));
    let matches = 0;
    let pairs = 0;
    for (let b = 0; b < batches; b++) {
      for (let i = 0; i < batchSize; i++) {
        pairs++;
        if (rnd() < trueRate) matches++;
      }
      if (decide(synthetic(pairs, matches), null, c, 'sim').decision === 'promote') {
        promoted++;
        break;
      }
    }
  }
  return promoted;
}

test('polled after every batch, a shadow just under the threshold: sequential promotes in at most 1 − confidence of runs, Wilson far more often', (t) => {
  const runs = 200;
  // True match rate 0.9795 against a threshold of 0.98, 300 polls of 100 pairs each.
  const sequential = promotedRuns(0.9795, true, runs, 300, 100);
  const wilson = promotedRuns(0.9795, false, runs, 300, 100);
  t.diagnostic(`promoted runs of ${runs}: sequential ${sequential}, Wilson ${wilson}`);
  assert.ok(sequential <= 0.05 * runs, `sequential promoted ${sequential} of ${runs} runs`);
  assert.ok(wilson >= 2 * 0.05 * runs, `Wilson promoted only ${wilson} of ${runs} runs`);
  assert.ok(wilson >= sequential + 15, `Wilson ${wilson} vs sequential ${sequential}`);
  // And the bound is not simply never satisfied: a clearly better shadow gets promoted.
  assert.equal(promotedRuns(0.995, true, 50, 300, 100), 50);
});
