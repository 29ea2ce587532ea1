/**
 * Keras ImageDataGenerator's random affine transforms (rotation, shift, shear, zoom), drawn from
 * a seeded stream and applied on the CPU in float64 as Keras applies them: its 3×3 matrix,
 * composed in its order about its centre, then SciPy's `ndimage.affine_transform` with the
 * version's spline order and fill mode, the result stored as float32 (Keras' dtype).
 * @module
 */
import {
  type Augmentation,
  type AugmentationRule,
  type FillMode,
  zoomBounds,
} from "../spec/augmentation.ts";
import type { Rng } from "../util/random.ts";

/** One image's transform, as Keras' `apply_affine_transform` takes it. */
export interface AffineTransform {
  /** Rotation, degrees. */
  theta: number;
  /** Shift along the matrix's first axis, pixels (Keras' tx, drawn from the height range). */
  tx: number;
  /** Shift along the matrix's second axis, pixels (Keras' ty, drawn from the width range). */
  ty: number;
  /** Shear, degrees. */
  shear: number;
  /** Zoom along the first axis (above 1 zooms out). */
  zx: number;
  /** Zoom along the second axis. */
  zy: number;
}

/**
 * Draws one image's transform as Keras' `get_random_transform` does, in its order (rotation,
 * height shift, width shift, shear, zoom), each only where its range is set; `rng` replaces
 * numpy's global generator.
 */
export function drawTransform(
  a: Augmentation,
  rule: AugmentationRule,
  rng: Rng,
  rows: number,
  cols: number,
): AffineTransform {
  // np.random.uniform(-r, r)
  const uniform = (r: number) => -r + 2 * r * rng();
  const shift = (r: number, size: number) => {
    if (!r) return 0;
    if (rule.shifts === "whole" && Number.isInteger(r)) {
      // A Python int: np.random.choice(r) (0 … r − 1), times a random sign.
      const magnitude = Math.floor(rng() * r);
      return rng() < 0.5 ? -magnitude : magnitude;
    }
    const drawn = uniform(r);
    return rule.shifts === "fraction" || r < 1 ? drawn * size : drawn;
  };
  const theta = a.rotationRange ? uniform(a.rotationRange) : 0;
  const tx = shift(a.heightShiftRange, rows);
  const ty = shift(a.widthShiftRange, cols);
  const sheared = a.shearRange ? uniform(a.shearRange) : 0;
  const shear = rule.shearRadians ? (sheared * 180) / Math.PI : sheared;
  const [lower, upper] = zoomBounds(a.zoomRange);
  const zoom = () => lower + (upper - lower) * rng();
  const [zx, zy] = lower === 1 && upper === 1 ? [1, 1] : [zoom(), zoom()];
  return { theta, tx, ty, shear, zx, zy };
}

type _Matrix = number[][];

function _mul(a: _Matrix, b: _Matrix): _Matrix {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
}

/**
 * Keras' affine matrix of `t` for a `rows × cols` image, as SciPy takes it: the input point
 * (row, column) a pixel of the output samples is [m0 m1 m2; m3 m4 m5] · (row, column, 1). Null
 * for the identity, which Keras leaves unresampled.
 */
export function kerasAffineMatrix(
  t: AffineTransform,
  rows: number,
  cols: number,
  rule: Pick<AugmentationRule, "xy">,
): number[] | null {
  let m: _Matrix | null = null;
  const then = (next: _Matrix) => m = m ? _mul(m, next) : next;
  if (t.theta !== 0) {
    const a = t.theta * (Math.PI / 180);
    then([[Math.cos(a), -Math.sin(a), 0], [Math.sin(a), Math.cos(a), 0], [0, 0, 1]]);
  }
  if (t.tx !== 0 || t.ty !== 0) then([[1, 0, t.tx], [0, 1, t.ty], [0, 0, 1]]);
  if (t.shear !== 0) {
    const s = t.shear * (Math.PI / 180);
    then([[1, -Math.sin(s), 0], [0, Math.cos(s), 0], [0, 0, 1]]);
  }
  if (t.zx !== 1 || t.zy !== 1) then([[t.zx, 0, 0], [0, t.zy, 0], [0, 0, 1]]);
  if (m === null) return null;
  // transform_matrix_offset_center(matrix, h, w): about (h/2 ± 0.5, w/2 ± 0.5).
  const [ox, oy] = [rows / 2, cols / 2].map((c) => rule.xy ? c - 0.5 : c + 0.5);
  const offset = [[1, 0, ox], [0, 1, oy], [0, 0, 1]];
  const reset = [[1, 0, -ox], [0, 1, -oy], [0, 0, 1]];
  const c = _mul(_mul(offset, m), reset);
  // From Keras 2.9 the matrix acts on (x, y): P·M·P, P swapping the two axes.
  return rule.xy
    ? [c[1][1], c[1][0], c[1][2], c[0][1], c[0][0], c[0][2]]
    : [c[0][0], c[0][1], c[0][2], c[1][0], c[1][1], c[1][2]];
}

/**
 * Where SciPy's ndimage samples coordinate `c` of an axis of length `n` under `mode` (for spline
 * orders 0 and 1): `c` itself inside [0, n − 1]; outside, the edge (`nearest`), the half-sample
 * mirror image (`reflect`), `c` modulo n − 1 (`wrap`, whose ends overlap), or NaN (`constant`).
 */
function _mapped(c: number, n: number, mode: FillMode): number {
  if (c >= 0 && c <= n - 1) return c;
  if (mode === "constant") return NaN;
  if (mode === "nearest" || n === 1) return c < 0 ? 0 : n - 1;
  if (mode === "reflect") {
    const period = 2 * n;
    let r = (c + 0.5) % period;
    if (r < 0) r += period;
    r -= 0.5;
    return r > n - 0.5 ? period - 1 - r : r;
  }
  const period = n - 1;
  return c < 0 ? period - (-c % period) : c % period;
}

/**
 * Applies `m` (see kerasAffineMatrix; null copies) to the `rows × cols` image at `src[from…]`,
 * writing `out[to…]`: SciPy's `affine_transform` of order `order` with Keras' `fill_mode` and
 * `cval`.
 */
export function applyAffine(
  src: ArrayLike<number>,
  from: number,
  rows: number,
  cols: number,
  m: number[] | null,
  a: Pick<Augmentation, "fillMode" | "cval">,
  order: 0 | 1,
  out: Float32Array,
  to: number,
): void {
  if (m === null) {
    for (let i = 0; i < rows * cols; i++) out[to + i] = src[from + i];
    return;
  }
  const cval = a.cval ?? 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const y = _mapped(m[0] * r + m[1] * c + m[2], rows, a.fillMode);
      const x = _mapped(m[3] * r + m[4] * c + m[5], cols, a.fillMode);
      let v: number;
      if (Number.isNaN(y) || Number.isNaN(x)) v = cval;
      else if (order === 0) {
        const row = Math.min(Math.floor(y + 0.5), rows - 1);
        v = src[from + row * cols + Math.min(Math.floor(x + 0.5), cols - 1)];
      } else {
        // Mapped coordinates lie in [−0.5, n − 0.5]: a neighbour past an edge is the edge.
        const r0 = Math.floor(y), c0 = Math.floor(x);
        const fy = y - r0, fx = x - c0;
        const top = from + Math.max(r0, 0) * cols;
        const bottom = from + Math.min(r0 + 1, rows - 1) * cols;
        const left = Math.max(c0, 0), right = Math.min(c0 + 1, cols - 1);
        v = (1 - fy) * ((1 - fx) * src[top + left] + fx * src[top + right]) +
          fy * ((1 - fx) * src[bottom + left] + fx * src[bottom + right]);
      }
      out[to + r * cols + c] = v;
    }
  }
}

/** One training image as read and as augmented, in a run's `augmented` artifact. */
export interface AugmentedDigit {
  /** Its index in the training set. */
  index: number;
  /** Its height. */
  rows: number;
  /** Its width. */
  cols: number;
  /** The transform it got. */
  transform: AffineTransform;
  /** As read: 0..255 bytes in base64, its scaling undone. */
  original: string;
  /** As augmented, the same way. */
  augmented: string;
}

/** A run's `augmented` artifact: the first images of its first batch, before and after. */
export interface AugmentedSample {
  /** The Keras version whose augmentation ran (the protocol's `keras`, default 3). */
  keras: string;
  /** The versions that share its rule (see AugmentationRule). */
  rule: string;
  /** Its fill mode. */
  fillMode: FillMode;
  /** The images, in batch order. */
  shown: AugmentedDigit[];
}

/** A batch of augmented images and the transform each got. */
export interface AugmentedBatch {
  /** The images, `indices.length × rows × cols`, float32. */
  pixels: Float32Array;
  /** Each image's transform, in batch order. */
  transforms: AffineTransform[];
}

/**
 * The images at `indices` of `source` (`rows × cols` each), each with its own transform drawn
 * from `rng` in batch order, as Keras' iterator augments a batch.
 */
export function augmentBatch(
  a: Augmentation,
  rule: AugmentationRule,
  source: ArrayLike<number>,
  rows: number,
  cols: number,
  indices: ArrayLike<number>,
  rng: Rng,
): AugmentedBatch {
  const size = rows * cols;
  const pixels = new Float32Array(indices.length * size);
  const transforms: AffineTransform[] = [];
  for (let i = 0; i < indices.length; i++) {
    const t = drawTransform(a, rule, rng, rows, cols);
    transforms.push(t);
    const m = kerasAffineMatrix(t, rows, cols, rule);
    applyAffine(source, indices[i] * size, rows, cols, m, a, rule.order, pixels, i * size);
  }
  return { pixels, transforms };
}
