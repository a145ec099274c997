// Shared between the bench servers' process and the benches that drive it.

/** How long the slow shadow takes to answer each copy. */
export const SLOW_SHADOW_MS = 2000;
