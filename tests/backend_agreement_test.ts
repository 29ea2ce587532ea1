/**
 * Cross-backend agreement: for each model the suite trains, a forward pass and one training
 * step from the same weights on the same batch agree between cpu (the reference), wasm and
 * WebGPU (here Mesa's software adapter, which computes like a real GPU, only slowly).
 *
 * The step is checked as its loss, its gradients (relative to the largest gradient) and the
 * weights after one plain SGD update. Weights after an Adam step are not compared: Adam's
 * first update is about lr·sign(g), so a near-zero gradient whose float32 rounding differs
 * between backends flips a whole lr-sized step, which says nothing about the kernels.
 */
import assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { setupBackend } from "../harness/backend/backend.ts";
import { makeTrainStep, singleOutput } from "../harness/train/step.ts";
import { BENCH_MODELS } from "../bench/models.ts";
import { CROSS_BACKEND_TOLERANCE } from "../harness/results/compare_runs.ts";

/** Max |a − b| relative to max(1, |b|): float32 kernels differ in summation order only. */
const TOLERANCE = CROSS_BACKEND_TOLERANCE;

interface Outcome {
  output: Float32Array;
  loss: number;
  grads: Float32Array[];
  weights: Float32Array[];
}

const hasAdapter = await (navigator as Navigator & { gpu?: GPU }).gpu?.requestAdapter()
  .then((a) => a !== null).catch(() => false);

async function runOn(backend: "cpu" | "wasm" | "webgpu", model: (typeof BENCH_MODELS)[number]) {
  await setupBackend(backend);
  const net = model.build(7);
  const batch = 4;
  const [x, y] = tf.tidy(() => {
    // In the shape the model declares ([28,28] or [28,28,1]).
    const shape = net.inputs[0].shape.slice(1) as number[];
    const x = tf.randomUniform([batch, ...shape], 0, 1, "float32", 3);
    return [
      x,
      model.loss === "binaryCrossentropy"
        ? x
        : tf.oneHot(tf.randomUniform([batch], 0, 10, "int32", 4), 10).toFloat(),
    ];
  });
  // Async reads: WebGPU's dataSync needs a canvas, which Deno does not have.
  const prediction = net.predict(x) as tf.Tensor;
  const output = await prediction.data() as Float32Array;
  const vars = net.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const { value, grads } = tf.variableGrads(
    () =>
      tf.metrics[model.loss](y, net.apply(x, { training: true }) as tf.Tensor).mean() as tf.Scalar,
    vars,
  );
  const gradList = vars.map((v) => grads[v.name]);
  const gradData = await Promise.all(gradList.map((g) => g.data() as Promise<Float32Array>));
  const step = makeTrainStep(net, tf.train.sgd(0.01), singleOutput(model.loss));
  const cost = step([x], [y]);
  const loss = (await cost.data())[0];
  const weights = await Promise.all(net.getWeights().map((w) => w.data() as Promise<Float32Array>));
  assert.ok(Math.abs((await value.data())[0] - loss) < 1e-6, "step loss = gradient loss");
  tf.dispose([prediction, cost, x, y, value, ...gradList]);
  step.dispose();
  net.dispose();
  return { output, loss, grads: gradData, weights };
}

function gap(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  }
  return worst;
}

/** Max |a − b| relative to the largest |b|: for gradients, whose scale varies by layer. */
function scaledGap(a: Float32Array, b: Float32Array): number {
  let worst = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale ? worst / scale : worst;
}

function assertAgree(name: string, got: Outcome, want: Outcome) {
  assert.ok(gap(got.output, want.output) < TOLERANCE, `${name}: forward differs`);
  assert.ok(Math.abs(got.loss - want.loss) < TOLERANCE * Math.max(1, want.loss), `${name}: loss`);
  got.grads.forEach((g, i) => {
    const d = scaledGap(g, want.grads[i]);
    assert.ok(d < 1e-3, `${name}: gradient ${i} differs by ${d} of its largest element`);
  });
  got.weights.forEach((w, i) => {
    const g = gap(w, want.weights[i]);
    assert.ok(g < TOLERANCE, `${name}: weight ${i} after one step differs by ${g}`);
  });
}

for (const model of BENCH_MODELS) {
  Deno.test(`${model.name}: forward and one step agree on cpu, wasm and webgpu`, async () => {
    const reference = await runOn("cpu", model);
    assertAgree(`${model.name} wasm`, await runOn("wasm", model), reference);
    if (hasAdapter) assertAgree(`${model.name} webgpu`, await runOn("webgpu", model), reference);
  });
}

Deno.test({
  name: "webgpu: A·Bᵀ with a long inner dimension (split-K path) matches cpu",
  ignore: !hasAdapter,
  fn: async () => {
    const cases: [number, number, number, boolean][] = [
      [4, 3136, 100, false],
      [4, 3136, 100, true],
      [8, 2048, 64, false],
    ];
    for (const [m, k, n, ta] of cases) {
      const product = async (backend: "cpu" | "webgpu") => {
        await setupBackend(backend);
        const a = tf.randomUniform(ta ? [k, m] : [m, k], -1, 1, "float32", 1);
        const b = tf.randomUniform([n, k], -1, 1, "float32", 2);
        const c = tf.matMul(a, b, ta, true);
        const data = await c.data() as Float32Array;
        tf.dispose([a, b, c]);
        return data;
      };
      const d = scaledGap(await product("webgpu"), await product("cpu"));
      assert.ok(d < 1e-5, `[${m}, ${k}] × [${n}, ${k}]ᵀ differs by ${d}`);
    }
  },
});
