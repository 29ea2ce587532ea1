/**
 * Bit-identity checks of claimcheck's SIMD GEMM (harness/backend/simd/matmul.wat) on the wasm
 * backend that is set up, used by matmul_kernel_test.ts: in its own process (the single-threaded
 * build) and, run as a script with `Deno.args[0]` threads, on the threaded build (it prints the
 * threads that ran and the mismatches as JSON). Each check compares the bits of two float32
 * results:
 * - BatchMatMul by the SIMD kernel against the XNNPACK way it replaced (A·B or (Bᵀ·Aᵀ)ᵀ with
 *   explicit transposes), every transpose combination, small and odd shapes and the bench
 *   models' real ones;
 * - _FusedMatMul by the SIMD kernel against the backend's own kernel (XNNPACK), with and
 *   without a bias, linear and ReLU;
 * - the kernel called on several row ranges [lo, hi) against one call over all rows.
 */
import * as tf from "@tensorflow/tfjs";
import { simdPoolThreads } from "../harness/backend/simd/simd_pool.ts";
import { setupBackend } from "../harness/backend/backend.ts";
import { simdKernels } from "../harness/backend/simd/simd_kernels.ts";
import { batchMatMul, fusedMatMul, type MatMulWay } from "../harness/backend/wasm_kernels.ts";

/** One product op(A)[m, k] · op(B)[k, n]. */
export interface MatMulCase {
  what: string;
  m: number;
  k: number;
  n: number;
  ta: boolean;
  tb: boolean;
}

/**
 * A dense layer's three products at this batch size: the forward A·W, dW = Aᵀ·dY and
 * dA = dY·Wᵀ (as tfjs' matMul gradient computes them).
 */
function _layer(model: string, batch: number, units: [number, number]): MatMulCase[] {
  const [i, o] = units, at = `${model} ${i}→${o}`;
  return [
    { what: `${at} forward`, m: batch, k: i, n: o, ta: false, tb: false },
    { what: `${at} dW`, m: i, k: batch, n: o, ta: true, tb: false },
    { what: `${at} dA`, m: batch, k: o, n: i, ta: false, tb: true },
  ];
}

/** The dense layers of the bench models (bench/README.md), at their batch sizes. */
export const MODEL_CASES: MatMulCase[] = [
  ..._layer("keras-dense", 32, [784, 64]),
  ..._layer("keras-dense", 32, [64, 10]),
  ..._layer("cnn-sgd", 32, [576, 500]),
  ..._layer("cnn-sgd", 32, [500, 100]),
  ..._layer("cnn-sgd", 32, [100, 10]),
  ..._layer("conv-autoencoder", 128, [3136, 100]),
  ..._layer("conv-autoencoder", 128, [100, 3136]),
];

/**
 * Small and odd shapes in every transpose combination: M, N not multiples of 4 or 8 (row and
 * column remainders), K of 1 (rows 4 bytes apart, as in a transposed A), not a multiple of 4,
 * past one block of 256 and of several, single rows and columns.
 */
export const SMALL_CASES: MatMulCase[] = [
  [1, 1, 1],
  [1, 7, 9],
  [2, 1, 3],
  [3, 5, 7],
  [4, 8, 8],
  [5, 3, 16],
  [7, 2, 13],
  [6, 3, 5],
  [9, 1, 12],
  [6, 257, 11],
  [9, 300, 24],
  [13, 600, 17],
  [17, 64, 5],
  [33, 40, 1],
].flatMap(([m, k, n]) =>
  [[false, false], [true, false], [false, true], [true, true]].map(([ta, tb]) => ({
    what: `${m}×${k}×${n}`,
    m,
    k,
    n,
    ta,
    tb,
  }))
);

/**
 * `size` values whose magnitudes span 2^±8 (so a change in summation order shows in the low
 * bits), with some exact zeros and negative zeros; deterministic (xorshift32).
 */
export function mixedValues(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = (seed * 2654435761) >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  for (let i = 0; i < size; i++) {
    const u = next();
    out[i] = u < 0.02 ? 0 : u < 0.03 ? -0 : (2 * next() - 1) * 2 ** Math.floor(next() * 17 - 8);
  }
  return out;
}

function _label(c: MatMulCase): string {
  return `${c.what} [m ${c.m}, k ${c.k}, n ${c.n}] tA=${c.ta} tB=${c.tb}`;
}

/** The first element whose bits differ, in words, or null. */
function _firstDifference(x: Float32Array, y: Float32Array): string | null {
  if (x.length !== y.length) return `lengths ${x.length} and ${y.length}`;
  const bx = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const by = new Uint32Array(y.buffer, y.byteOffset, y.length);
  for (let i = 0; i < bx.length; i++) {
    if (bx[i] !== by[i]) return `element ${i}: ${x[i]} vs ${y[i]}`;
  }
  return null;
}

/** The operands of `c` (rank 2, or rank 3 with batch 1) on the current backend. */
function _operands(c: MatMulCase, seed: number, rank3: boolean): { a: tf.Tensor; b: tf.Tensor } {
  const lead = rank3 ? [1] : [];
  const a = tf.tensor(mixedValues(c.m * c.k, seed), [...lead, ...(c.ta ? [c.k, c.m] : [c.m, c.k])]);
  const b = tf.tensor(mixedValues(c.k * c.n, seed + 1), [
    ...lead,
    ...(c.tb ? [c.n, c.k] : [c.k, c.n]),
  ]);
  return { a, b };
}

type _Kernel = (
  args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap },
  way: MatMulWay,
) => tf.TensorInfo;

/** `kernel` computing its op `way` on these inputs, read back. */
function _run(
  kernel: _Kernel,
  way: MatMulWay,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
): Float32Array {
  const out = tf.engine().makeTensorFromTensorInfo(
    kernel({ inputs, backend: tf.backend(), attrs }, way),
  );
  const values = out.dataSync() as Float32Array;
  out.dispose();
  return values;
}

/** BatchMatMul, SIMD against XNNPACK: a list of mismatches (empty when all agree). */
export function batchMatMulMismatches(cases: MatMulCase[]): string[] {
  const out: string[] = [];
  cases.forEach((c, i) => {
    for (const rank3 of [false, true]) {
      const { a, b } = _operands(c, 10 * i + (rank3 ? 5 : 0), rank3);
      const attrs = { transposeA: c.ta, transposeB: c.tb };
      const [simd, xnnpack] = (["simd", "xnnpack"] as const).map((way) =>
        _run(batchMatMul as _Kernel, way, { a, b }, attrs)
      );
      const diff = _firstDifference(simd, xnnpack);
      if (diff) out.push(`BatchMatMul ${_label(c)}${rank3 ? " rank 3" : ""}: ${diff}`);
      tf.dispose([a, b]);
    }
  });
  return out;
}

/**
 * _FusedMatMul (untransposed cases), SIMD against the backend's own kernel, each with no bias
 * or a bias of n, linear or ReLU: a list of mismatches.
 */
export function fusedMatMulMismatches(cases: MatMulCase[]): string[] {
  const out: string[] = [];
  cases.filter((c) => !c.ta && !c.tb).forEach((c, i) => {
    const { a, b } = _operands(c, 1000 + 10 * i, true);
    const bias = tf.tensor(mixedValues(c.n, 1000 + 10 * i + 2), [c.n]);
    for (const withBias of [false, true]) {
      for (const activation of ["linear", "relu"]) {
        const inputs = withBias ? { a, b, bias } : { a, b };
        const attrs = { transposeA: false, transposeB: false, activation };
        const [simd, xnnpack] = (["simd", "xnnpack"] as const).map((way) =>
          _run(fusedMatMul as _Kernel, way, inputs, attrs)
        );
        const diff = _firstDifference(simd, xnnpack);
        if (diff) out.push(`_FusedMatMul ${_label(c)} bias=${withBias} ${activation}: ${diff}`);
      }
    }
    tf.dispose([a, b, bias]);
  });
  return out;
}

type _HeapBackend = tf.KernelBackend & {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
};

/**
 * C by the kernel called once per row range between consecutive `cuts` (0 and m added), the
 * last range first (so a call that wrote past its range would spoil rows already computed),
 * with a bias and ReLU where asked, read back.
 */
function _splitMatMul(
  c: MatMulCase,
  cuts: number[],
  { bias, relu }: { bias: boolean; relu: boolean },
  seed: number,
): Float32Array {
  const backend = tf.backend() as _HeapBackend;
  const simd = simdKernels(backend);
  if (!simd) throw new Error("no SIMD kernels on this backend");
  const { a, b } = _operands(c, seed, false);
  const biasT = tf.tensor(mixedValues(c.n, seed + 2), [c.n]);
  const out = backend.makeOutput([c.m, c.n], "float32");
  const scratch = backend.makeOutput([8 * (c.k + 1)], "float32");
  const at = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t).byteOffset;
  const bounds = [0, ...cuts, c.m];
  for (let p = bounds.length - 2; p >= 0; p--) {
    simd.matmul(
      at(a),
      at(b),
      at(biasT),
      at(out),
      c.m,
      c.k,
      c.n,
      Number(c.ta),
      Number(c.tb),
      Number(bias),
      Number(relu),
      at(scratch),
      bounds[p],
      bounds[p + 1],
    );
  }
  const values = Float32Array.from(backend.typedArrayFromHeap(out));
  backend.disposeData(out.dataId);
  backend.disposeData(scratch.dataId);
  tf.dispose([a, b, biasT]);
  return values;
}

/**
 * Split calls against one call: rows cut into pieces of 1, 3, 4 and 5 rows (tiles that start
 * off the multiples of 4) and into two halves, each case with and without a bias and ReLU.
 */
export function splitMismatches(cases: MatMulCase[]): string[] {
  const out: string[] = [];
  cases.forEach((c, i) => {
    const pieces = [[1, 4, 8, 13], [Math.floor(c.m / 2)], [3]].map((cuts) =>
      cuts.filter((x) => x > 0 && x < c.m)
    );
    for (const flags of [{ bias: false, relu: false }, { bias: true, relu: true }]) {
      const whole = _splitMatMul(c, [], flags, 2000 + 10 * i);
      for (const cuts of pieces) {
        const diff = _firstDifference(_splitMatMul(c, cuts, flags, 2000 + 10 * i), whole);
        if (diff) {
          out.push(`split at ${cuts} ${_label(c)} bias=${flags.bias} relu=${flags.relu}: ${diff}`);
        }
      }
    }
  });
  return out;
}

/** Every check above on every case: how many cases ran, and the mismatches. */
function _allMismatches(): { cases: number; mismatches: string[] } {
  const cases = [...SMALL_CASES, ...MODEL_CASES];
  return {
    cases: cases.length,
    mismatches: [
      ...batchMatMulMismatches(cases),
      ...fusedMatMulMismatches(cases),
      ...splitMismatches(cases),
    ],
  };
}

if (import.meta.main) {
  await setupBackend("wasm", { wasmThreads: Number(Deno.args[0]) });
  console.log(JSON.stringify({ threads: simdPoolThreads(tf.backend()), ..._allMismatches() }));
  Deno.exit(0); // the threaded build's pthread workers would keep the process alive
}
