// The allocator the host uses to hand data to the module (Envoy looks up `malloc`,
// then `proxy_on_memory_allocate`). Memory comes from the raw heap, outside the
// garbage collector; the ABI layer frees it as soon as the bytes are consumed.

export function malloc(size: usize): usize {
  return heap.alloc(size);
}

export function proxy_on_memory_allocate(size: usize): usize {
  return heap.alloc(size);
}

/** Out-parameters for host calls: two pointer-sized slots and a u64. Single-threaded, so one set suffices. */
export const OUT_PTR: usize = memory.data(16, 8);
export const OUT_SIZE: usize = OUT_PTR + 4;
export const OUT_U64: usize = OUT_PTR + 8;
