// Outbound http calls waiting for their answer, by token: collector batches
// (how many records they carry) and shadow copies (the record prefix and the start
// time). One table for both keeps a single Map instantiation in the module.
import { ByteBuf } from "../abi/bytes";

export class PendingCall {
  /** Records in a collector batch; -1 for a shadow copy. */
  records: i32 = -1;
  /** The root context that made the call (calls belong to their root). */
  root: u32 = 0;
  /** For a copy: which target it went to (COPY_SHADOW, COPY_BASELINE in copies.ts). */
  target: i32 = 0;
  prefix: ByteBuf = new ByteBuf();
  startNs: u64 = 0;
}

const calls = new Map<u32, PendingCall>();
const free: PendingCall[] = [];
const POOL_MAX: i32 = 256;
const KEEP_BYTES: i32 = 4096;

export function trackCall(token: u32, root: u32): PendingCall {
  let c: PendingCall;
  if (free.length > 0) {
    c = unchecked(free[free.length - 1]);
    free.length = free.length - 1;
  } else {
    c = new PendingCall();
  }
  c.records = -1;
  c.root = root;
  c.target = 0;
  c.startNs = 0;
  c.prefix.clear();
  calls.set(token, c);
  return c;
}

/** The call with this token, removed from the table; null for a token we never issued. */
export function takeCall(token: u32): PendingCall | null {
  if (!calls.has(token)) return null;
  const c = calls.get(token);
  calls.delete(token);
  return c;
}

/** Forgets every call of a deleted root: the host cancels them without an answer. */
export function dropCalls(root: u32): void {
  const tokens = calls.keys();
  for (let i = 0; i < tokens.length; i++) {
    const t = unchecked(tokens[i]);
    const c = calls.get(t);
    if (c.root != root) continue;
    calls.delete(t);
    recycleCall(c);
  }
}

export function recycleCall(c: PendingCall): void {
  c.prefix.reset(KEEP_BYTES);
  // A dropped call is collected, its raw-heap prefix is not: free it first.
  if (free.length < POOL_MAX) free.push(c);
  else c.prefix.release();
}
