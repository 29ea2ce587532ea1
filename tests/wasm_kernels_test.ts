/**
 * The wasm training kernels (harness/wasm_kernels.ts) against the cpu backend:
 * - Conv2DBackpropFilter (claimcheck's SIMD kernel where co % 8 == 0, and both XNNPACK
 *   formulations), Conv2D and FusedConv2D (claimcheck's SIMD kernel where co ≥ 8, and the
 *   backend's own) and Conv2DBackpropInput (claimcheck's SIMD kernel where ci ≥ 8, and the
 *   phase-filter rewrite or the backend's own loop) on 19 shapes: strides 1,
 *   2, (2,1), (3,2); same / valid / explicit padding; channels 1, 2, 3, 8, 32, 64; batch 1, 2,
 *   3, 16; odd sizes; the two suite models' layers; conv2dTranspose as the autoencoder uses it;
 *   tfjs' gradients of conv2d and conv2dTranspose through them (bit-identity of the SIMD
 *   convolutions with what they replace: wasm_conv_test.ts);
 * - MaxPoolGrad (claimcheck's SIMD kernel where channels % 4 == 0, and the XNNPACK rewrite),
 *   tiled and overlapping windows, random values and tie-heavy ones;
 * - BatchMatMul with every transpose combination, Sum, Slice, SplitV, Identity and Cast;
 * - one training step of cnn-sgd (SGD + momentum) and of the conv autoencoder (Adam) from the
 *   same weights and batch: loss, every gradient and every weight update.
 *
 * Tolerance: max |wasm − cpu| ≤ 1e-4 · max |cpu| over each output tensor (summation order
 * differs between XNNPACK and the cpu loops, so per-element relative error is meaningless
 * where sums cancel); weight updates also allow 2 ulp of the weights, and Adam's first update
 * (lr·g/(|g| + ε), which amplifies rounding of near-zero gradients) 2e-3 · lr.
 */
import * as tf from "@tensorflow/tfjs";
import { cnn } from "../replications/cnn-sgd/model.ts";
import { autoencoder } from "../replications/medium-autoencoder/model.ts";
import assert from "assert";
import { setupBackend } from "../harness/backend/backend.ts";
import { adam, momentum } from "../harness/train/fused_optimizers.ts";
import { makeTrainStep, singleOutput } from "../harness/train/step.ts";
import {
  conv2D,
  conv2DBackpropFilter,
  conv2DBackpropInput,
  type ConvWay,
  type FilterGradWay,
  fusedConv2D,
  type InputGradWay,
  type KernelArgs,
  maxPoolGrad,
  type MaxPoolGradWay,
  registerWasmTrainingKernels,
  WASM_TRAINING_KERNELS,
} from "../harness/backend/wasm_kernels.ts";

const RTOL = 1e-4;

await setupBackend("cpu");
await setupBackend("wasm");
registerWasmTrainingKernels();
registerWasmTrainingKernels(); // idempotent

/** Deterministic pseudo-random values in [−1, 1) (LCG), so both backends see the same data. */
function rand(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

interface Spec {
  shape: number[];
  values: Float32Array;
}

function spec(shape: number[], seed: number, map?: (v: number) => number): Spec {
  const values = rand(shape.reduce((a, b) => a * b, 1), seed);
  if (map) values.forEach((v, i) => (values[i] = map(v)));
  return { shape, values };
}

/** Runs `f` on `backend` with fresh tensors from `inputs`; returns each output's values. */
async function on(
  backend: "cpu" | "wasm",
  inputs: Spec[],
  f: (...t: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const ts = inputs.map((s) => tf.tensor(s.values, s.shape));
    const out = f(...ts);
    return (Array.isArray(out) ? out : [out]).map((t) => Float32Array.from(t.dataSync()));
  });
}

function assertClose(
  actual: Float32Array,
  expected: Float32Array,
  what: string,
  rtol = RTOL,
  atol = 0,
) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let maxRef = 0, maxErr = 0;
  for (let i = 0; i < expected.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
    maxErr = Math.max(maxErr, Math.abs(actual[i] - expected[i]));
  }
  assert.ok(Number.isFinite(maxErr), `${what}: non-finite values`);
  assert.ok(
    maxErr <= rtol * Math.max(maxRef, 1e-30) + atol,
    `${what}: max error ${maxErr.toExponential(2)} > ${rtol} × ${maxRef.toExponential(2)}`,
  );
}

/** `f` on wasm (or `onWasm` there, where given) against `f` on cpu. */
async function compare(
  what: string,
  inputs: Spec[],
  f: (...t: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  onWasm = f,
) {
  const expected = await on("cpu", inputs, f);
  const actual = await on("wasm", inputs, onWasm);
  expected.forEach((e, i) => assertClose(actual[i], e, `${what} [output ${i}]`));
}

/**
 * The wasm kernel function `kernel` computing its op `way`, called as the engine calls a
 * registered kernel (which computes it "auto"), on the current backend.
 */
function forced<W>(
  kernel: (args: KernelArgs, way: W) => tf.TensorInfo,
  way: W,
  inputs: tf.NamedTensorMap,
  attrs: tf.NamedAttrMap,
): tf.Tensor {
  return tf.engine().makeTensorFromTensorInfo(
    kernel({ inputs, backend: tf.backend(), attrs }, way),
  );
}

type Pad = "same" | "valid" | number;

interface ConvCase {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  f: [number, number];
  s: [number, number];
  pad: Pad;
}

const CONV_CASES: ConvCase[] = [];
{
  const geometries: [number, number, [number, number], [number, number]][] = [
    [7, 9, [3, 3], [1, 1]],
    [7, 9, [3, 3], [2, 2]],
    [8, 6, [2, 2], [2, 2]],
    [5, 5, [5, 5], [1, 1]],
    [9, 7, [1, 1], [2, 2]],
    [6, 7, [3, 2], [2, 1]],
    [11, 8, [4, 3], [3, 2]],
  ];
  let i = 0;
  for (const [h, w, f, s] of geometries) {
    for (const pad of ["same", "valid"] as Pad[]) {
      const [ci, co] = [[1, 8], [3, 3], [8, 1], [3, 8]][i % 4];
      CONV_CASES.push({ n: i % 2 ? 3 : 1, h, w, ci, co, f, s, pad });
      i++;
    }
  }
  CONV_CASES.push({ n: 3, h: 6, w: 6, ci: 3, co: 8, f: [3, 3], s: [1, 1], pad: 1 });
  // oh·ow·n a multiple of 1024: the zero-sample padding path.
  CONV_CASES.push({ n: 16, h: 10, w: 10, ci: 2, co: 8, f: [3, 3], s: [1, 1], pad: "valid" });
  // The shapes of the two suite models.
  CONV_CASES.push({ n: 2, h: 28, w: 28, ci: 1, co: 32, f: [5, 5], s: [1, 1], pad: "valid" });
  CONV_CASES.push({ n: 2, h: 8, w: 8, ci: 32, co: 64, f: [2, 2], s: [1, 1], pad: "valid" });
  CONV_CASES.push({ n: 2, h: 14, w: 14, ci: 32, co: 64, f: [3, 3], s: [1, 1], pad: "same" });
}

function convLabel(c: ConvCase): string {
  return `x[${c.n},${c.h},${c.w},${c.ci}] f${c.f.join("x")} co${c.co} s${c.s.join(",")} ${c.pad}`;
}

function outSize(c: ConvCase): [number, number] {
  const info = tf.backend_util.computeConv2DInfo(
    [c.n, c.h, c.w, c.ci],
    [c.f[0], c.f[1], c.ci, c.co],
    c.s,
    1,
    c.pad,
  );
  return [info.outHeight, info.outWidth];
}

Deno.test("registers the training kernels on wasm", () => {
  const names = tf.getKernelsForBackend("wasm").map((k) => k.kernelName);
  for (const k of WASM_TRAINING_KERNELS) assert.ok(names.includes(k), k);
  assert.ok(WASM_TRAINING_KERNELS.includes("Conv2DBackpropFilter"));
});

Deno.test("Conv2DBackpropFilter matches cpu (SIMD kernel and both XNNPACK formulations)", async () => {
  let seed = 1;
  for (const c of CONV_CASES) {
    const [oh, ow] = outSize(c);
    const x = spec([c.n, c.h, c.w, c.ci], seed++);
    const dy = spec([c.n, oh, ow, c.co], seed++);
    const filterShape = [c.f[0], c.f[1], c.ci, c.co];
    const attrs = { strides: c.s, pad: c.pad, dataFormat: "NHWC", filterShape };
    const registered = (xt: tf.Tensor, dyt: tf.Tensor) =>
      tf.engine().runKernel("Conv2DBackpropFilter", { x: xt, dy: dyt }, attrs) as tf.Tensor;
    // The SIMD kernel takes co % 8 == 0; the others take anything.
    const ways: FilterGradWay[] = c.co % 8 === 0 ? ["auto", "simd", "A", "B"] : ["auto", "A", "B"];
    for (const way of ways) {
      await compare(
        `dW ${way} ${convLabel(c)}`,
        [x, dy],
        registered,
        way === "auto"
          ? registered
          : (xt, dyt) => forced(conv2DBackpropFilter, way, { x: xt, dy: dyt }, attrs),
      );
    }
  }
});

Deno.test("Conv2DBackpropFilter's SIMD kernel refuses what it cannot run", async () => {
  await tf.setBackend("wasm");
  const x = tf.ones([1, 4, 4, 2]), dy = tf.ones([1, 4, 4, 3]);
  assert.throws(
    () =>
      forced(conv2DBackpropFilter, "simd", { x, dy }, {
        strides: 1,
        pad: "same",
        dataFormat: "NHWC",
        filterShape: [1, 1, 2, 3],
      }),
    /SIMD kernel cannot run/,
  );
  tf.dispose([x, dy]);
});

Deno.test("Conv2D and FusedConv2D match cpu (SIMD kernel and the backend's own)", async () => {
  let seed = 150;
  for (const c of CONV_CASES) {
    const x = spec([c.n, c.h, c.w, c.ci], seed++);
    const filter = spec([c.f[0], c.f[1], c.ci, c.co], seed++);
    const bias = spec([c.co], seed++);
    const attrs = { strides: c.s, pad: c.pad, dataFormat: "NHWC", dilations: 1 };
    // The SIMD kernel takes co ≥ 8.
    const ways: ConvWay[] = c.co >= 8 ? ["auto", "simd", "xnnpack"] : ["auto", "xnnpack"];
    for (const way of ways) {
      await compare(
        `conv2d ${way} ${convLabel(c)}`,
        [x, filter],
        (xt, ft) => tf.conv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, c.s, c.pad),
        (xt, ft) => forced(conv2D, way, { x: xt, filter: ft }, attrs),
      );
      for (const activation of ["linear", "relu"] as const) {
        await compare(
          `fused conv2d ${activation} ${way} ${convLabel(c)}`,
          [x, filter, bias],
          (xt, ft, bt) => {
            const y = tf.conv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, c.s, c.pad).add(bt);
            return activation === "relu" ? tf.relu(y) : y;
          },
          (xt, ft, bt) =>
            forced(fusedConv2D, way, { x: xt, filter: ft, bias: bt }, { ...attrs, activation }),
        );
      }
    }
  }
  // What the SIMD kernel does not take goes to the backend's own: dilation, other activations.
  await compare(
    "conv2d dilated",
    [spec([2, 9, 9, 3], seed++), spec([3, 3, 3, 8], seed++)],
    (xt, ft) => tf.conv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, 1, "same", "NHWC", 2),
  );
  await compare(
    "fused conv2d relu6",
    [spec([2, 7, 7, 3], seed++), spec([3, 3, 3, 8], seed++)],
    (xt, ft) =>
      tf.fused.conv2d({
        x: xt as tf.Tensor4D,
        filter: ft as tf.Tensor4D,
        strides: 1,
        pad: "same",
        activation: "relu6",
      }),
  );
});

Deno.test("the SIMD convolutions refuse what they cannot run", async () => {
  await tf.setBackend("wasm");
  const x = tf.ones([1, 6, 6, 8]), f4 = tf.ones([3, 3, 8, 4]), f8 = tf.ones([3, 3, 8, 8]);
  const attrs = { strides: 1, pad: "same", dataFormat: "NHWC", dilations: 1 };
  const cannot = /SIMD kernel cannot run/;
  assert.throws(() => forced(conv2D, "simd", { x, filter: f4 }, attrs), cannot); // co < 8
  assert.throws(
    () => forced(conv2D, "simd", { x, filter: f8 }, { ...attrs, dilations: 2 }),
    cannot,
  );
  assert.throws(
    () => forced(fusedConv2D, "simd", { x, filter: f8 }, { ...attrs, activation: "elu" }),
    cannot,
  );
  const dy = tf.ones([1, 6, 6, 8]);
  const dxAttrs = { strides: 1, pad: "same", dataFormat: "NHWC" };
  assert.throws(
    () =>
      forced(conv2DBackpropInput, "simd", { dy, filter: f8 }, {
        ...dxAttrs,
        inputShape: [1, 6, 6, 4],
      }),
    cannot,
  ); // ci < 8
  tf.dispose([x, f4, f8, dy]);
});

Deno.test("Conv2DBackpropInput matches cpu (conv dx and conv2dTranspose)", async () => {
  let seed = 100;
  for (const c of CONV_CASES) {
    const [oh, ow] = outSize(c);
    const dy = spec([c.n, oh, ow, c.co], seed++);
    const filter = spec([c.f[0], c.f[1], c.ci, c.co], seed++);
    const attrs = {
      strides: c.s,
      pad: c.pad,
      dataFormat: "NHWC",
      inputShape: [c.n, c.h, c.w, c.ci],
    };
    const registered = (dyt: tf.Tensor, ft: tf.Tensor) =>
      tf.engine().runKernel("Conv2DBackpropInput", { dy: dyt, filter: ft }, attrs) as tf.Tensor;
    // The SIMD kernel takes ci ≥ 8.
    const ways: InputGradWay[] = c.ci >= 8 ? ["simd", "xnnpack"] : ["xnnpack"];
    await compare(`dx ${convLabel(c)}`, [dy, filter], registered);
    for (const way of ways) {
      await compare(
        `dx ${way} ${convLabel(c)}`,
        [dy, filter],
        registered,
        (dyt, ft) => forced(conv2DBackpropInput, way, { dy: dyt, filter: ft }, attrs),
      );
    }
  }
  // The autoencoder's decoder: Conv2DTranspose(32, 3, stride 2, same) on 7×7×64, then to 28×28×1.
  await compare(
    "conv2dTranspose 7x7x64 → 14x14x32",
    [spec([3, 7, 7, 64], 7), spec([3, 3, 32, 64], 8)],
    (x, f) => tf.conv2dTranspose(x as tf.Tensor4D, f as tf.Tensor4D, [3, 14, 14, 32], 2, "same"),
  );
  await compare(
    "conv2dTranspose 14x14x32 → 28x28x1",
    [spec([3, 14, 14, 32], 9), spec([3, 3, 1, 32], 10)],
    (x, f) => tf.conv2dTranspose(x as tf.Tensor4D, f as tf.Tensor4D, [3, 28, 28, 1], 2, "same"),
  );
});

Deno.test("conv2d and conv2dTranspose gradients match cpu", async () => {
  let seed = 200;
  // Every third small case (the model-sized ones are slow on cpu, and covered above).
  for (const c of CONV_CASES.slice(0, -3).filter((_, i) => i % 3 === 0)) {
    const [oh, ow] = outSize(c);
    const x = spec([c.n, c.h, c.w, c.ci], seed++);
    const f = spec([c.f[0], c.f[1], c.ci, c.co], seed++);
    const dy = spec([c.n, oh, ow, c.co], seed++);
    await compare(
      `grads conv2d ${convLabel(c)}`,
      [x, f, dy],
      (xt, ft, dyt) =>
        tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad)
        )([xt, ft], dyt),
    );
    // conv2dTranspose maps dy-shaped inputs back to x's shape.
    await compare(
      `grads conv2dTranspose ${convLabel(c)}`,
      [dy, f, x],
      (yt, ft, gt) =>
        tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.conv2dTranspose(
            a as tf.Tensor4D,
            b as tf.Tensor4D,
            [c.n, c.h, c.w, c.ci],
            c.s,
            c.pad as "same" | "valid",
          )
        )([yt, ft], gt),
    );
  }
});

interface PoolCase {
  x: number[];
  pool: [number, number];
  stride: [number, number];
  pad: "same" | "valid";
}

const POOL_CASES: PoolCase[] = [
  { x: [1, 6, 6, 1], pool: [2, 2], stride: [2, 2], pad: "valid" },
  { x: [3, 7, 9, 3], pool: [2, 2], stride: [2, 2], pad: "valid" },
  { x: [3, 7, 9, 3], pool: [2, 2], stride: [2, 2], pad: "same" },
  { x: [1, 24, 24, 8], pool: [3, 3], stride: [3, 3], pad: "valid" },
  { x: [3, 11, 10, 8], pool: [3, 3], stride: [3, 3], pad: "same" },
  { x: [3, 9, 8, 3], pool: [3, 2], stride: [3, 2], pad: "valid" },
  { x: [2, 7, 7, 64], pool: [2, 2], stride: [2, 2], pad: "valid" },
  // Overlapping windows.
  { x: [3, 9, 9, 3], pool: [3, 3], stride: [2, 2], pad: "valid" },
  { x: [1, 8, 7, 8], pool: [3, 3], stride: [2, 2], pad: "same" },
  { x: [3, 6, 7, 1], pool: [3, 3], stride: [1, 1], pad: "same" },
  { x: [1, 7, 9, 3], pool: [2, 3], stride: [1, 2], pad: "valid" },
  { x: [3, 9, 9, 4], pool: [3, 3], stride: [2, 2], pad: "same" },
  { x: [2, 6, 7, 12], pool: [3, 2], stride: [1, 1], pad: "same" },
];

Deno.test("MaxPoolGrad matches cpu, ties going to the first maximum (SIMD and XNNPACK)", async () => {
  let seed = 300;
  for (const c of POOL_CASES) {
    // Values on a coarse grid make ties common (as ReLU zeros do), and windows whose maximum
    // is ≤ 0, which the backend's own kernel gets wrong.
    const grid = (v: number) => Math.round(v * 2);
    for (const [label, map] of [["random", undefined], ["ties", grid]] as const) {
      const x = spec(c.x, seed++, map);
      const info = tf.backend_util.computePool2DInfo(
        c.x as [number, number, number, number],
        c.pool,
        c.stride,
        1,
        c.pad,
      );
      const dy = spec(info.outShape, seed++);
      // As registered, through maxPool's gradient; each forced way by a call of the kernel with
      // the inputs that gradient gives it (dy, x and maxPool(x)).
      const grad = (xt: tf.Tensor, dyt: tf.Tensor) =>
        tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, c.pool, c.stride, c.pad))(xt, dyt);
      const attrs = { filterSize: c.pool, strides: c.stride, pad: c.pad };
      const args = (xt: tf.Tensor, dyt: tf.Tensor) => ({
        dy: dyt,
        input: xt,
        output: tf.maxPool(xt as tf.Tensor4D, c.pool, c.stride, c.pad),
      });
      // The SIMD kernel takes channels % 4 == 0.
      const ways: MaxPoolGradWay[] = c.x[3] % 4 === 0 ? ["simd", "xnnpack"] : ["xnnpack"];
      const caseName = `x[${c.x}] pool ${c.pool} stride ${c.stride} ${c.pad} ${label}`;
      await compare(`maxPool grad auto ${caseName}`, [x, dy], grad);
      for (const way of ways) {
        await compare(
          `maxPool grad ${way} ${caseName}`,
          [x, dy],
          (xt, dyt) => tf.engine().runKernel("MaxPoolGrad", args(xt, dyt), attrs) as tf.Tensor,
          (xt, dyt) => forced(maxPoolGrad, way, args(xt, dyt), attrs),
        );
      }
    }
  }
});

Deno.test("BatchMatMul with transposes matches cpu", async () => {
  let seed = 400;
  const cases: [number, number, number][] = [[3, 5, 7], [32, 576, 500], [1024, 8, 12], [
    7,
    1024,
    3,
  ]];
  for (const [m, k, n] of cases) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const a = spec(ta ? [k, m] : [m, k], seed++);
        const b = spec(tb ? [n, k] : [k, n], seed++);
        await compare(
          `matMul ${m}x${k}x${n} tA=${ta} tB=${tb}`,
          [a, b],
          (at, bt) => tf.matMul(at, bt, ta, tb),
        );
      }
    }
  }
  // Rank 3 with batch 1, the same B twice (weights reuse), and batch 2 (backend's own kernel).
  const a3 = spec([1, 4, 6], seed++), b3 = spec([1, 6, 5], seed++), a4 = spec([1, 3, 6], seed++);
  await compare("matMul rank 3, B reused", [a3, b3, a4], (a, b, c) => [
    tf.matMul(a, b),
    tf.matMul(c, b),
    tf.matMul(a, b, false, false),
  ]);
  await compare(
    "matMul batch 2",
    [spec([2, 4, 6], seed++), spec([2, 5, 6], seed++)],
    (a, b) => tf.matMul(a, b, false, true),
  );
});

Deno.test("Sum, Slice, SplitV, Identity and Cast match cpu; clones outlive their source", async () => {
  const x = spec([5, 4, 3, 2], 600);
  await compare("slices and splits", [x], (t) => [
    tf.slice(t, [1], [3]), // contiguous rows
    tf.slice(t, [0, 1, 0, 0], [5, 2, 3, 2]), // runs of 6
    tf.slice(t, [2, 1, 1, 1], [2, 3, 2, 1]), // single elements
    tf.slice(t.reshape([120]), [7], [50]),
    tf.slice(t, [4, 3, 2, 1], [1, 1, 1, 1]),
    ...tf.split(t, [1, 3, 1], 0),
    ...tf.split(t, 2, 3),
    ...tf.split(t, [1, 2], 2),
    tf.clone(t),
    tf.cast(t, "float32"),
    tf.slice(tf.cast(t.mul(10), "int32"), [1, 1, 0, 0], [3, 2, 3, 2]),
    tf.slice(tf.greater(t, 0), [0, 2, 1, 0], [5, 2, 2, 2]),
    tf.cast(tf.cast(t.mul(10), "int32"), "int32"),
    tf.sum(t, [0, 1, 2]),
    tf.sum(t, 0, true),
    tf.sum(t, [1, 3]),
    tf.sum(tf.cast(t.mul(10), "int32"), [0, 1]),
  ]);
  await tf.setBackend("wasm");
  tf.tidy(() => {
    const a = tf.tensor([1, 2, 3]);
    const b = tf.clone(a),
      c = tf.cast(a, "float32"),
      d = tf.engine().runKernel("Identity", { x: b }) as tf.Tensor;
    a.dispose();
    b.dispose();
    assert.deepEqual(Array.from(c.dataSync()), [1, 2, 3]);
    assert.deepEqual(Array.from(d.dataSync()), [1, 2, 3]);
  });
});

Deno.test("GatherV2 of rows matches cpu; other gathers fall back; bad indices throw", async () => {
  const x = spec([6, 4, 3], 700);
  const idx = [5, 0, 0, 3, 2];
  await compare("gathers", [x], (t) => [
    tf.gather(t, tf.tensor1d(idx, "int32")), // rows (the runner's batches)
    tf.gather(t, tf.tensor2d([[1, 2], [4, 4]], [2, 2], "int32")), // rows, 2-D indices
    tf.gather(tf.cast(t.mul(10), "int32"), tf.tensor1d(idx, "int32")),
    tf.gather(t, tf.tensor1d([3, 1], "int32"), 1), // another axis: the backend's own
    tf.gather(t, tf.tensor1d([], "int32")),
  ]);
  await tf.setBackend("wasm");
  tf.tidy(() => {
    const t = tf.tensor2d([[1, 2], [3, 4]]);
    assert.throws(() => tf.gather(t, tf.tensor1d([2], "int32")).dataSync(), /index value 2/);
  });
});

// ---------------------------------------------------------------------------------------------
// One training step of each suite model, wasm vs cpu.
// ---------------------------------------------------------------------------------------------

interface StepResult {
  loss: number;
  before: Float32Array[];
  after: Float32Array[];
  grads: Float32Array[];
}

/** One optimizer step on `backend` from the given initial weights; the batch is x → y. */
async function trainStep(
  backend: "cpu" | "wasm",
  build: () => tf.LayersModel,
  weights: Spec[],
  x: Spec,
  y: Spec,
  optimizer: () => tf.Optimizer,
  loss: (y: tf.Tensor, p: tf.Tensor) => tf.Tensor,
): Promise<StepResult> {
  await tf.setBackend(backend);
  const model = build();
  model.setWeights(weights.map((w) => tf.tensor(w.values, w.shape)));
  const opt = optimizer();
  const result = tf.tidy(() => {
    const xt = tf.tensor(x.values, x.shape), yt = tf.tensor(y.values, y.shape);
    const f = () => loss(yt, model.apply(xt, { training: true }) as tf.Tensor).mean() as tf.Scalar;
    // What optimizer.minimize does, keeping the gradients to compare.
    const { value, grads } = tf.variableGrads(f);
    opt.applyGradients(grads);
    const byWeight = model.trainableWeights.map((w) => grads[(w.read() as tf.Variable).name]);
    return { loss: value.dataSync()[0], grads: byWeight.map((g) => g.dataSync() as Float32Array) };
  });
  const after = model.getWeights().map((w) => w.dataSync() as Float32Array);
  model.dispose();
  opt.dispose();
  return { ...result, before: weights.map((w) => w.values), after };
}

async function compareStep(
  what: string,
  build: () => tf.LayersModel,
  batch: number,
  y: (x: Spec) => Spec,
  optimizer: () => tf.Optimizer,
  loss: (y: tf.Tensor, p: tf.Tensor) => tf.Tensor,
  updateRtol: number,
) {
  await tf.setBackend("cpu");
  const init = build();
  const weights = init.getWeights().map((w, i) => spec(w.shape, 500 + i, (v) => v * 0.1));
  init.dispose();
  const x = spec([batch, 28, 28, 1], 1, (v) => (v + 1) / 2);
  const cpu = await trainStep("cpu", build, weights, x, y(x), optimizer, loss);
  const wasm = await trainStep("wasm", build, weights, x, y(x), optimizer, loss);
  assert.ok(
    Math.abs(wasm.loss - cpu.loss) <= RTOL * Math.abs(cpu.loss),
    `${what}: loss ${wasm.loss} vs cpu ${cpu.loss}`,
  );
  cpu.grads.forEach((g, i) => assertClose(wasm.grads[i], g, `${what}: gradient ${i}`));
  cpu.after.forEach((w, i) => {
    const du = wasm.after[i].map((v, j) => v - wasm.before[i][j]);
    const dc = w.map((v, j) => v - cpu.before[i][j]);
    // Updates are differences of float32 weights: allow two units in the last place.
    const ulp = 2 * 2 ** -23 * cpu.before[i].reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assertClose(du, dc, `${what}: update of weight ${i}`, updateRtol, ulp);
  });
}

Deno.test("cnn-sgd: one SGD step on wasm matches cpu", async () => {
  await compareStep(
    "cnn-sgd",
    () => cnn(1),
    4,
    (x) => {
      const labels = new Float32Array(x.shape[0] * 10);
      for (let i = 0; i < x.shape[0]; i++) labels[i * 10 + (i * 7) % 10] = 1;
      return { shape: [x.shape[0], 10], values: labels };
    },
    () => tf.train.momentum(0.01, 0.9),
    (y, p) => tf.metrics.categoricalCrossentropy(y, p),
    RTOL,
  );
});

Deno.test("conv autoencoder: one Adam step on wasm matches cpu", async () => {
  await compareStep(
    "autoencoder",
    () => autoencoder(1),
    2,
    (x) => x,
    () => tf.train.adam(),
    (y, p) => tf.metrics.binaryCrossentropy(y, p),
    // Adam's first step is lr·g/(|g| + ε): near-zero gradients amplify rounding.
    2e-3,
  );
});

Deno.test("fused Adam and momentum on wasm: weights and state bit-identical to tfjs'", async () => {
  await tf.setBackend("wasm");
  const dense = () =>
    tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [30], units: 13, activation: "relu" }),
        tf.layers.dense({ units: 10, activation: "softmax" }),
      ],
    });
  const models: [string, () => tf.LayersModel, number[], number][] = [
    ["dense", dense, [16, 30], 10],
    ["conv autoencoder", () => autoencoder(1), [4, 28, 28, 1], 0],
  ];
  const optimizers: [string, () => tf.Optimizer, () => tf.Optimizer][] = [
    ["adam", () => tf.train.adam(0.01), () => adam(0.01)],
    ["momentum", () => tf.train.momentum(0.05, 0.9), () => momentum(0.05, 0.9)],
  ];
  for (const [what, build, shape, classes] of models) {
    for (const [name, theirs, ours] of optimizers) {
      const weights: Float32Array[][] = [];
      for (const optimizer of [theirs(), ours()]) {
        const model = build();
        // The same starting weights for both.
        model.setWeights(
          model.getWeights().map((w, i) => tf.tensor(rand(w.size, 700 + i), w.shape)),
        );
        const step = makeTrainStep(
          model,
          optimizer,
          singleOutput(
            classes ? "categoricalCrossentropy" : "binaryCrossentropy",
          ),
        );
        for (let s = 0; s < 4; s++) {
          const x = tf.tensor(rand(shape.reduce((a, b) => a * b, 1), 800 + s), [...shape]);
          const y = classes
            ? tf.oneHot(
              tf.tensor1d([...rand(shape[0], 900 + s)].map((v) => (v + 1) * 4.9 | 0), "int32"),
              classes,
            )
            : x.abs().minimum(1);
          step([x], [y]).dispose();
          tf.dispose([x, y]);
        }
        const state = (await optimizer.getWeights()).map((w) => w.tensor);
        weights.push([...model.getWeights(), ...state].map((t) => Float32Array.from(t.dataSync())));
        step.dispose();
        model.dispose();
        optimizer.dispose();
      }
      const [fused, tfjs] = [weights[1], weights[0]];
      assert.equal(fused.length, tfjs.length);
      fused.forEach((w, i) =>
        assert.deepEqual(w, tfjs[i], `${what}, ${name}: weight or optimizer state ${i} differs`)
      );
    }
  }
});
