import assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { setupBackend } from "../harness/backend/backend.ts";
import { makeTrainStep, singleOutput } from "../harness/train/step.ts";
import { seededGlorot } from "../harness/util/seeded_initializers.ts";
import { models } from "../replications/keras-dense/model.ts";

/** Largest absolute difference between two models' weights. */
function weightGap(a: tf.LayersModel, b: tf.LayersModel): number {
  const wa = a.getWeights(), wb = b.getWeights();
  return Math.max(...wa.map((w, i) => w.sub(wb[i]).abs().max().dataSync()[0]));
}

for (const optimizer of ["adam", "momentum"] as const) {
  Deno.test(`the custom step does what fit does (${optimizer}, wasm)`, async () => {
    await setupBackend("wasm");
    const make = () => optimizer === "adam" ? tf.train.adam(0.01) : tf.train.momentum(0.05, 0.9);
    const x = tf.randomUniform([96, 28, 28], 0, 1, "float32", 5);
    const y = tf.oneHot(tf.randomUniform([96], 0, 10, "int32", 6), 10).toFloat();

    const viaFit = models["dense64-sigmoid"](11);
    viaFit.compile({ optimizer: make(), loss: "categoricalCrossentropy", metrics: ["acc"] });
    const history = await viaFit.fit(x, y, {
      batchSize: 32,
      epochs: 1,
      shuffle: false,
      verbose: 0,
    });

    const viaStep = models["dense64-sigmoid"](11);
    assert.equal(weightGap(viaFit, viaStep) > 1e-3, true, "the fit model should have moved");
    const step = makeTrainStep(viaStep, make(), singleOutput("categoricalCrossentropy"));
    for (let i = 0; i < 3; i++) step([x.slice(i * 32, 32)], [y.slice(i * 32, 32)]).dispose();
    const logs = await step.drain();

    assert.ok(weightGap(viaFit, viaStep) < 1e-5, `weights differ by ${weightGap(viaFit, viaStep)}`);
    assert.ok(Math.abs(logs.loss - (history.history.loss[0] as number)) < 1e-5);
    assert.ok(Math.abs(logs.acc - (history.history.acc[0] as number)) < 1e-6);
    step.dispose();
    tf.dispose([x, y]);
    viaFit.dispose();
    viaStep.dispose();
  });
}

/** Two inputs, a shared hidden layer and two heads of different loss kinds. */
function twoHeads(seed: number): tf.LayersModel {
  const init = seededGlorot(seed);
  const a = tf.input({ shape: [8] }), b = tf.input({ shape: [8] });
  const hidden = tf.layers.dense({ units: 16, activation: "relu", kernelInitializer: init() })
    .apply(tf.layers.concatenate().apply([a, b])) as tf.SymbolicTensor;
  const digits = tf.layers.dense({ units: 5, activation: "softmax", kernelInitializer: init() })
    .apply(hidden) as tf.SymbolicTensor;
  const same = tf.layers.dense({ units: 1, activation: "sigmoid", kernelInitializer: init() })
    .apply(hidden) as tf.SymbolicTensor;
  return tf.model({ inputs: [a, b], outputs: [digits, same] });
}

Deno.test("with two outputs the step sums their losses as fit does (wasm)", async () => {
  await setupBackend("wasm");
  const xa = tf.randomUniform([64, 8], 0, 1, "float32", 1);
  const xb = tf.randomUniform([64, 8], 0, 1, "float32", 2);
  const y1 = tf.oneHot(tf.randomUniform([64], 0, 5, "int32", 3), 5).toFloat();
  const y2 = tf.randomUniform([64, 1], 0, 2, "int32", 4).toFloat();

  const viaFit = twoHeads(7);
  viaFit.compile({
    optimizer: tf.train.adam(0.01),
    loss: ["categoricalCrossentropy", "binaryCrossentropy"],
  });
  const history = await viaFit.fit([xa, xb], [y1, y2], {
    batchSize: 32,
    epochs: 1,
    shuffle: false,
    verbose: 0,
  });
  const viaStep = twoHeads(7);
  const step = makeTrainStep(viaStep, tf.train.adam(0.01), [
    { name: "digits", loss: "categoricalCrossentropy", metrics: ["accuracy"] },
    { name: "same", loss: "binaryCrossentropy", metrics: ["accuracy"] },
  ]);
  for (let i = 0; i < 2; i++) {
    const part = (t: tf.Tensor) => t.slice(i * 32, 32);
    step([part(xa), part(xb)], [part(y1), part(y2)]).dispose();
  }
  const logs = await step.drain();
  assert.ok(weightGap(viaFit, viaStep) < 1e-5, `weights differ by ${weightGap(viaFit, viaStep)}`);
  assert.ok(Math.abs(logs.loss - (history.history.loss[0] as number)) < 1e-5);
  assert.ok(Math.abs(logs.loss - logs["loss.digits"] - logs["loss.same"]) < 1e-6);
  assert.ok(logs["acc.digits"] >= 0 && logs["acc.same"] <= 1);
  step.dispose();
  tf.dispose([xa, xb, y1, y2]);
  viaFit.dispose();
  viaStep.dispose();
});
