/**
 * A subprocess of wasm_threads_test.ts and wasm_conv_test.ts: three training steps of each bench
 * model on the wasm backend with `Deno.args[0]` threads; writes every weight, float32, to
 * `<Deno.args[1]>.<model>` and prints the threads used. With `Deno.args[2]` = "replaced", the
 * convolutions run as before claimcheck's SIMD kernels for them: the backend's own Conv2D and
 * FusedConv2D, and the phase-filter rewrite of Conv2DBackpropInput. A subprocess because a process
 * sets its wasm backend up once.
 */
import * as tf from "@tensorflow/tfjs";
import { simdPoolThreads } from "../harness/backend/simd/simd_pool.ts";
import { setupBackend } from "../harness/backend/backend.ts";
import { conv2DBackpropInput, type KernelArgs } from "../harness/backend/wasm_kernels.ts";
import { makeTrainStep, singleOutput } from "../harness/train/step.ts";
import { BENCH_MODELS } from "../bench/models.ts";

// The backend's own kernels, as importing it registered them.
const own = ["Conv2D", "FusedConv2D"].map((name) => tf.getKernel(name, "wasm")!);
await setupBackend("wasm", { wasmThreads: Number(Deno.args[0]) });
if (Deno.args[2] === "replaced") {
  for (const config of own) {
    tf.unregisterKernel(config.kernelName, "wasm");
    tf.registerKernel(config);
  }
  tf.unregisterKernel("Conv2DBackpropInput", "wasm");
  tf.registerKernel({
    kernelName: "Conv2DBackpropInput",
    backendName: "wasm",
    kernelFunc: (args) => conv2DBackpropInput(args as KernelArgs, "xnnpack"),
  });
}
for (const bm of BENCH_MODELS) {
  const model = bm.build(1), optimizer = bm.optimizer();
  const step = makeTrainStep(model, optimizer, singleOutput(bm.loss));
  const { xs, ys } = bm.batches(3, 11);
  for (let i = 0; i < 3; i++) step([xs[i]], [ys[i]]).dispose();
  const flat = tf.tidy(() => tf.concat(model.getWeights().map((w) => w.flatten())));
  await Deno.writeFile(`${Deno.args[1]}.${bm.name}`, new Uint8Array(flat.dataSync().buffer));
}
console.log(simdPoolThreads(tf.backend()));
Deno.exit(0); // the threaded build's pthread workers would keep the process alive
