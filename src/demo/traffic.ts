// Sends the demo's traffic through the sidecar: N held-out days, in a fixed
// shuffled order, each with its own correlation id (the filter keeps a valid
// id it is given), so the demo can later post each day's true label for its id.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WeatherInput, WeatherLabel } from './model/features.js';
import { packageRoot } from './package-root.js';

export interface HeldOutRow extends WeatherInput {
  label: WeatherLabel;
}

export function loadHeldOut(file = join(packageRoot(), 'models', 'holdout.json')): HeldOutRow[] {
  return (JSON.parse(readFileSync(file, 'utf8')) as { rows: HeldOutRow[] }).rows;
}

/** The rows in a fixed pseudo-random order (xorshift32 Fisher–Yates), repeated as often as needed. */
export function drawRows(rows: HeldOutRow[], n: number, seed = 2015): HeldOutRow[] {
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
  const out: HeldOutRow[] = [];
  while (out.length < n) {
    const round = rows.slice();
    for (let i = round.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [round[i], round[j]] = [round[j]!, round[i]!];
    }
    out.push(...round.slice(0, n - out.length));
  }
  return out;
}

export interface SentRequest {
  id: string;
  truth: WeatherLabel;
  status: number;
  /** model_version of the answer the caller got. */
  servedBy: string | null;
}

export interface TrafficResult {
  sent: number;
  ok: number;
  failed: number;
  /** Answers that did not come from the production model: must stay 0. */
  notFromProduction: number;
  requests: SentRequest[];
}

export const CORRELATION_HEADER = 'x-shadow-correlation-id';

export async function sendTraffic(
  baseUrl: string,
  rows: HeldOutRow[],
  opts: { concurrency?: number; productionVersion?: string; onDone?: () => void } = {},
): Promise<TrafficResult> {
  const result: TrafficResult = { sent: 0, ok: 0, failed: 0, notFromProduction: 0, requests: [] };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < rows.length) {
      const { label: truth, ...input } = rows[next++]!;
      const id = randomBytes(16).toString('hex');
      const sent: SentRequest = { id, truth, status: 0, servedBy: null };
      result.sent++;
      result.requests.push(sent);
      try {
        const res = await fetch(`${baseUrl}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [CORRELATION_HEADER]: id },
          body: JSON.stringify(input),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        sent.status = res.status;
        if (res.ok) {
          result.ok++;
          sent.servedBy = (JSON.parse(text) as { model_version?: string }).model_version ?? null;
          if (sent.servedBy !== (opts.productionVersion ?? 'v1')) result.notFromProduction++;
        } else {
          result.failed++;
        }
      } catch {
        result.failed++;
      }
      opts.onDone?.();
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, rows.length) }, worker));
  return result;
}
