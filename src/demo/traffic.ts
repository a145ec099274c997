// Sends demo traffic through the sidecar, a bounded number of requests with
// bounded concurrency, and checks that every caller got production's answer.
import { applicants } from './model-server.js';

export interface TrafficResult {
  sent: number;
  ok: number;
  failed: number;
  /** Answers that did not come from the production model: must stay 0. */
  notFromProduction: number;
  statuses: Map<number, number>;
}

export async function sendTraffic(baseUrl: string, requests: number, concurrency = 8): Promise<TrafficResult> {
  const result: TrafficResult = { sent: 0, ok: 0, failed: 0, notFromProduction: 0, statuses: new Map() };
  const inputs = applicants(7);
  const worker = async (): Promise<void> => {
    while (result.sent < requests) {
      result.sent++;
      const body = JSON.stringify(inputs.next().value);
      try {
        const res = await fetch(`${baseUrl}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', host: 'credit-risk' },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        result.statuses.set(res.status, (result.statuses.get(res.status) ?? 0) + 1);
        if (res.ok) {
          result.ok++;
          const version = (JSON.parse(text) as { model?: { version?: string } }).model?.version;
          if (version !== 'v1') result.notFromProduction++;
        } else {
          result.failed++;
        }
      } catch {
        result.failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, requests) }, worker));
  return result;
}
