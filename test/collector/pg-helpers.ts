// Reading the same answers from every replica of a PostgreSQL-backed collector.
// Replicas follow the shared database's change feed, so an answer may trail a write
// on another replica by a moment: `agreed` polls until every replica gives the same
// answer and that answer passes the check, then the test asserts on it.
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import { get } from './helpers.js';
import { parseSamples } from './prometheus-text.js';

export async function stats(url: string, route?: string): Promise<any> {
  const r = await get(url, route ? `/v1/stats?route=${encodeURIComponent(route)}` : '/v1/stats');
  assert.equal(r.status, 200, `${url} /v1/stats answered ${r.status}`);
  return r.json;
}

/**
 * Polls `read` on every url until all answers are deep-equal and pass `check`;
 * fails with every replica's last answer otherwise. The deadline only bounds the test.
 */
export async function agreed<T>(urls: string[], read: (url: string) => Promise<T>, check: (v: T) => boolean = () => true, deadlineMs = 20_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  let last: T[] = [];
  for (;;) {
    last = await Promise.all(urls.map(read));
    const same = last.every((v) => isDeepStrictEqual(v, last[0]));
    if (same && check(last[0]!)) return last[0]!;
    if (Date.now() > end) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`replicas did not agree on an acceptable answer:\n${urls.map((u, i) => `${u}: ${JSON.stringify(last[i])}`).join('\n')}`);
}

export const statsEverywhere = (urls: string[], check: (s: any) => boolean, route?: string): Promise<any> =>
  agreed(urls, (u) => stats(u, route), check);

/** Every pair of GET /v1/pairs?QUERY, following next_cursor to the end. */
export async function allPairs(url: string, query = ''): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const q = new URLSearchParams(query);
    q.set('limit', '500');
    if (cursor) q.set('cursor', cursor);
    const r = await get(url, `/v1/pairs?${q}`);
    assert.equal(r.status, 200, `pairs page answered ${r.status}: ${JSON.stringify(r.json)}`);
    items.push(...r.json.items);
    cursor = r.json.next_cursor;
    if (cursor === null) return items;
  }
  assert.fail('more than 1000 pages');
}

/** The contract's shadowmesh_* series (§3.1) of GET /metrics, sorted: what every replica must agree on. */
export async function sharedSeries(url: string): Promise<string[]> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  const SHARED = /^shadowmesh_(records_total|pairs_total|mismatched_pairs_total|match_rate|adjusted_match_rate|errors_total|latency_seconds_(bucket|count|sum)|unmatched|late_pairs_total|verdict)$/;
  return parseSamples(await res.text())
    .filter((s) => SHARED.test(s.name))
    .map((s) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())} ${s.value}`)
    .sort();
}

const noKeepAlive = new Agent({ keepAlive: false });

/** POST a JSON body on a connection of its own (so a TCP balancer spreads it too). */
export function postOnce(url: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const u = new URL(url);
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, method: 'POST', path, agent: noKeepAlive, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers } },
      (res) => {
        let out = '';
        res.on('data', (c: Buffer) => (out += c.toString()));
        res.on('end', () => {
          let json: unknown = null;
          try {
            json = out ? JSON.parse(out) : null;
          } catch {
            json = { text: out };
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}
