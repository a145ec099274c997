// Root and stream contexts and the registry that routes each proxy_on_* call to
// its context. An unknown context id is ignored (Continue), never a trap.

export const ACTION_CONTINUE: i32 = 0;

/** What roots and streams share, so one table holds both. */
export class ContextBase {
  id: u32;
  isRoot: bool;
  constructor(id: u32, isRoot: bool) { this.id = id; this.isRoot = isRoot; }
}

export class RootContext extends ContextBase {
  constructor(id: u32) { super(id, true); }
  onVmStart(vmConfigSize: u32): bool { return true; }
  onConfigure(configSize: u32): bool { return true; }
  onTick(): void {}
  onQueueReady(token: u32): void {}
  onForeignFunction(functionId: u32, dataSize: u32): void {}
  /** Every http call's answer comes here: Envoy ties calls to the root context. */
  onHttpCallResponse(token: u32, headers: u32, bodySize: u32, trailers: u32): void {}
  onDone(): bool { return true; }
  onDelete(): void {}
  /** A stream context for a new stream; roots may hand out pooled ones. */
  newStream(id: u32): StreamContext { return new StreamContext(id, this); }
  /** The stream was deleted; its object may be reused. */
  releaseStream(stream: StreamContext): void {}
}

export class StreamContext extends ContextBase {
  root: RootContext;
  constructor(id: u32, root: RootContext) { super(id, false); this.root = root; }
  onRequestHeaders(headers: u32, endOfStream: bool): i32 { return ACTION_CONTINUE; }
  onRequestBody(size: u32, endOfStream: bool): i32 { return ACTION_CONTINUE; }
  onRequestTrailers(trailers: u32): i32 { return ACTION_CONTINUE; }
  onResponseHeaders(headers: u32, endOfStream: bool): i32 { return ACTION_CONTINUE; }
  onResponseBody(size: u32, endOfStream: bool): i32 { return ACTION_CONTINUE; }
  onResponseTrailers(trailers: u32): i32 { return ACTION_CONTINUE; }
  onLog(): void {}
  onDone(): bool { return true; }
}

function defaultRoot(id: u32): RootContext { return new RootContext(id); }

let rootFactory: (id: u32) => RootContext = defaultRoot;

/** The filter names the root class every root id gets. */
export function setRootFactory(f: (id: u32) => RootContext): void { rootFactory = f; }

const contexts = new Map<u32, ContextBase>();
// Callbacks of one stream arrive in a row: remember the last lookup.
let lastId: u32 = 0;
let lastStream: StreamContext | null = null;

export function createContext(id: u32, rootId: u32): void {
  if (contexts.has(id)) return;
  if (rootId == 0) {
    contexts.set(id, rootFactory(id));
    return;
  }
  const root = findRoot(rootId);
  if (root === null) return;
  const s = root.newStream(id);
  contexts.set(id, s);
  lastId = id;
  lastStream = s;
}

export function findRoot(id: u32): RootContext | null {
  if (!contexts.has(id)) return null;
  const c = contexts.get(id);
  return c.isRoot ? changetype<RootContext>(c) : null;
}

export function findStream(id: u32): StreamContext | null {
  if (id == lastId) return lastStream;
  if (!contexts.has(id)) return null;
  const c = contexts.get(id);
  if (c.isRoot) return null;
  const s = changetype<StreamContext>(c);
  lastId = id;
  lastStream = s;
  return s;
}

export function deleteContext(id: u32): void {
  if (!contexts.has(id)) return;
  const c = contexts.get(id);
  contexts.delete(id);
  if (lastId == id) { lastId = 0; lastStream = null; }
  if (c.isRoot) {
    changetype<RootContext>(c).onDelete();
  } else {
    const s = changetype<StreamContext>(c);
    s.root.releaseStream(s);
  }
}
