/**
 * A subprocess of simd_pool_test.ts: starts the threaded wasm backend with 2 threads, restarts
 * its SIMD pool 20 times, each time running a split filter gradient at once (so the worker gets
 * a call posted before it first looked: it must not miss it), disposes the backend and ends
 * without Deno.exit, so the process ends only if no call hung and the pool's workers (and the
 * build's pthreads) have stopped.
 */
import * as tf from "@tensorflow/tfjs";
import { setupBackend } from "../harness/backend/backend.ts";
import { splitPieces, startSimdPool, stopSimdPool } from "../harness/backend/simd/simd_pool.ts";

await setupBackend("wasm", { wasmThreads: 2 });
const backend = tf.backend();
const pieces = splitPieces(backend, 28);
const x = tf.ones([2, 28, 28, 1]), dy = tf.ones([2, 24, 24, 32]);
const attrs = { strides: 1, pad: "valid", dataFormat: "NHWC", filterShape: [5, 5, 1, 32] };
for (let i = 0; i < 20; i++) {
  stopSimdPool(backend);
  await startSimdPool(backend, 2);
  (tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, attrs) as tf.Tensor).dispose();
}
tf.removeBackend("wasm");
console.log(`pieces ${pieces}, disposed`);
