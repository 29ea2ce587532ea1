/**
 * A subprocess of wasm_conv_test.ts: on the wasm backend with `Deno.args[0]` threads, compares
 * claimcheck's SIMD Conv2D, FusedConv2D and Conv2DBackpropInput (harness/backend/simd/conv2d.wat)
 * bit for bit with the paths they replace (XNNPACK's convolution, the phase-filter rewrite on it,
 * the backend's own Conv2DBackpropInput loop), in one call and split into several calls, on
 * the models' shapes (batch 32 and 128) and odd ones, and on the small shapes within 1e-4 of the
 * largest magnitude with the cpu backend. Prints `{ threads, checks, failures }` as JSON. A
 * subprocess because a process sets its wasm backend up once.
 */
import * as tf from "@tensorflow/tfjs";
import { simdPoolThreads } from "../harness/backend/simd/simd_pool.ts";
import { setupBackend } from "../harness/backend/backend.ts";
import {
  conv2D,
  conv2DBackpropInput,
  fusedConv2D,
  type KernelArgs,
} from "../harness/backend/wasm_kernels.ts";
import { mulberry32 } from "../harness/util/random.ts";

type Pad = "same" | "valid" | number;
type Strides = number | [number, number];

/** x or dx shape, filter shape, strides, padding. */
type Case = [number[], number[], Strides, Pad];

const MODEL_CONVS: Case[] = [32, 128].flatMap((b): Case[] => [
  [[b, 28, 28, 1], [5, 5, 1, 32], 1, "valid"], // cnn-sgd
  [[b, 8, 8, 32], [2, 2, 32, 64], 1, "valid"],
  [[b, 28, 28, 1], [3, 3, 1, 32], 1, "same"], // conv-autoencoder's encoder
  [[b, 14, 14, 32], [3, 3, 32, 64], 1, "same"],
  [[b, 14, 14, 32], [3, 3, 32, 64], 2, "same"], // its Conv2DTransposes' gradients
  [[b, 28, 28, 1], [3, 3, 1, 32], 2, "same"],
]);

const ODD_CONVS: Case[] = [
  [[3, 7, 9, 3], [3, 3, 3, 12], [2, 1], "same"],
  [[3, 11, 8, 5], [4, 3, 5, 9], [3, 2], "valid"],
  [[2, 9, 7, 8], [1, 1, 8, 8], 2, "same"],
  [[2, 6, 6, 4], [1, 1, 4, 16], 1, "valid"], // XNNPACK's GEMM path
  [[2, 6, 6, 3], [3, 3, 3, 8], 1, 1],
  [[1, 5, 5, 2], [5, 5, 2, 24], 1, "same"],
  [[3, 10, 10, 16], [3, 3, 16, 20], 1, "same"],
  [[2, 13, 11, 8], [4, 4, 8, 8], 2, "same"],
  [[5, 3, 3, 1], [3, 3, 1, 8], 1, "valid"],
];

/** dx shapes (dy is the forward convolution's output), as ODD_CONVS. */
const MODEL_DX: Case[] = [32, 128].flatMap((b): Case[] => [
  [[b, 8, 8, 32], [2, 2, 32, 64], 1, "valid"], // cnn-sgd's second Conv2D
  [[b, 14, 14, 32], [3, 3, 32, 64], 1, "same"], // the autoencoder's second Conv2D
  [[b, 14, 14, 32], [3, 3, 32, 64], 2, "same"], // its first Conv2DTranspose, forward
]);

const ODD_DX: Case[] = [
  [[2, 9, 7, 8], [1, 1, 8, 8], 2, "same"], // filter narrower than the stride: empty phases
  [[3, 10, 10, 16], [3, 3, 16, 20], 1, "same"],
  [[2, 13, 11, 8], [4, 4, 8, 8], 2, "same"],
  [[2, 11, 13, 12], [3, 3, 12, 9], 3, "same"],
  [[2, 12, 10, 20], [5, 5, 20, 8], 2, "valid"],
  [[3, 8, 8, 8], [3, 3, 8, 16], 2, "valid"],
  [[2, 7, 9, 9], [2, 3, 9, 8], 2, "same"],
  [[2, 9, 9, 8], [3, 3, 8, 8], 2, 1],
  // No phase-filter rewrite: the backend's own loop is the path replaced.
  [[3, 7, 9, 8], [3, 3, 8, 12], [2, 1], "same"],
  [[3, 11, 8, 16], [4, 3, 16, 9], [3, 2], "valid"],
  [[2, 6, 6, 8], [2, 2, 8, 8], 1, 3], // padding past the filter
];

let seed = 1;

/** Values in [−1, 1) with about 10 % +0 and 5 % −0 (ReLU outputs, and the sign of zero sums). */
function values(shape: number[]): tf.Tensor {
  const rng = mulberry32(seed++);
  const out = new Float32Array(tf.util.sizeFromShape(shape));
  for (let i = 0; i < out.length; i++) {
    const u = rng();
    out[i] = u < 0.1 ? 0 : u < 0.15 ? -0 : 2 * rng() - 1;
  }
  return tf.tensor(out, shape);
}

function bits(t: tf.Tensor): Uint32Array {
  return new Uint32Array(Float32Array.from(t.dataSync() as Float32Array).buffer);
}

let checks = 0;
const failures: string[] = [];

function sameBits(what: string, actual: Uint32Array, expected: Uint32Array): void {
  checks++;
  let differing = 0;
  for (let i = 0; i < expected.length; i++) if (actual[i] !== expected[i]) differing++;
  if (actual.length !== expected.length || differing) {
    failures.push(`${what}: ${differing} of ${expected.length} values differ`);
  }
}

function close(what: string, actual: Uint32Array, expected: Float32Array): void {
  checks++;
  const a = new Float32Array(actual.buffer);
  let maxRef = 0, maxErr = 0;
  for (let i = 0; i < expected.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
    maxErr = Math.max(maxErr, Math.abs(a[i] - expected[i]));
  }
  if (!(maxErr <= 1e-4 * maxRef)) {
    failures.push(`${what}: max |Δ| ${maxErr} vs cpu (max ${maxRef})`);
  }
}

type Kernel = (args: KernelArgs, way: "simd" | "xnnpack", parts?: number) => tf.TensorInfo;

/**
 * `kernel` the SIMD way in 1, 3 and 7 calls and the XNNPACK way: all the same bits. The results
 * stay allocated until all are compared, so no call's output lands on a copy of another's.
 */
function compareWays(what: string, kernel: Kernel, args: KernelArgs): Uint32Array {
  const run = (way: "simd" | "xnnpack", parts = 1) =>
    tf.engine().makeTensorFromTensorInfo(kernel(args, way, parts));
  const results = [run("xnnpack"), run("simd"), run("simd", 3), run("simd", 7)];
  const [xnnpack, simd, three, seven] = results.map(bits);
  tf.dispose(results);
  sameBits(`${what}: SIMD vs replaced`, simd, xnnpack);
  sameBits(`${what}: 3 calls vs 1`, three, simd);
  sameBits(`${what}: 7 calls vs 1`, seven, simd);
  return simd;
}

/** Small enough to check against the cpu backend's loops. */
const small = (shape: number[]) => shape[0] <= 5;

async function onCpu(f: () => tf.Tensor): Promise<Float32Array> {
  await tf.setBackend("cpu");
  const out = tf.tidy(() => Float32Array.from(f().dataSync()));
  await tf.setBackend("wasm");
  return out;
}

await setupBackend("cpu");
await setupBackend("wasm", { wasmThreads: Number(Deno.args[0]) });

for (const [xShape, fShape, strides, pad] of [...MODEL_CONVS, ...ODD_CONVS]) {
  const label = `conv x[${xShape}] f[${fShape}] s${strides} ${pad}`;
  const [x, filter, bias] = [values(xShape), values(fShape), values([fShape[3]])];
  const attrs = { strides, pad, dataFormat: "NHWC", dilations: 1 };
  const backend = tf.backend();
  const plain = compareWays(`Conv2D ${label}`, conv2D, { inputs: { x, filter }, backend, attrs });
  for (const activation of ["linear", "relu"] as const) {
    const fused = compareWays(`FusedConv2D ${activation} ${label}`, fusedConv2D, {
      inputs: { x, filter, bias },
      backend,
      attrs: { ...attrs, activation },
    });
    if (!small(xShape)) continue;
    const [xv, fv, bv] = [x, filter, bias].map((t) => t.dataSync());
    const expected = await onCpu(() => {
      const y = tf.conv2d(
        tf.tensor4d(xv, xShape as [number, number, number, number]),
        tf.tensor4d(fv, fShape as [number, number, number, number]),
        strides,
        pad,
      ).add(tf.tensor1d(bv));
      return activation === "relu" ? tf.relu(y) : y;
    });
    close(`FusedConv2D ${activation} ${label}`, fused, expected);
  }
  if (small(xShape)) {
    const [xv, fv] = [x, filter].map((t) => t.dataSync());
    const expected = await onCpu(() =>
      tf.conv2d(
        tf.tensor4d(xv, xShape as [number, number, number, number]),
        tf.tensor4d(fv, fShape as [number, number, number, number]),
        strides,
        pad,
      )
    );
    close(`Conv2D ${label}`, plain, expected);
  }
  tf.dispose([x, filter, bias]);
}

for (const [xShape, fShape, strides, pad] of [...MODEL_DX, ...ODD_DX]) {
  const label = `dx[${xShape}] f[${fShape}] s${strides} ${pad}`;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    fShape as [number, number, number, number],
    strides,
    1,
    pad,
  );
  const [dy, filter] = [values(info.outShape), values(fShape)];
  const attrs = { strides, pad, dataFormat: "NHWC", inputShape: xShape };
  const dx = compareWays(`Conv2DBackpropInput ${label}`, conv2DBackpropInput, {
    inputs: { dy, filter },
    backend: tf.backend(),
    attrs,
  });
  if (small(xShape)) {
    const [dyv, fv] = [dy, filter].map((t) => t.dataSync());
    const expected = await onCpu(() =>
      tf.engine().runKernel("Conv2DBackpropInput", {
        dy: tf.tensor(dyv, info.outShape),
        filter: tf.tensor(fv, fShape),
      }, attrs) as tf.Tensor
    );
    close(`Conv2DBackpropInput ${label}`, dx, expected);
  }
  tf.dispose([dy, filter]);
}

console.log(JSON.stringify({ threads: simdPoolThreads(tf.backend()), checks, failures }));
Deno.exit(0); // the threaded build's pthread workers would keep the process alive
