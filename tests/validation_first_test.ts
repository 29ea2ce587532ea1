/**
 * The protocol of Géron's Hands-On ML chapter 11 notebook as spec data: the first training images
 * held out as validation data (`validationFirst`) and each pixel standardised with the rest's
 * mean and std (`scaling.standardize: "pixel"`); their contradictions as spec errors, and the
 * splits a model gets, against values computed from the dataset
 * (tests/fixtures/replications/valfirst).
 */
import assert from "assert";
import { fileURLToPath } from "node:url";
import { setupBackend } from "../harness/backend/backend.ts";
import { loadImageDataset, loadManifest } from "../harness/data/datasets.ts";
import type { AugmentedSample } from "../harness/data/augment.ts";
import { pixelsFromBase64 } from "../harness/util/digit_image.ts";
import { loadReplication } from "../harness/replications.ts";
import { parseSpec } from "../harness/spec/load_spec.ts";
import { protocolMetrics } from "../harness/spec/metrics.ts";
import {
  pixelMeanStd,
  type PixelScalingRun,
  pixelStatsHash,
  type ScalingRun,
  unscale,
} from "../harness/spec/scaling.ts";
import type { LayersProtocol } from "../harness/spec/spec.ts";
import { replicate } from "../harness/pipeline/replicate.ts";
import { TRAIN_LIMIT } from "./fixtures/replications/valfirst/model.ts";
import { layersProtocol, specIssues, specWith } from "./_specs.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/replications", import.meta.url));

Deno.test("validationFirst and per-pixel scaling: every problem at once, each naming its field", () => {
  assert.deepEqual(
    specIssues(specWith(
      { validationFirst: 5000, validationSplit: 0.1 },
      { validationFirst: 0 },
      { validationFirst: 2.5 },
      { validationFirst: 100, inputs: { derived: "pairs" } },
      { scaling: { standardize: "pixel", mean: 0.5, std: 0.2 } },
      { scaling: { standardize: "pixels" } },
    )),
    [
      "protocols.0.validationFirst: give one of `validationFirst` (the first N training images) " +
      "and `validationSplit` (Keras' last fraction), not both",
      "protocols.1.validationFirst: Too small: expected number to be >0",
      "protocols.2.validationFirst: Invalid input: expected int, received number",
      "protocols.3.validationFirst: validationFirst holds out the dataset's first images: it " +
      'needs `inputs: "images"`',
      'protocols.4.scaling.standardize: give `standardize: "pixel"` (mean and std computed from ' +
      "the training images) or a fixed `mean` and `std`, not both",
      'protocols.5.scaling.standardize: Invalid option: expected one of "dataset"|"pixel"',
    ],
  );
});

Deno.test("validationFirst records val metrics; a variant's replaces the validationSplit it inherits", () => {
  const p = layersProtocol({
    validationFirst: 5000,
    scaling: { standardize: "pixel" },
    earlyStopping: { monitor: "val_acc", patience: 2 },
  });
  assert.equal(p.validationFirst, 5000);
  assert.deepEqual(p.scaling, { divide: 255, standardize: "pixel" });
  assert.deepEqual(
    [...protocolMetrics(p, {}).keys()],
    ["params", "train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc"],
  );
  const fields = parseSpec(
    specWith(
      { validationSplit: 0.1 },
      { extends: "p0", validationFirst: 5000 },
      { extends: "p1", validationSplit: 0.2 },
    ),
    "spec.json",
  ).protocols.map((q) => {
    const { validationFirst, validationSplit } = q as LayersProtocol;
    return { validationFirst, validationSplit };
  });
  assert.deepEqual(fields, [
    { validationFirst: undefined, validationSplit: 0.1 },
    { validationFirst: 5000, validationSplit: undefined },
    { validationFirst: undefined, validationSplit: 0.2 },
  ]);
});

Deno.test("unscale: a per-pixel standardised value back with its own pixel's mean and std", () => {
  const s = { divide: 255, mean: Float64Array.of(0.1, 0.5), std: Float64Array.of(0.2, 2) };
  assert.ok(Math.abs(unscale(s, 1, 0) - 0.3) < 1e-15);
  assert.ok(Math.abs(unscale(s, -0.25, 1) - 0) < 1e-15);
  assert.ok(Math.abs(unscale({ divide: 1, mean: 0.5, std: 2 }, 0.25, 7) - 1 / 255) < 1e-15);
});

Deno.test("per-pixel statistics of the notebook's 55,000 training images: each pixel to mean 0, std 1", async () => {
  const data = await loadImageDataset(await loadManifest("fashion-mnist"));
  const size = 28 * 28;
  // X_train = X_train_full[5000:]
  const x = data.train.images.subarray(5000 * size);
  const { mean, std } = pixelMeanStd(x, size);
  const n = x.length / size;
  assert.equal(n, 55000);
  // E[x²] − E[x]², not the two passes of pixelMeanStd.
  const sums = new Float64Array(size), squares = new Float64Array(size);
  for (let i = 0; i < x.length; i += size) {
    for (let j = 0; j < size; j++) {
      sums[j] += x[i + j];
      squares[j] += x[i + j] * x[i + j];
    }
  }
  for (let j = 0; j < size; j++) {
    const m = sums[j] / n;
    assert.ok(Math.abs(mean[j] - m) < 1e-12, `pixel ${j}: mean ${mean[j]}, not ${m}`);
    const s = Math.sqrt(squares[j] / n - m * m);
    assert.ok(Math.abs(std[j] - s) < 1e-9, `pixel ${j}: std ${std[j]}, not ${s}`);
    assert.ok(std[j] > 0, `pixel ${j} is the same in every image`);
  }
  // Applied in float32, as the trainer does: each pixel's mean ≈ 0 and std ≈ 1 over the 55,000.
  const [m32, s32] = [Float32Array.from(mean), Float32Array.from(std)];
  const scaled = new Float32Array(x.length);
  for (let i = 0; i < x.length; i += size) {
    for (let j = 0; j < size; j++) scaled[i + j] = Math.fround(x[i + j] - m32[j]) / s32[j];
  }
  const after = pixelMeanStd(scaled, size);
  for (let j = 0; j < size; j++) {
    assert.ok(Math.abs(after.mean[j]) < 1e-5, `pixel ${j}: mean ${after.mean[j]}`);
    assert.ok(Math.abs(after.std[j] - 1) < 1e-4, `pixel ${j}: std ${after.std[j]}`);
  }
});

/** Each protocol's run of the valfirst fixture: its first 6,000 training images, one epoch. */
async function _train() {
  const rep = await loadReplication("valfirst", FIXTURES);
  const results = await replicate(rep, {
    seeds: [1],
    protocols: ["pixel", "dataset", "augmented", "constant-pixels", "all-held-out"],
    trainLimit: TRAIN_LIMIT,
    backend: await setupBackend("wasm"),
    command: "test",
  });
  return results;
}

let _trained: ReturnType<typeof _train> | undefined;
const trained = () => _trained ??= _train();

/** What the fixture computed from the dataset (see its model.ts). */
interface _Reference {
  trainPixels: { largestMean: number; largestStdOff: number };
  initialTrain: { loss: number; acc: number };
  val: { loss: number; acc: number };
  test: { loss: number; acc: number };
}

for (const id of ["pixel", "dataset"]) {
  Deno.test(`${id}: the first 1,000 images validate, the other 5,000 train and give the statistics`, async () => {
    const results = await trained();
    const run = results.runs.find((r) => r.protocol === id);
    assert.ok(run, JSON.stringify(results.failures));
    const ref = run.artifacts as unknown as _Reference;
    const [epoch] = run.epochs;
    const close = (metric: string, expected: number, tolerance: number) =>
      assert.ok(
        Math.abs(epoch.metrics[metric]! - expected) < tolerance,
        `${metric} ${epoch.metrics[metric]} is not ${expected}`,
      );
    // One step on every training image: the epoch's train metrics are the initial model's on
    // images 1000..5999, standardised with their own statistics.
    assert.equal(
      run.notes?.[0],
      "batchSize 6000 is more than the 5000 training samples: each epoch trained one batch of " +
        "all 5000, as Keras clips it",
    );
    close("train_loss", ref.initialTrain.loss, 1e-5);
    close("train_acc", ref.initialTrain.acc, 1e-6);
    // val_* on images 0..999 and test_* on the test images, with the training statistics.
    close("val_loss", ref.val.loss, 1e-5);
    close("val_acc", ref.val.acc, 1e-6);
    close("test_loss", ref.test.loss, 1e-5);
    close("test_acc", ref.test.acc, 1e-6);
    // The reference standardised training pixels (the ones the model trained on, as the train
    // metrics show): each pixel at mean 0 and std 1, or the whole set's.
    if (id === "pixel") {
      assert.ok(ref.trainPixels.largestMean < 1e-5, JSON.stringify(ref.trainPixels));
      assert.ok(ref.trainPixels.largestStdOff < 1e-4, JSON.stringify(ref.trainPixels));
    }
    const data = await loadImageDataset(await loadManifest("fashion-mnist"));
    const training = data.train.images.subarray(1000 * 784, TRAIN_LIMIT * 784);
    if (id === "pixel") {
      const { mean, std } = pixelMeanStd(training, 784);
      const scaling = run.scaling as PixelScalingRun;
      assert.deepEqual(scaling, {
        divide: 255,
        standardize: "pixel",
        images: 5000,
        pixels: 784,
        meanRange: [Math.min(...mean), Math.max(...mean)],
        stdRange: [Math.min(...std), Math.max(...std)],
        sha256: await pixelStatsHash(mean, std),
      });
    } else {
      const scaling = run.scaling as ScalingRun;
      const mean = training.reduce((a, v) => a + v, 0) / training.length;
      assert.equal(scaling.standardize, "dataset");
      assert.ok(Math.abs(scaling.mean - mean) < 1e-12, `mean ${scaling.mean}, not ${mean}`);
    }
  });
}

Deno.test("augmented with per-pixel scaling: the digits on the page are the training images", async () => {
  const results = await trained();
  const run = results.runs.find((r) => r.protocol === "augmented");
  assert.ok(run, JSON.stringify(results.failures));
  const data = await loadImageDataset(await loadManifest("fashion-mnist"));
  const { shown } = run.artifacts!.augmented as AugmentedSample;
  assert.equal(shown.length, 8);
  for (const d of shown) {
    // Its index in the training set, which starts after the 1,000 held out.
    const raw = data.train.images.subarray((1000 + d.index) * 784, (1001 + d.index) * 784);
    const original = pixelsFromBase64(d.original);
    raw.forEach((v, j) => {
      assert.ok(Math.abs(original[j] - v * 255) <= 0.5 + 1e-3, `${d.index}/${j}: ${original[j]}`);
    });
  }
});

Deno.test("a pixel with std 0 and a holdout of the whole training set fail at data time", async () => {
  const results = await trained();
  const mnist = await loadImageDataset(await loadManifest("mnist"));
  const x = mnist.train.images;
  let constant = 0;
  for (let j = 0; j < 784; j++) {
    let same = true;
    for (let i = 1; i < TRAIN_LIMIT && same; i++) same = x[i * 784 + j] === x[j];
    if (same) constant++;
  }
  assert.ok(constant > 0);
  assert.deepEqual(
    results.failures?.map(({ protocol, error }) => ({ protocol, error })),
    [
      {
        protocol: "constant-pixels",
        error: `valfirst/constant-pixels: scaling.standardize: "pixel": ${constant} of the 784 ` +
          "pixels have std 0 over the 6000 training images of mnist (the same value in every " +
          "image), where numpy's (x − mean) / std gives NaN or ±inf",
      },
      {
        protocol: "all-held-out",
        error: "valfirst/all-held-out: validationFirst: 6000 is not smaller than the 6000 " +
          "training images of fashion-mnist (--train-limit 6000): no image would be left to " +
          "train on",
      },
    ],
  );
});
