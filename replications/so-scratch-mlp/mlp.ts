/**
 * The source's from-scratch network (004_59a55dfbd27a8d5d.txt): sigmoid on every layer, no
 * biases, weights uniform in [−1, 1), output error a − y, full-batch momentum updates.
 *
 * Two engines compute the same iteration: a float64 reference in plain typed-array loops (the
 * source's precision; unit tests and the engine comparison) and a float32 one on tfjs tensors
 * (`tf.matMul` and element-wise ops only: no layers, optimizers or gradients of tfjs), which
 * is ~10× faster on the wasm backend and trains the claims' protocols.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { deriveSeed, mulberry32 } from "claimcheck/plugin";

/** Digit classes = output units. */
export const CLASSES = 10;
/** The source's "output > 0.7 is a positive result". */
export const THRESHOLD = 0.7;
/** The source's learning rate and momentum. */
export const SOURCE_LR = 0.001, SOURCE_MOMENTUM = 0.9;

/** Layer widths: inputs, hidden…, outputs. */
export function layerSizes(inputs: number, hidden: readonly number[]): number[] {
  return [inputs, ...hidden, CLASSES];
}

/** Trainable weights of a network with these layer widths (no biases). */
export function paramCount(sizes: readonly number[]): number {
  return sizes.slice(1).reduce((a, out, l) => a + sizes[l] * out, 0);
}

/**
 * The source's initialisation, `np.random.rand(in, out) * 2 - 1` per layer: every weight uniform
 * in [−1, 1), row-major (fan-in × fan-out), drawn from mulberry32 seeded per layer. `range` ≠ 1
 * (exploratory only) draws from [−range, range) instead.
 */
export function initWeights(sizes: readonly number[], seed: number, range = 1): Float64Array[] {
  return sizes.slice(1).map((out, l) => {
    const rng = mulberry32(deriveSeed(seed, "weights", l));
    const w = new Float64Array(sizes[l] * out);
    for (let i = 0; i < w.length; i++) w[i] = (rng() * 2 - 1) * range;
    return w;
  });
}

// ---------------------------------------------------------------------------------------------
// Data

/** Rows of the digits table: features row-major `n × width`, labels, and their first row index. */
export interface Rows {
  x: Float64Array;
  labels: Uint8Array;
  n: number;
  width: number;
  /** Index in the digits table of the first row. */
  first: number;
}

/** `posted`: the code as posted; `intended`: the 80/20 split the code evidently meant. */
export type Split = "posted" | "intended";
/** `raw`: the 0..16 values as the source uses them; `unit`: divided by 16, in [0, 1]. */
export type Scale = "raw" | "unit";

/** Training, test and held-out rows of one protocol. */
export interface Sets {
  train: Rows;
  /** The source's test set: empty for `posted` (`images[1797:]`). */
  test: Rows;
  /** What we evaluate on as "test": `test`, or for `posted` every row not trained on. */
  heldOut: Rows;
}

function _rows(
  features: Float32Array,
  labels: Uint8Array,
  width: number,
  a: number,
  b: number,
  k: number,
): Rows {
  const x = new Float64Array((b - a) * width);
  for (let i = 0; i < x.length; i++) x[i] = features[a * width + i] * k;
  return { x, labels: labels.slice(a, b), n: b - a, width, first: a };
}

/**
 * The source's split. Its code computes `cut = int(len(labels*0.8))` — the length of the scaled
 * array, i.e. all 1,797 rows — then overrides the training set with `images[:10]`, so `posted`
 * trains on rows 0–9 and tests on `images[1797:]` (nothing). `intended` cuts at
 * `int(len(labels)*0.8)` = 1,437: rows 0–1436 train, 1437–1796 test, in the table's order.
 */
export function splitDigits(
  table: { features: Float32Array; labels: Uint8Array; count: number; width: number },
  split: Split,
  scale: Scale,
): Sets {
  const { features, labels, count, width } = table;
  const k = scale === "raw" ? 1 : 1 / 16;
  const rows = (a: number, b: number) => _rows(features, labels, width, a, b, k);
  if (split === "posted") {
    const cut = count; // int(len(labels * 0.8)): the array keeps its length
    return { train: rows(0, 10), test: rows(cut, count), heldOut: rows(10, count) };
  }
  const cut = Math.trunc(count * 0.8);
  const test = rows(cut, count);
  return { train: rows(0, cut), test, heldOut: test };
}

/** One-hot targets, row-major `n × 10`. */
export function oneHot(labels: Uint8Array): Float64Array {
  const y = new Float64Array(labels.length * CLASSES);
  labels.forEach((c, i) => y[i * CLASSES + c] = 1);
  return y;
}

// ---------------------------------------------------------------------------------------------
// float64 reference engine

/** The source's `_sigmoid`. */
export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/** `c (m×n) = a (m×k) @ b (k×n)`, row-major. */
function _matMul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      const v = a[i * k + p];
      if (v === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] += v * b[bp + j];
    }
  }
  return c;
}

/** `c (k×n) = aᵀ @ d` for `a (m×k)`, `d (m×n)`. */
function _matMulTA(
  a: Float64Array,
  d: Float64Array,
  m: number,
  k: number,
  n: number,
): Float64Array {
  const c = new Float64Array(k * n);
  for (let i = 0; i < m; i++) {
    const di = i * n;
    for (let p = 0; p < k; p++) {
      const v = a[i * k + p];
      if (v === 0) continue;
      const cp = p * n;
      for (let j = 0; j < n; j++) c[cp + j] += v * d[di + j];
    }
  }
  return c;
}

/** `c (m×k) = d (m×n) @ wᵀ` for `w (k×n)`. */
function _matMulTB(
  d: Float64Array,
  w: Float64Array,
  m: number,
  n: number,
  k: number,
): Float64Array {
  const c = new Float64Array(m * k);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += d[i * n + j] * w[p * n + j];
      c[i * k + p] = s;
    }
  }
  return c;
}

/** Activations of every layer for `n` rows, the input first: `a_{l+1} = σ(a_l W_l)`. */
export function forward64(
  weights: readonly Float64Array[],
  sizes: readonly number[],
  x: Float64Array,
  n: number,
): Float64Array[] {
  const acts = [x];
  weights.forEach((w, l) => {
    const a = _matMul(acts[l], w, n, sizes[l], sizes[l + 1]);
    for (let i = 0; i < a.length; i++) a[i] = sigmoid(a[i]);
    acts.push(a);
  });
  return acts;
}

/**
 * The source's backward pass over a batch: δ_L = a_L − y (no σ′ at the output),
 * δ_l = (δ_{l+1} W_lᵀ) ⊙ a_l(1 − a_l), gradient of W_l = a_lᵀ δ_{l+1} summed over the rows and
 * divided by `n`; also the source's mean error, mean over rows of Σ_k |a_k − y_k|.
 */
export function backward64(
  weights: readonly Float64Array[],
  sizes: readonly number[],
  acts: readonly Float64Array[],
  y: Float64Array,
  n: number,
): { grads: Float64Array[]; meanError: number } {
  const L = weights.length;
  let delta: Float64Array = Float64Array.from(acts[L], (a, i) => a - y[i]);
  let err = 0;
  for (const d of delta) err += Math.abs(d);
  const grads: Float64Array[] = new Array(L);
  for (let l = L - 1; l >= 0; l--) {
    const g = _matMulTA(acts[l], delta, n, sizes[l], sizes[l + 1]);
    for (let i = 0; i < g.length; i++) g[i] /= n;
    grads[l] = g;
    if (l > 0) {
      const back = _matMulTB(delta, weights[l], n, sizes[l + 1], sizes[l]);
      const a = acts[l];
      for (let i = 0; i < back.length; i++) back[i] *= a[i] * (1 - a[i]);
      delta = back;
    }
  }
  return { grads, meanError: err / n };
}

/**
 * The source's update, element by element: `m −= lr·g; w += m; m *= μ` — heavy-ball momentum
 * with the velocity decayed after the step (v_t = μ·v_{t−1} − lr·g_t; w_t = w_{t−1} + v_t).
 */
export function momentumUpdate(
  w: Float64Array,
  m: Float64Array,
  g: Float64Array,
  lr: number,
  mu: number,
): void {
  for (let i = 0; i < w.length; i++) {
    m[i] -= lr * g[i];
    w[i] += m[i];
    m[i] *= mu;
  }
}

/**
 * The loss whose gradient the source's backward pass computes: binary cross-entropy summed over
 * the 10 sigmoid outputs, averaged over rows (since ∂/∂z of −y ln a − (1−y) ln(1−a) is a − y).
 */
export function crossEntropy(out: Float64Array, y: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < out.length; i++) {
    s -= y[i] ? Math.log(out[i]) : Math.log(1 - out[i]);
  }
  return s / n;
}

/** One full-batch iteration of the float64 engine; returns the source's mean error. */
export function step64(
  weights: Float64Array[],
  momentum: Float64Array[],
  sizes: readonly number[],
  x: Float64Array,
  y: Float64Array,
  n: number,
  lr = SOURCE_LR,
  mu = SOURCE_MOMENTUM,
): number {
  const acts = forward64(weights, sizes, x, n);
  const { grads, meanError } = backward64(weights, sizes, acts, y, n);
  weights.forEach((w, l) => momentumUpdate(w, momentum[l], grads[l], lr, mu));
  return meanError;
}

// ---------------------------------------------------------------------------------------------
// float32 tfjs engine

/** The same iteration on tfjs tensors (float32): matMul, sigmoid and element-wise ops only. */
export class TfMlp {
  #w: tf.Tensor2D[];
  #m: tf.Tensor2D[];

  constructor(weights: readonly Float64Array[], readonly sizes: readonly number[]) {
    this.#w = weights.map((w, l) => tf.tensor2d(Float32Array.from(w), [sizes[l], sizes[l + 1]]));
    this.#m = this.#w.map((w) => tf.zerosLike(w));
  }

  /** Activations of every layer after the input for `x` (n × inputs), read back. */
  activations(x: tf.Tensor2D): Float32Array[] {
    const acts = tf.tidy(() => {
      const out: tf.Tensor2D[] = [];
      let a = x;
      for (const w of this.#w) out.push(a = tf.sigmoid(tf.matMul(a, w)));
      return out;
    });
    const values = acts.map((a) => a.dataSync() as Float32Array);
    tf.dispose(acts);
    return values;
  }

  /**
   * One full-batch iteration on `x`, its transpose `xT` and one-hot `y`; returns the source's
   * mean error of this iteration (before its update) as a scalar tensor.
   */
  step(x: tf.Tensor2D, xT: tf.Tensor2D, y: tf.Tensor2D, lr: number, mu: number): tf.Scalar {
    const n = x.shape[0];
    const out = tf.tidy(() => {
      const acts: tf.Tensor2D[] = [x];
      for (const w of this.#w) acts.push(tf.sigmoid(tf.matMul(acts.at(-1)!, w)));
      const L = this.#w.length;
      let delta: tf.Tensor2D = tf.sub(acts[L], y);
      const err = tf.div(tf.sum(tf.abs(delta)), n) as tf.Scalar;
      const w: tf.Tensor2D[] = [], m: tf.Tensor2D[] = [];
      for (let l = L - 1; l >= 0; l--) {
        // Transposes are explicit: the wasm backend's transposed matMul is a scalar loop.
        const aT = l === 0 ? xT : tf.transpose(acts[l]);
        const update = tf.div(tf.mul(tf.matMul(aT, delta), lr), n);
        if (l > 0) {
          const back = tf.matMul(delta, tf.transpose(this.#w[l]));
          delta = tf.mul(back, tf.mul(acts[l], tf.sub(1, acts[l])));
        }
        const v = tf.sub(this.#m[l], update);
        w[l] = tf.add(this.#w[l], v);
        m[l] = tf.mul(v, mu);
      }
      return { w, m, err };
    });
    tf.dispose([...this.#w, ...this.#m]);
    this.#w = out.w;
    this.#m = out.m;
    return out.err;
  }

  /** The weights as float64 arrays. */
  weights(): Float64Array[] {
    return this.#w.map((w) => Float64Array.from(w.dataSync()));
  }

  dispose(): void {
    tf.dispose([...this.#w, ...this.#m]);
  }
}

// ---------------------------------------------------------------------------------------------
// Metrics

/** What the outputs of one set say (all means over its rows). */
export interface OutputStats {
  /** The source's mean error: mean over rows of Σ_k |a_k − y_k|. */
  meanError: number;
  /** Arg-max accuracy (ties: the first maximum, as `np.argmax`). */
  acc: number;
  /** Correct at 0.7: the true class's output > 0.7 and every other output ≤ 0.7. */
  accThreshold: number;
  /** Lenient reading: the true class's output > 0.7, whatever the others do. */
  accTrueHit: number;
  /** Per-output reading: share of the n × 10 outputs on the right side of 0.7 (all-off scores 0.9). */
  accElementwise: number;
  /** Mean of all n × 10 outputs. */
  meanOutput: number;
  /** Mean over rows of max_k a_k − min_k a_k: 0 when every output of a row is equal. */
  outputSpread: number;
  /** Mean over rows of max_k |a_k − 0.1|: distance from the collapsed output [0.1, …, 0.1]. */
  collapseError: number;
  /** Spread (max − min) of the 10 per-class means over rows. */
  classMeanSpread: number;
}

/** Statistics of output activations `out` (n × 10, row-major) against true `labels`. */
export function outputStats(out: ArrayLike<number>, labels: Uint8Array): OutputStats {
  const n = labels.length;
  const classMean = new Float64Array(CLASSES);
  let meanError = 0, acc = 0, accThreshold = 0, accTrueHit = 0, elementwise = 0, sum = 0;
  let spread = 0, collapse = 0;
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    let arg = 0, max = -Infinity, min = Infinity, far = 0, positives = 0;
    for (let k = 0; k < CLASSES; k++) {
      const a = out[i * CLASSES + k], y = k === c ? 1 : 0;
      meanError += Math.abs(a - y);
      if (a > max) [max, arg] = [a, k];
      if (a < min) min = a;
      far = Math.max(far, Math.abs(a - 0.1));
      const positive = a > THRESHOLD;
      if (positive) positives++;
      if (positive === (y === 1)) elementwise++;
      sum += a;
      classMean[k] += a;
    }
    const hit = out[i * CLASSES + c] > THRESHOLD;
    if (arg === c) acc++;
    if (hit) accTrueHit++;
    if (hit && positives === 1) accThreshold++;
    spread += max - min;
    collapse += far;
  }
  const means = Array.from(classMean, (s) => s / n);
  return {
    meanError: meanError / n,
    acc: acc / n,
    accThreshold: accThreshold / n,
    accTrueHit: accTrueHit / n,
    accElementwise: elementwise / (n * CLASSES),
    meanOutput: sum / (n * CLASSES),
    outputSpread: spread / n,
    collapseError: collapse / n,
    classMeanSpread: Math.max(...means) - Math.min(...means),
  };
}

/**
 * Share of first-hidden-layer activations (rows × units) that are saturated, σ′(z) = a(1 − a)
 * below 0.01 (|z| > 4.6): there the layer's gradient is at most 1/25 of its unsaturated maximum.
 */
export function saturatedShare(acts: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < acts.length; i++) if (acts[i] * (1 - acts[i]) < 0.01) s++;
  return acts.length ? s / acts.length : 0;
}

/**
 * Iterations at which to evaluate: 1, 2, 3, 5, 7 × 10^k up to `last`, and `last` itself.
 */
export function checkpointIterations(last: number): number[] {
  const out = new Set<number>();
  for (let p = 1; p <= last; p *= 10) {
    for (const k of [1, 2, 3, 5, 7]) if (k * p <= last) out.add(k * p);
  }
  out.add(last);
  return [...out].sort((a, b) => a - b);
}

/** Iterations at which the error curve is sampled: every one up to 100, then ~50 per decade. */
export function curveIterations(last: number): Set<number> {
  const out = new Set<number>();
  for (let t = 1; t <= Math.min(100, last); t++) out.add(t);
  for (let e = 2; 10 ** e < last * 10; e += 0.02) out.add(Math.min(last, Math.round(10 ** e)));
  out.add(last);
  return out;
}

/**
 * How much a layer's activations depend on the input: the standard deviation of each unit over
 * the rows, averaged over the layer's `width` units (0 when every row gives the same values).
 */
export function inputSd(acts: ArrayLike<number>, width: number): number {
  const n = acts.length / width;
  let total = 0;
  for (let u = 0; u < width; u++) {
    let s = 0, s2 = 0;
    for (let i = 0; i < n; i++) {
      const v = acts[i * width + u];
      s += v;
      s2 += v * v;
    }
    const mean = s / n;
    total += Math.sqrt(Math.max(0, s2 / n - mean * mean));
  }
  return total / width;
}
