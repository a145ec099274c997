// Envoy's delayed done for a root context being removed (plugin reload, Istio
// WasmPlugin update): proxy_on_done answers false while records are queued or
// calls are in flight, the root keeps flushing and receiving answers, and it
// calls proxy_done once nothing is outstanding or the deadline passed. Envoy
// then deletes the root and cancels whatever is still outstanding.
import { monoNanos, proxyDone } from "../abi/host";

/** The longest a removed root waits for a shadow copy's answer (shadow_timeout_ms 0 = none). */
const MAX_SHADOW_WAIT_MS: u32 = 30000;

export class Drain {
  active: bool = false;
  finished: bool = false;
  deadlineNs: u64 = 0;

  /** The root said "not done yet": wait for the copies, then for the collector to take their records. */
  start(shadowTimeoutMs: u32, collectorTimeoutMs: u32): void {
    const shadow = shadowTimeoutMs == 0 || shadowTimeoutMs > MAX_SHADOW_WAIT_MS ? MAX_SHADOW_WAIT_MS : shadowTimeoutMs;
    this.active = true;
    this.deadlineNs = monoNanos() + (<u64>shadow + <u64>collectorTimeoutMs) * 1000000;
  }

  /** Calls proxy_done (once) when nothing is outstanding any more, or the deadline passed. */
  step(idle: bool): void {
    if (!this.active || this.finished) return;
    if (!idle && monoNanos() < this.deadlineNs) return;
    this.finished = true;
    proxyDone();
  }
}
