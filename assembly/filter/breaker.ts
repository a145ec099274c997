// The shadow breaker (contract §1 `shadow_breaker`): after `failures` consecutive
// failed copies the filter stops copying for `cooldown`, then lets one copy through
// as a probe; the probe's success closes the breaker, its failure opens it again.
// A copy that fails while the breaker is already open (it was sent before) changes
// nothing, and neither does a late success: only a probe's answer closes it.
// Pure state: the caller passes the time (nanoseconds), so tests drive it directly.

export const BREAKER_CLOSED: i32 = 0;
export const BREAKER_OPEN: i32 = 1;
/** A probe is out; no other copy is allowed until it answers, or until another cooldown has passed. */
export const BREAKER_PROBING: i32 = 2;

export class Breaker {
  /** Consecutive failures that open the breaker; 0 turns it off. */
  threshold: i32 = 20;
  cooldownNs: u64 = 30000 * 1000000;
  state: i32 = BREAKER_CLOSED;
  failures: i32 = 0;
  /** When the breaker opened, or when the probe was let through. */
  since: u64 = 0;
  /** How many times it opened (a closed → open change, or a failed probe). */
  opened: i32 = 0;

  configure(threshold: i32, cooldownMs: u32): void {
    this.threshold = threshold;
    this.cooldownNs = <u64>cooldownMs * 1000000;
    this.state = BREAKER_CLOSED;
    this.failures = 0;
    this.since = 0;
  }

  /** Whether a copy may be sent at `now`; true after the cooldown makes that copy the probe. */
  allow(now: u64): bool {
    if (this.threshold == 0 || this.state == BREAKER_CLOSED) return true;
    // A clock that went backwards counts as no time passed.
    if (now < this.since || now - this.since < this.cooldownNs) return false;
    this.state = BREAKER_PROBING;
    this.since = now;
    return true;
  }

  /** The outcome of one copy (ok: the shadow answered with a status from 1 to 499). Returns true when this opened the breaker. */
  record(ok: bool, now: u64): bool {
    if (this.threshold == 0) return false;
    const state = this.state;
    if (ok) {
      if (state != BREAKER_OPEN) {
        this.state = BREAKER_CLOSED;
        this.failures = 0;
      }
      return false;
    }
    if (state == BREAKER_OPEN) return false;
    if (state == BREAKER_CLOSED) {
      this.failures++;
      if (this.failures < this.threshold) return false;
    }
    this.state = BREAKER_OPEN;
    this.since = now;
    this.opened++;
    return true;
  }
}

/** A copy failed when nothing came back (status 0) or the shadow answered 5xx. */
export function copyFailed(status: i32): bool {
  return status <= 0 || status >= 500;
}
