/**
 * A subprocess of simd_pool_test.ts: starts the threaded wasm backend with 2 threads, runs a
 * filter gradient through its SIMD pool, disposes the backend and ends without Deno.exit, so
 * the process exits only if the pool's workers (and the build's pthreads) have stopped.
 */
import * as tf from "@tensorflow/tfjs";
import { setupBackend } from "../harness/backend/backend.ts";
import { splitPieces } from "../harness/backend/simd/simd_pool.ts";

await setupBackend("wasm", { wasmThreads: 2 });
const pieces = splitPieces(tf.backend(), 28);
tf.tidy(() => {
  const x = tf.ones([2, 28, 28, 1]), dy = tf.ones([2, 24, 24, 32]);
  const attrs = { strides: 1, pad: "valid", dataFormat: "NHWC", filterShape: [5, 5, 1, 32] };
  (tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, attrs) as tf.Tensor).dataSync();
});
tf.removeBackend("wasm");
console.log(`pieces ${pieces}, disposed`);
