// The VM-wide body budget: request and response body bytes held by streams in
// flight never exceed body_budget_bytes together, whatever the concurrency. A
// stream asks for room before it copies a chunk and gives its bytes back when it
// ends; a body that finds no room is cut (not mirrored, or flagged truncated).
// One budget per VM: memory is what runs out, and it belongs to the VM.

let limit: i64 = 16777216;
let held: i64 = 0;

export function setBodyBudget(bytes: i32): void {
  limit = <i64>bytes;
}

/** How many of `want` bytes a stream may keep now (0 when the budget is spent). */
export function bodyRoom(want: i32): i32 {
  const room = limit - held;
  if (room <= 0) return 0;
  return <i64>want < room ? want : <i32>room;
}

/** Bytes a stream now holds (what it actually copied, at most what bodyRoom allowed). */
export function takeBody(n: i32): void {
  held += <i64>n;
}

/** Bytes a stream gives back when it ends. */
export function giveBody(n: i32): void {
  held -= <i64>n;
  if (held < 0) held = 0;
}

/** Body bytes held by streams in flight (for tests and docs). */
export function bodyBytesHeld(): i64 {
  return held;
}
