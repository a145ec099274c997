// The module's abort (asconfig `use: abort=...`): AssemblyScript's default imports
// env.abort, which Envoy does not link. It must not allocate (memory may be
// exhausted), so the message is copied as ASCII into a static buffer, logged at
// critical level, and the VM traps: its state can no longer be trusted.
import { proxy_log } from "./imports";

const PREFIX = "shadowmesh abort: ";
const CAP: i32 = 256;
const BUF = memory.data(256);

function put(at: i32, s: string | null): i32 {
  if (s === null) return at;
  const str = changetype<string>(s);
  for (let i = 0; i < str.length && at < CAP; i++) {
    const c = str.charCodeAt(i);
    store<u8>(BUF + <usize>at, <u8>(c < 128 ? c : 63));
    at++;
  }
  return at;
}

export function abortHandler(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let n = put(0, PREFIX);
  n = put(n, message);
  if (n < CAP) { store<u8>(BUF + <usize>n, 32); n++; }
  n = put(n, fileName);
  proxy_log(5, BUF, <usize>n);
  unreachable();
}
