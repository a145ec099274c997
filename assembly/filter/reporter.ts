// Ships records to the collector: a JSON array per batch, POSTed with
// proxy_http_call when the batch reaches batch_max_records, before it would pass
// batch_max_bytes, and on every tick. Records waiting in the batch plus records in
// unanswered collector calls never exceed max_queued_records: beyond that new
// records are dropped and counted. A failed batch (call refused, reset, timeout or
// non-2xx answer) is dropped and counted, not retried, so a dead collector costs a
// bounded amount of memory and never delays traffic.
import { ByteBuf } from "../abi/bytes";
import { PairTable } from "../abi/pairs";
import { httpCall, lastToken, readBuffer, readHeaderMap, BUFFER_HTTP_CALL_RESPONSE_BODY, MAP_HTTP_CALL_RESPONSE_HEADERS, RESULT_OK } from "../abi/host";
import { answer, applyControl, controlActive, CONTROL_MALFORMED, MAX_ANSWER_BYTES } from "./control";
import { Config } from "./config";
import { bump, pushMetrics, M_COLLECTOR_FAILURES, M_CONTROL_MALFORMED, M_RECORDS_DROPPED, M_RECORDS_SENT } from "./metrics";
import { parseStatus } from "./route";
import { PendingCall, trackCall } from "./calls";

const H_METHOD = String.UTF8.encode(":method");
const H_PATH = String.UTF8.encode(":path");
const H_AUTHORITY = String.UTF8.encode(":authority");
const H_CONTENT_TYPE = String.UTF8.encode("content-type");
const H_AUTHORIZATION = String.UTF8.encode("authorization");
const V_POST = String.UTF8.encode("POST");
const V_JSON = String.UTF8.encode("application/json");
const H_STATUS = String.UTF8.encode(":status");

/** How long a collector call may take before Envoy gives up on it. */
export const COLLECTOR_TIMEOUT_MS: u32 = 10000;

function addBuf(t: PairTable, k: ArrayBuffer, v: ArrayBuffer): void {
  t.add(changetype<usize>(k), k.byteLength, changetype<usize>(v), v.byteLength);
}

export class Reporter {
  batch: ByteBuf = new ByteBuf();
  count: i32 = 0;
  /** Records inside collector calls that have not been answered yet. */
  inflight: i32 = 0;
  /** Collector calls not answered yet (batches and polls). */
  calls: i32 = 0;
  headers: ByteBuf = new ByteBuf();
  cluster: ArrayBuffer = new ArrayBuffer(0);
  maxRecords: i32 = 64;
  maxBytes: i32 = 1048576;
  maxQueued: i32 = 4096;
  rootId: u32 = 0;
  cfg: Config | null = null;

  configure(cfg: Config, scratch: PairTable): void {
    this.cfg = cfg;
    this.cluster = cfg.collectorCluster;
    this.maxRecords = cfg.batchMaxRecords;
    this.maxBytes = cfg.batchMaxBytes;
    this.maxQueued = cfg.maxQueuedRecords;
    // The batch headers never change: encode them once.
    scratch.clear();
    addBuf(scratch, H_METHOD, V_POST);
    addBuf(scratch, H_PATH, cfg.collectorPath);
    addBuf(scratch, H_AUTHORITY, cfg.collectorAuthority);
    addBuf(scratch, H_CONTENT_TYPE, V_JSON);
    const token = cfg.collectorToken;
    let bearer: ArrayBuffer | null = null;
    if (token !== null) {
      bearer = String.UTF8.encode("Bearer " + String.UTF8.decode(token));
      addBuf(scratch, H_AUTHORIZATION, bearer);
    }
    this.headers.clear();
    scratch.encode(this.headers);
    scratch.clear();
  }

  /** Queues one record (JSON bytes); drops and counts it when the queue is full. */
  add(rec: ByteBuf): void {
    if (this.count + this.inflight >= this.maxQueued) {
      bump(M_RECORDS_DROPPED);
      return;
    }
    // "[" + records joined by "," + "]": adding this one costs rec.len + 1 bytes.
    if (this.count > 0 && this.batch.len + rec.len + 2 > this.maxBytes) this.flush();
    this.batch.byte(this.count == 0 ? 91 : 44);
    this.batch.from(rec);
    this.count++;
    if (this.count >= this.maxRecords) this.flush();
  }

  flush(): void {
    if (this.count == 0) return;
    this.batch.byte(93);
    const r = httpCall(this.cluster, this.headers.ptr, this.headers.len, this.batch.ptr, this.batch.len, COLLECTOR_TIMEOUT_MS);
    if (r == RESULT_OK) {
      trackCall(lastToken, this.rootId).records = this.count;
      this.inflight += this.count;
      this.calls++;
    } else {
      bump(M_COLLECTOR_FAILURES);
      bump(M_RECORDS_DROPPED, this.count);
    }
    this.count = 0;
    // One very large batch should not pin its memory for the VM's lifetime.
    this.batch.reset(this.maxBytes < 262144 ? this.maxBytes + 1024 : 262144);
    pushMetrics();
  }

  /**
   * While a control is in force, a tick with nothing to send still sends an empty batch
   * (`[]`), so a paused filter, which records nothing, hears the collector lift or change
   * the control within a flush interval. At most one such call is out at a time.
   */
  poll(): void {
    if (this.count != 0 || this.calls != 0 || !controlActive()) return;
    this.batch.clear();
    this.batch.byte(91);
    this.batch.byte(93);
    if (httpCall(this.cluster, this.headers.ptr, this.headers.len, this.batch.ptr, this.batch.len, COLLECTOR_TIMEOUT_MS) == RESULT_OK) {
      trackCall(lastToken, this.rootId).records = 0;
      this.calls++;
    }
    this.batch.clear();
  }

  /** The answer to one of our batches (the caller took it from the call table); a 2xx answer's body may carry a control. */
  onResponse(call: PendingCall, headers: u32, table: PairTable, scratch: ByteBuf, bodySize: u32 = 0): void {
    const n = call.records;
    this.inflight -= n;
    this.calls--;
    let ok = false;
    if (headers > 0) {
      readHeaderMap(MAP_HTTP_CALL_RESPONSE_HEADERS, table, scratch);
      const i = table.findBuf(H_STATUS);
      if (i >= 0) {
        const status = parseStatus(table.valPtr(i), table.valLen(i));
        ok = status >= 200 && status < 300;
      }
    }
    if (ok) {
      bump(M_RECORDS_SENT, n);
      const cfg = this.cfg;
      if (cfg !== null && <i32>bodySize <= MAX_ANSWER_BYTES) {
        answer.clear();
        readBuffer(BUFFER_HTTP_CALL_RESPONSE_BODY, 0, <i32>bodySize, answer);
        if (applyControl(cfg, answer.ptr, answer.len) == CONTROL_MALFORMED) bump(M_CONTROL_MALFORMED);
        answer.reset(4096);
      }
    } else {
      bump(M_COLLECTOR_FAILURES);
      bump(M_RECORDS_DROPPED, n);
    }
  }
}
