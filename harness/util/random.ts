/**
 * Seeded randomness. tfjs shuffles with Math.random in `fit({shuffle: true})`, so every
 * random choice claimcheck makes goes through these functions instead, and while a run trains
 * Math.random itself is a seeded stream (see SeededMathRandom).
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

/**
 * Math.random routed to seeded streams for the length of a run, then restored. tfjs draws
 * every random number it is not given a seed for from Math.random: each unseeded random op
 * (`tf.randomUniform`, `tf.randomNormal`, `tf.truncatedNormal`, `tf.randomGamma`,
 * `tf.multinomial`, `tf.dropout`) seeds its own generator with one Math.random draw, and the
 * layers built on them (Dropout, SpatialDropout1D, GaussianNoise, GaussianDropout,
 * AlphaDropout, unseeded initializers) as well as `tf.util.shuffle` go the same way. So the
 * same run seed gives the same draws, in a layer or in a custom trainer's own tfjs calls.
 *
 * The stream restarts at each phase of the run (`phase("step", epoch, batch)`, an evaluation,
 * the model build) from the run's seed, its protocol and the phase, so a step's draws depend
 * on that step alone: different steps draw different masks, and nothing drawn earlier (a
 * cached derived dataset that skipped its draws) shifts a later step's.
 *
 * @example
 * ```ts
 * import { SeededMathRandom } from "./random.ts";
 * const draws = new SeededMathRandom(1, "blog"); // seed 1, protocol "blog"
 * draws.phase("step", 1, 0);
 * const a = Math.random();
 * draws.phase("step", 1, 0);
 * if (Math.random() !== a) throw new Error("the same phase draws the same numbers");
 * draws.restore(); // Math.random is the platform's again
 * ```
 */
export class SeededMathRandom {
  readonly #previous = Math.random;
  readonly #scope: (string | number)[];
  #rng: Rng;

  /** Routes Math.random to the stream of (`seed`, `scope`) until `restore`. */
  constructor(readonly seed: number, ...scope: (string | number)[]) {
    this.#scope = ["math-random", ...scope];
    this.#rng = mulberry32(deriveSeed(seed, ...this.#scope));
    Math.random = () => this.#rng();
  }

  /** Restarts the stream at a phase of the run: derived from the seed, the scope and `labels`. */
  phase(...labels: (string | number)[]): void {
    this.#rng = mulberry32(deriveSeed(this.seed, ...this.#scope, ...labels));
  }

  /** Gives Math.random back (what it was when this was made). */
  restore(): void {
    Math.random = this.#previous;
  }
}
