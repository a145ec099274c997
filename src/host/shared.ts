// Shared data and shared queues: the only state Envoy shares between the VMs (workers) of one
// vm_id. Semantics follow proxy-wasm-cpp-host's shared_data.cc / shared_queue.cc.

import { WasmResult } from './envoy-abi.js';

interface QueueOwner { onQueueReady(token: number, contextId: number): void }
interface Queue { vmId: string; name: string; items: Uint8Array[]; owner: QueueOwner; contextId: number }

export class SharedStore {
  private readonly data = new Map<string, Map<string, { value: Uint8Array; cas: number }>>();
  private cas = 1;
  private readonly queues = new Map<number, Queue>();
  private readonly queueTokens = new Map<string, number>();
  private nextQueueToken = 1;

  private nextCas(): number {
    const c = this.cas;
    this.cas = (this.cas + 1) >>> 0;
    if (this.cas === 0) this.cas = 1;
    return c;
  }

  get(vmId: string, key: string): { value: Uint8Array; cas: number } | undefined {
    return this.data.get(vmId)?.get(key);
  }

  /** cas 0 writes unconditionally; otherwise it must match the stored value's cas. */
  set(vmId: string, key: string, value: Uint8Array, cas: number): number {
    let m = this.data.get(vmId);
    if (!m) this.data.set(vmId, (m = new Map()));
    const cur = m.get(key);
    if (cur && cas !== 0 && cas !== cur.cas) return WasmResult.CasMismatch;
    m.set(key, { value: value.slice(), cas: this.nextCas() });
    return WasmResult.Ok;
  }

  /** Registering again returns the same token and moves on_queue_ready to the new owner. */
  registerQueue(vmId: string, name: string, owner: QueueOwner, contextId: number): number {
    const key = `${vmId}\u0000${name}`;
    let token = this.queueTokens.get(key);
    if (token === undefined) {
      token = this.nextQueueToken++;
      this.queueTokens.set(key, token);
      this.queues.set(token, { vmId, name, items: [], owner, contextId });
    } else {
      const q = this.queues.get(token)!;
      q.owner = owner;
      q.contextId = contextId;
    }
    return token;
  }

  resolveQueue(vmId: string, name: string): number | undefined {
    return this.queueTokens.get(`${vmId}\u0000${name}`);
  }

  enqueue(token: number, value: Uint8Array): number {
    const q = this.queues.get(token);
    if (!q) return WasmResult.NotFound;
    q.items.push(value.slice());
    q.owner.onQueueReady(token, q.contextId);
    return WasmResult.Ok;
  }

  dequeue(token: number): Uint8Array | number {
    const q = this.queues.get(token);
    if (!q) return WasmResult.NotFound;
    const v = q.items.shift();
    return v === undefined ? WasmResult.Empty : v;
  }

  /** Drops a VM's registrations (its queues stay, as in Envoy, but nobody is notified). */
  forgetOwner(owner: QueueOwner): void {
    for (const q of this.queues.values()) if (q.owner === owner) q.owner = NOBODY;
  }
}

const NOBODY: QueueOwner = { onQueueReady() {} };

/** The process-wide store used when a plugin is given none (all VMs of a vm_id share it). */
export const GLOBAL_SHARED_STORE = new SharedStore();
