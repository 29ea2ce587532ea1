/**
 * The SIMD pool (harness/backend/simd/simd_pool.ts) on the threaded wasm build with 2 threads:
 * - Conv2DBackpropFilter and MaxPoolGrad, as registered, give the same bits split across the
 *   calling thread and a worker as on the calling thread alone (the pool stopped), on the bench
 *   models' shapes and odd ones, after the heap grew past what the worker first saw;
 * - a trap in a worker's piece is thrown on the caller, and the worker serves on;
 * - usage errors (kernel, argument count, range, grain, scratch) throw;
 * - a call posted at once after a (re)start is not missed, and the pool stops with the backend:
 *   a process that restarts it 20 times, calling at once, then disposes the backend, exits by
 *   itself.
 */
import * as tf from "@tensorflow/tfjs";
import assert from "assert";
import { fileURLToPath } from "node:url";
import { setupBackend } from "../harness/backend/backend.ts";
import { simdMemory } from "../harness/backend/simd/simd_kernels.ts";
import {
  runSplit,
  splitPieces,
  startSimdPool,
  stopSimdPool,
} from "../harness/backend/simd/simd_pool.ts";

await setupBackend("wasm", { wasmThreads: 2 });

type Heap = tf.KernelBackend & { typedArrayFromHeap(t: tf.TensorInfo): Float32Array };

/** Deterministic pseudo-random values in [−1, 1) (LCG). */
function rand(shape: number[], seed: number, map = (v: number) => v): tf.Tensor {
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = map(s / 2 ** 31 - 1);
  }
  return tf.tensor(out, shape);
}

type Pad = "same" | "valid" | number;

/** [x shape, filter h × w, co, strides, padding] */
const FILTER_CASES: [number[], [number, number], number, [number, number], Pad][] = [
  // cnn-sgd's two convolutions (batch 32).
  [[32, 28, 28, 1], [5, 5], 32, [1, 1], "valid"],
  [[32, 8, 8, 32], [2, 2], 64, [1, 1], "valid"],
  // The autoencoder's convolutions and transposed convolutions (whose filter gradient swaps x
  // and dy), batch 8.
  [[8, 28, 28, 1], [3, 3], 32, [1, 1], "same"],
  [[8, 14, 14, 32], [3, 3], 64, [1, 1], "same"],
  [[8, 14, 14, 32], [3, 3], 64, [2, 2], "same"],
  [[8, 28, 28, 1], [3, 3], 32, [2, 2], "same"],
  // Odd ones: a single row of tiles, uneven splits, strides, explicit padding.
  [[3, 7, 9, 3], [3, 3], 8, [2, 2], "same"],
  [[1, 11, 8, 3], [4, 3], 16, [3, 2], "valid"],
  [[2, 6, 7, 5], [3, 2], 24, [2, 1], 1],
  [[2, 5, 5, 2], [1, 1], 8, [1, 1], "valid"],
];

/** [x shape, pool h × w, strides, padding, ties] */
const POOL_CASES: [number[], [number, number], [number, number], Pad, boolean][] = [
  [[32, 24, 24, 32], [3, 3], [3, 3], "valid", false], // cnn-sgd
  [[32, 7, 7, 64], [2, 2], [2, 2], "valid", true], // cnn-sgd
  [[8, 28, 28, 32], [2, 2], [2, 2], "same", true], // autoencoder
  [[8, 14, 14, 64], [2, 2], [2, 2], "same", false], // autoencoder
  // Overlapping windows, whose gradients add up across the split rows.
  [[3, 9, 7, 8], [3, 3], [2, 2], "same", true],
  [[2, 10, 11, 4], [3, 2], [1, 2], "same", false],
  [[1, 5, 5, 4], [3, 3], [1, 1], "same", true],
];

/** Every output of the cases above, as registered, as raw bits. */
function gradients(): Uint32Array[] {
  const grads = tf.tidy(() => {
    let seed = 1;
    const out: tf.Tensor[] = [];
    for (const [shape, f, co, strides, pad] of FILTER_CASES) {
      const x = rand(shape, seed++);
      const y = tf.conv2d(x as tf.Tensor4D, tf.zeros([...f, shape[3], co]), strides, pad);
      const dy = rand(y.shape, seed++);
      const attrs = { strides, pad, dataFormat: "NHWC", filterShape: [...f, shape[3], co] };
      out.push(tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, attrs) as tf.Tensor);
    }
    for (const [shape, f, strides, pad, ties] of POOL_CASES) {
      const x = rand(shape, seed++, ties ? (v) => Math.round(v * 2) : undefined);
      const y = tf.maxPool(x as tf.Tensor4D, f, strides, pad);
      const dy = rand(y.shape, seed++);
      const attrs = { filterSize: f, strides, pad };
      const inputs = { dy, input: x, output: y };
      out.push(tf.engine().runKernel("MaxPoolGrad", inputs, attrs) as tf.Tensor);
    }
    return out;
  });
  const bits = grads.map((t) => new Uint32Array(Float32Array.from(t.dataSync()).buffer));
  tf.dispose(grads);
  return bits;
}

Deno.test("2 threads give the same bits as 1, on the models' shapes and odd ones", async () => {
  const backend = tf.backend();
  // A heap grown past what the worker saw when it started.
  const memory = simdMemory(backend)!, before = memory.buffer.byteLength;
  const ballast = tf.zeros([before / 4]);
  assert.ok(memory.buffer.byteLength > before, "the heap grew");
  assert.equal(splitPieces(backend, 28), 2, "the pool splits");
  const two = gradients();
  stopSimdPool(backend);
  assert.equal(splitPieces(backend, 28), 1, "the pool stopped");
  const one = gradients();
  await startSimdPool(backend, 2);
  assert.equal(splitPieces(backend, 28), 2, "the pool restarted");
  ballast.dispose();
  assert.equal(two.length, FILTER_CASES.length + POOL_CASES.length);
  two.forEach((bits, i) => assert.deepEqual(bits, one[i], `case ${i}: 1 and 2 threads differ`));
});

Deno.test("a trap in a worker's piece is thrown on the caller; the worker serves on", () => {
  const backend = tf.backend() as Heap;
  // maxPoolGrad over 2 images of 2 rows: the worker takes image 1, whose x lies past the end
  // of the heap (image 0, the caller's, is its last 64 bytes).
  const dy = tf.zeros([2, 1, 1, 4]), dx = tf.zeros([2, 2, 2, 4]);
  const at = (t: tf.Tensor) => backend.typedArrayFromHeap(t).byteOffset;
  const x = simdMemory(backend)!.buffer.byteLength - 64;
  const call = (args: number[]) => runSplit(backend, { kernel: "maxPoolGrad", args, total: 4 });
  const sizes = [2, 2, 2, 4, 1, 1, 2, 2, 2, 2, 0, 0];
  assert.throws(
    () => call([x, at(dy), at(dx), ...sizes]),
    /maxPoolGrad on SIMD pool worker 1: RuntimeError/,
  );
  call([at(dx), at(dy), at(dx), ...sizes]); // in bounds: the worker still answers
  tf.dispose([dy, dx]);
});

Deno.test("usage errors throw", () => {
  const backend = tf.backend();
  const args = new Array(15).fill(0);
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ kernel: "nope" }, /nope is not a SIMD kernel ending with \(scratch, lo, hi\)/],
    [{ kernel: "momentum", args: new Array(5).fill(0) }, /momentum is not a SIMD kernel/],
    [{ args: args.slice(1) }, /takes 15 arguments before \(scratch, lo, hi\), not 14/],
    [{ args: [...args.slice(1), NaN] }, /arguments/],
    [{ total: -1 }, /total must be an integer ≥ 0/],
    [{ total: 2.5 }, /total must be an integer/],
    [{ grain: 0 }, /grain must be an integer ≥ 1/],
    [{ scratch: -16 }, /scratch must be an integer ≥ 0/],
    [{ scratchBytes: 0.5 }, /scratchBytes must be an integer/],
  ];
  for (const [change, message] of bad) {
    const call = { kernel: "maxPoolGrad", args, total: 0, ...change } as Parameters<
      typeof runSplit
    >[1];
    assert.throws(() => runSplit(backend, call), message, JSON.stringify(change));
  }
  assert.throws(() => splitPieces(backend, 4, 0), /grain must be an integer ≥ 1/);
});

Deno.test("restarts take their first call; the pool stops with the backend", async () => {
  const script = fileURLToPath(new URL("./_simd_pool_exit.ts", import.meta.url));
  // A missed call would hang, a worker left running keep the process alive: killed at the
  // deadline, it fails.
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `exit ${out.code}, signal ${out.signal}: ${stderr}`);
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "pieces 2, disposed");
});
