/**
 * Seeded randomness. tfjs shuffles with Math.random in `fit({shuffle: true})`, so every
 * random choice claimcheck makes goes through these functions instead.
 * @module
 */

/** A pseudo-random generator returning floats in [0, 1). */
export type Rng = () => number;

/** Mulberry32: tiny, fast and good enough for shuffling and weight draws. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Derives an independent 32-bit seed from a base seed and labels (FNV-1a), so that the
 * shuffle of epoch 3 and the initializer of layer 2 never share a stream.
 *
 * @example
 * ```ts
 * import { deriveSeed } from "./random.ts";
 * deriveSeed(1, "shuffle", 3) === deriveSeed(1, "shuffle", 3); // true
 * ```
 */
export function deriveSeed(seed: number, ...labels: (string | number)[]): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (const ch of labels.join("/")) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A permutation of 0..n-1 by Fisher-Yates with the given generator. */
export function shuffledIndices(n: number, rng: Rng): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx;
}
