import assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { setupBackend } from "../harness/backend.ts";
import { makeTrainStep } from "../harness/step.ts";
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
    const step = makeTrainStep(viaStep, make(), "categoricalCrossentropy");
    for (let i = 0; i < 3; i++) step(x.slice(i * 32, 32), y.slice(i * 32, 32)).dispose();
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
