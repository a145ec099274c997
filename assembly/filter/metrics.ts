// The filter's counters. Increments are kept locally and pushed to the host with
// proxy_increment_metric on every tick and every batch flush, so the request path
// makes no metric calls. Names are documented in docs/filter.md.
import { defineCounter, incrementMetric } from "../abi/host";

export const M_MIRRORED: i32 = 0;
export const M_SAMPLED_OUT: i32 = 1;
export const M_SHADOW_FAILURES: i32 = 2;
export const M_BODY_TOO_LARGE: i32 = 3;
export const M_RECORDS_SENT: i32 = 4;
export const M_RECORDS_DROPPED: i32 = 5;
export const M_COLLECTOR_FAILURES: i32 = 6;
export const M_BODY_OVER_BUDGET: i32 = 7;
export const M_BASELINE_COPIES: i32 = 8;
export const M_BASELINE_FAILURES: i32 = 9;
export const M_BREAKER_SKIPPED: i32 = 10;
export const M_BREAKER_OPENED: i32 = 11;
export const M_BASELINE_BREAKER_SKIPPED: i32 = 12;
export const M_CONTROL_MALFORMED: i32 = 13;
export const M_COUNT: i32 = 14;

export const METRIC_NAMES: string[] = [
  "shadowmesh_mirrored_total",
  "shadowmesh_sampled_out_total",
  "shadowmesh_shadow_failures_total",
  "shadowmesh_body_too_large_total",
  "shadowmesh_records_sent_total",
  "shadowmesh_records_dropped_total",
  "shadowmesh_collector_failures_total",
  "shadowmesh_body_over_budget_total",
  "shadowmesh_baseline_copies_total",
  "shadowmesh_baseline_failures_total",
  "shadowmesh_breaker_skipped_total",
  "shadowmesh_breaker_opened_total",
  "shadowmesh_baseline_breaker_skipped_total",
  "shadowmesh_control_malformed_total",
];

const ids = new StaticArray<i64>(M_COUNT);
const deltas = new StaticArray<i64>(M_COUNT);
let defined = false;
let dirty = false;

/** Defines the counters once per VM (a reconfigure keeps them). */
export function defineMetrics(): void {
  if (defined) return;
  for (let i = 0; i < M_COUNT; i++) ids[i] = defineCounter(METRIC_NAMES[i]);
  defined = true;
}

export function bump(metric: i32, by: i64 = 1): void {
  unchecked(deltas[metric] += by);
  dirty = true;
}

export function pushMetrics(): void {
  if (!dirty) return;
  for (let i = 0; i < M_COUNT; i++) {
    const d = unchecked(deltas[i]);
    if (d != 0) {
      if (ids[i] >= 0) incrementMetric(<u32>ids[i], d);
      unchecked(deltas[i] = 0);
    }
  }
  dirty = false;
}
