// Filter-driven copies of a sampled production request: to the shadow (the
// candidate) and, when baseline_cluster is set, to a second production instance
// whose differences from production are noise (contract §1, §4.1). Both copies are
// made the same way and isolated the same way: sent at the end of the request with
// proxy_http_call, answered to the root later, capped in flight, and each behind
// its own breaker, so a slow or dead target never reaches production traffic.
import { ByteBuf } from "../abi/bytes";
import { httpCall, lastToken, RESULT_OK } from "../abi/host";
import { Breaker, copyFailed } from "./breaker";
import { trackCall } from "./calls";
import { Config } from "./config";
import {
  bump, M_BASELINE_BREAKER_SKIPPED, M_BASELINE_COPIES, M_BASELINE_FAILURES, M_BREAKER_OPENED, M_BREAKER_SKIPPED,
  M_MIRRORED, M_SHADOW_FAILURES,
} from "./metrics";
import { ROLE_FIELD_BASELINE, ROLE_FIELD_SHADOW, writeRecord } from "./record";
import { Reporter } from "./reporter";

export const COPY_SHADOW: i32 = 0;
export const COPY_BASELINE: i32 = 1;

const E_REJECTED = String.UTF8.encode("rejected");
const E_OVERLOADED = String.UTF8.encode("overloaded");

export class CopyTarget {
  cluster: ArrayBuffer | null = null;
  roleField: i32 = ROLE_FIELD_SHADOW;
  /** Copies sent and not answered yet; capped at max_queued_records so a target that never answers (timeout 0) cannot grow memory. */
  inFlight: i32 = 0;
  breaker: Breaker = new Breaker();
  mCopies: i32 = M_MIRRORED;
  mFailures: i32 = M_SHADOW_FAILURES;
  mSkipped: i32 = M_BREAKER_SKIPPED;

  constructor(roleField: i32, mCopies: i32, mFailures: i32, mSkipped: i32) {
    this.roleField = roleField;
    this.mCopies = mCopies;
    this.mFailures = mFailures;
    this.mSkipped = mSkipped;
  }

  get enabled(): bool {
    return this.cluster !== null;
  }

  /** Asks the breaker at the start of a request; counts the request when it says no. */
  admit(now: u64): bool {
    if (this.breaker.allow(now)) return true;
    bump(this.mSkipped);
    return false;
  }

  /** The outcome of one copy, for the breaker and the failure counter. */
  outcome(status: i32, now: u64): void {
    const failed = copyFailed(status);
    if (status == 0) bump(this.mFailures);
    if (this.breaker.record(!failed, now)) bump(M_BREAKER_OPENED);
  }
}

export const shadowTarget = new CopyTarget(ROLE_FIELD_SHADOW, M_MIRRORED, M_SHADOW_FAILURES, M_BREAKER_SKIPPED);
export const baselineTarget = new CopyTarget(ROLE_FIELD_BASELINE, M_BASELINE_COPIES, M_BASELINE_FAILURES, M_BASELINE_BREAKER_SKIPPED);

export function copyTarget(kind: i32): CopyTarget {
  return kind == COPY_BASELINE ? baselineTarget : shadowTarget;
}

/** Applies a (re)configuration; copies already in flight still count against the cap. */
export function configureCopies(cfg: Config): void {
  shadowTarget.cluster = cfg.shadowCluster;
  baselineTarget.cluster = cfg.baselineCluster;
  shadowTarget.breaker.configure(cfg.breakerFailures, cfg.breakerCooldownMs);
  baselineTarget.breaker.configure(cfg.breakerFailures, cfg.breakerCooldownMs);
}

/**
 * Sends one copy. When the call is refused inline or too many copies are in flight,
 * no callback will come: the failure record is written at once.
 */
export function sendCopy(kind: i32, cfg: Config, headers: ByteBuf, body: ByteBuf, prefix: ByteBuf, startNs: u64,
  now: u64, record: ByteBuf, source: ByteBuf, reporter: Reporter): void {
  const t = copyTarget(kind);
  let error = E_OVERLOADED;
  if (t.inFlight < cfg.maxQueuedRecords) {
    const r = httpCall(t.cluster!, headers.ptr, headers.len, body.ptr, body.len, cfg.shadowTimeoutMs);
    if (r == RESULT_OK) {
      // The answer comes to the root later; remember what its record needs.
      const call = trackCall(lastToken, reporter.rootId);
      call.target = kind;
      call.prefix.from(prefix);
      call.startNs = startNs;
      t.inFlight++;
      bump(t.mCopies);
      return;
    }
    // Refused inline (no healthy upstream, unknown cluster).
    error = E_REJECTED;
  }
  t.outcome(0, now);
  record.clear();
  writeRecord(record, prefix, t.roleField, 0, error, 0, null, null, null, false, source);
  reporter.add(record);
}
