// Delivers alert bodies to every --alert-webhook URL: in the background (the caller
// never waits), in order per URL, retried with exponential backoff. A dead webhook
// costs a bounded queue and a counter, never ingestion time.
export interface WebhookOptions {
  /** Tries per message, the first included. */
  attempts?: number;
  /** Delay before the first retry; doubled each time, capped at maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  /** Messages waiting per URL; beyond it the oldest is dropped (and counted). */
  maxQueued?: number;
}

interface Target {
  url: string;
  queue: string[];
  busy: boolean;
}

export class WebhookAlerts {
  /** Failed delivery attempts (error, timeout or non-2xx answer), retries included. */
  failures = 0;
  /** Messages given up after the last attempt, or dropped from a full queue. */
  lost = 0;
  delivered = 0;
  private readonly targets: Target[];
  private readonly o: Required<WebhookOptions>;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inflight = new Set<AbortController>();
  private closed = false;

  constructor(urls: readonly string[], opts: WebhookOptions = {}) {
    this.targets = urls.map((url) => ({ url, queue: [], busy: false }));
    this.o = { attempts: 6, baseDelayMs: 500, maxDelayMs: 30_000, timeoutMs: 5000, maxQueued: 1000, ...opts };
  }

  get urls(): string[] {
    return this.targets.map((t) => t.url);
  }

  /** Messages queued or being delivered, over all URLs (0: every message sent so far is settled). */
  get pending(): number {
    return this.targets.reduce((n, t) => n + t.queue.length, 0);
  }

  send(body: unknown): void {
    if (this.closed) return;
    const json = JSON.stringify(body);
    for (const t of this.targets) {
      t.queue.push(json);
      if (t.queue.length > this.o.maxQueued) {
        t.queue.shift();
        this.lost++;
      }
      if (!t.busy) void this.drain(t);
    }
  }

  private async drain(t: Target): Promise<void> {
    t.busy = true;
    while (!this.closed && t.queue.length > 0) {
      const json = t.queue[0]!;
      let ok = false;
      for (let attempt = 0; attempt < this.o.attempts && !this.closed; attempt++) {
        if (attempt > 0) await this.sleep(Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** (attempt - 1)));
        if (this.closed) break;
        if (await this.post(t.url, json)) {
          ok = true;
          break;
        }
        this.failures++;
      }
      if (t.queue[0] === json) t.queue.shift();
      if (ok) this.delivered++;
      else this.lost++;
    }
    t.busy = false;
  }

  private async post(url: string, json: string): Promise<boolean> {
    const ac = new AbortController();
    this.inflight.add(ac);
    const timer = setTimeout(() => ac.abort(), this.o.timeoutMs);
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json, signal: ac.signal });
      await res.arrayBuffer().catch(() => undefined);
      return res.status >= 200 && res.status < 300;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
      this.inflight.delete(ac);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      timer.unref();
      this.timers.add(timer);
    });
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const ac of this.inflight) ac.abort();
  }
}
