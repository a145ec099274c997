// The verdict criteria with their defaults filled in (config `verdict`, contract §3/§3.1).
import type { VerdictCriteria } from '../config.js';

export interface Criteria {
  min_pairs: number;
  min_match_rate: number;
  max_error_rate_delta: number;
  max_latency_p99_ratio: number;
  confidence: number;
  min_join_rate: number;
  sequential: boolean;
}

export const DEFAULT_CRITERIA: Criteria = {
  min_pairs: 500,
  min_match_rate: 0.98,
  max_error_rate_delta: 0.01,
  max_latency_p99_ratio: 1.25,
  confidence: 0.95,
  min_join_rate: 0.9,
  sequential: false,
};

export function resolveCriteria(v: VerdictCriteria): Criteria {
  return { ...DEFAULT_CRITERIA, ...Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) };
}
