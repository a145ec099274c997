// Ground truth for part of the demo's requests, posted to the collector's
// POST /v1/feedback, as a labelling pipeline would send it later.
import type { SentRequest } from './traffic.js';

export interface FeedbackResult {
  /** Labels the collector accepted; null when it has no /v1/feedback. */
  accepted: number | null;
  rejected: number;
}

/** Every `every`-th request that production answered gets its true label. */
export function labelled(requests: SentRequest[], every: number): Array<{ id: string; label: string }> {
  return requests.filter((r, i) => r.status === 200 && i % every === 0).map((r) => ({ id: r.id, label: r.truth }));
}

export async function postFeedback(collectorUrl: string, labels: Array<{ id: string; label: string }>, batch = 500): Promise<FeedbackResult> {
  const result: FeedbackResult = { accepted: 0, rejected: 0 };
  for (let i = 0; i < labels.length; i += batch) {
    const res = await fetch(`${collectorUrl}/v1/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(labels.slice(i, i + batch)),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status === 404) return { accepted: null, rejected: 0 };
    if (!res.ok) throw new Error(`POST /v1/feedback: ${res.status} ${await res.text()}`);
    const answer = (await res.json()) as { accepted: number; rejected: number };
    result.accepted! += answer.accepted;
    result.rejected += answer.rejected;
  }
  return result;
}
