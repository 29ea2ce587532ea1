/**
 * A subprocess of wasm_threads_test.ts: three training steps of each bench model on the wasm
 * backend with `Deno.args[0]` threads; writes every weight, float32, to `<Deno.args[1]>.<model>`
 * and prints the threads used. A subprocess because a process sets its wasm backend up once.
 */
import * as tf from "@tensorflow/tfjs";
import { getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { setupBackend } from "../harness/backend/backend.ts";
import { makeTrainStep, singleOutput } from "../harness/train/step.ts";
import { BENCH_MODELS } from "../bench/models.ts";

await setupBackend("wasm", { wasmThreads: Number(Deno.args[0]) });
for (const bm of BENCH_MODELS) {
  const model = bm.build(1), optimizer = bm.optimizer();
  const step = makeTrainStep(model, optimizer, singleOutput(bm.loss));
  const { xs, ys } = bm.batches(3, 11);
  for (let i = 0; i < 3; i++) step([xs[i]], [ys[i]]).dispose();
  const flat = tf.tidy(() => tf.concat(model.getWeights().map((w) => w.flatten())));
  await Deno.writeFile(`${Deno.args[1]}.${bm.name}`, new Uint8Array(flat.dataSync().buffer));
}
console.log(getThreadsCount());
Deno.exit(0); // the threaded build's pthread workers would keep the process alive
