/**
 * The medium-autoencoder replication: a conv autoencoder, then a dense network on the frozen
 * codes of two images that learns their sum, product and comparison from the results alone.
 * Models, the derived datasets (pairs of codes, single codes), the operation targets and the
 * artifacts its charts draw; the protocols are data in spec.json.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import {
  type ArtifactRecorder,
  type DatasetBuilder,
  type DataSplit,
  type ImageDataset,
  type ModelBuilder,
  pixelsToBase64,
  type ReplicationModule,
  seededGlorot,
  type TargetFunction,
} from "claimcheck/plugin";
import * as replication from "./model.ts";
import { charts } from "./charts.ts";
import spec from "./spec.json" with { type: "json" };

export { charts };

/** The layer whose output is the 100-element code. */
export const CODE_LAYER = "code";

/**
 * Encoder `Conv2D(32,3,same,relu) → MaxPool(2) → Conv2D(64,3,same,relu) → MaxPool(2) → Flatten →
 * Dense(100)`, decoder `Dense(3136) → Reshape(7,7,64) → Conv2DTranspose(32,3,s2,same,relu) →
 * Conv2DTranspose(1,3,s2,same,sigmoid)`: 28×28×1 → 100 → 28×28×1, each pixel a sigmoid.
 */
export function autoencoder(seed: number): tf.LayersModel {
  const init = seededGlorot(seed);
  const conv = (filters: number, inputShape?: number[]) =>
    tf.layers.conv2d({
      ...(inputShape ? { inputShape } : {}),
      filters,
      kernelSize: 3,
      padding: "same",
      activation: "relu",
      kernelInitializer: init(),
    });
  const deconv = (filters: number, activation: "relu" | "sigmoid") =>
    tf.layers.conv2dTranspose({
      filters,
      kernelSize: 3,
      strides: 2,
      padding: "same",
      activation,
      kernelInitializer: init(),
    });
  return tf.sequential({
    layers: [
      conv(32, [28, 28, 1]),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      conv(64),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 100, kernelInitializer: init(), name: CODE_LAYER }),
      tf.layers.dense({ units: 3136, kernelInitializer: init() }),
      tf.layers.reshape({ targetShape: [7, 7, 64] }),
      deconv(32, "relu"),
      deconv(1, "sigmoid"),
    ],
  });
}

/** The arithmetic protocol's outputs in spec.json, one head each, in order. */
const _OUTPUTS = spec.protocols.flatMap((p) =>
  p.id === "arithmetic" && "outputs" in p ? p.outputs ?? [] : []
);

/**
 * Units of each head, in the order of `_OUTPUTS` (the widths of the targets `operations` gives):
 * sum units, sum tens, product units, product tens, comparison.
 */
const _UNITS = [10, 1, 10, 9, 3];

/** Whether head `h` is one sigmoid unit (its loss a binary cross-entropy), not a softmax. */
const _isBinary = (h: number) => _OUTPUTS[h].loss === "binaryCrossentropy";

/**
 * The arithmetic network on two precomputed codes (the frozen encoder applied to each image):
 * `concat(code_a, code_b) → Dense(1000, relu)` shared, then the five heads.
 */
function arithmetic(seed: number): tf.LayersModel {
  const init = seededGlorot(seed);
  const a = tf.input({ shape: [100], name: "code_a" }),
    b = tf.input({ shape: [100], name: "code_b" });
  const joined = tf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor;
  const hidden = tf.layers.dense({ units: 1000, activation: "relu", kernelInitializer: init() })
    .apply(joined) as tf.SymbolicTensor;
  const heads = _OUTPUTS.map(({ name }, h) =>
    tf.layers.dense({
      units: _UNITS[h],
      activation: _isBinary(h) ? "sigmoid" : "softmax",
      kernelInitializer: init(),
      name,
    }).apply(hidden) as tf.SymbolicTensor
  );
  return tf.model({ inputs: [a, b], outputs: heads });
}

/** The diagnostic: one frozen code → the same Dense(1000, relu) hidden layer → its digit. */
function digitProbe(seed: number): tf.LayersModel {
  const init = seededGlorot(seed);
  return tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [100],
        units: 1000,
        activation: "relu",
        kernelInitializer: init(),
      }),
      tf.layers.dense({ units: 10, activation: "softmax", kernelInitializer: init() }),
    ],
  });
}

/** Model builders by the names spec.json uses. */
export const models: Record<string, ModelBuilder> = {
  autoencoder,
  arithmetic,
  "digit-probe": digitProbe,
};

/** The trained autoencoder's encoder half (shares its layers and weights). */
function _encoder(ae: tf.LayersModel): tf.LayersModel {
  return tf.model({
    inputs: ae.inputs,
    outputs: ae.getLayer(CODE_LAYER).output as tf.SymbolicTensor,
  });
}

/** Codes of a [n,28,28] image tensor, in chunks; the images are disposed. */
function _encode(encoder: tf.LayersModel, images: tf.Tensor3D): tf.Tensor2D {
  const n = images.shape[0];
  const parts: tf.Tensor[] = [];
  for (let i = 0; i < n; i += 1000) {
    const b = Math.min(1000, n - i);
    parts.push(
      tf.tidy(() => encoder.predict(images.slice(i, b).reshape([b, 28, 28, 1])) as tf.Tensor),
    );
  }
  images.dispose();
  const codes = tf.concat(parts) as tf.Tensor2D;
  tf.dispose(parts);
  return codes;
}

/**
 * Pairs of frozen codes: `trainPairs` pairs of random training images and `testPairs` pairs of
 * random test images (uniform, with replacement, from the run's seed). The codes are computed
 * once per seed, not per batch: the encoder is frozen, so this is the same function, done once.
 * Labels per pair: [digit a, digit b, image index a, image index b]; the digits only compute the
 * targets, the indices only let the report draw the pair.
 */
const codePairs: DatasetBuilder = (ctx) => {
  const counts = CodePairsParams.parse(ctx.params);
  const pairs = { train: counts.trainPairs, test: counts.testPairs };
  const encoder = _encoder(ctx.stage("autoencoder"));
  const split = (which: "train" | "test"): DataSplit => {
    const codes = _encode(encoder, ctx.images(which));
    // Draw from the images the run has (all of them unless the rerun limits the training set).
    const images = codes.shape[0], digits = ctx.data[which].labels;
    const rng = ctx.rng(`${which}-pairs`);
    const n = pairs[which];
    const ia = new Int32Array(n), ib = new Int32Array(n), labels = new Int32Array(4 * n);
    for (let k = 0; k < n; k++) {
      ia[k] = Math.floor(rng() * images);
      ib[k] = Math.floor(rng() * images);
      labels.set([digits[ia[k]], digits[ib[k]], ia[k], ib[k]], 4 * k);
    }
    const inputs = tf.tidy(() => [tf.gather(codes, ia), tf.gather(codes, ib)]);
    codes.dispose();
    return { inputs, labels: tf.tensor2d(labels, [n, 4], "int32") };
  };
  return { train: split("train"), test: split("test") };
};

/** Single frozen codes with their digit (the diagnostic probe's data). */
const codes: DatasetBuilder = (ctx) => {
  const encoder = _encoder(ctx.stage("autoencoder"));
  const split = (which: "train" | "test"): DataSplit => {
    const codes = _encode(encoder, ctx.images(which));
    const digits = ctx.data[which].labels.subarray(0, codes.shape[0]);
    return { inputs: [codes], labels: tf.tensor1d(digits, "int32") };
  };
  return { train: split("train"), test: split("test") };
};

/** Derived datasets by the names spec.json uses. */
export const datasets: Record<string, DatasetBuilder> = { "code-pairs": codePairs, codes };

/** The params of `code-pairs`: how many pairs each split gets. */
export const CodePairsParams = z.strictObject({
  trainPairs: z.number().int().positive(),
  testPairs: z.number().int().positive(),
});

/** Params schemas, checked when the spec loads. */
export const params = { "code-pairs": CodePairsParams };

/** The comparison classes: a < b, a = b, a > b. */
export const COMPARE_CLASSES = ["a < b", "a = b", "a > b"] as const;

/**
 * The five operation results of each pair, computed from its two digits: sum units (10-way),
 * sum tens (binary), product units (10-way), product tens (0–8, 9-way), comparison (3-way).
 */
const operations: TargetFunction = (split) =>
  tf.tidy(() => {
    const [a, b] = tf.split(split.labels.slice([0, 0], [-1, 2]), 2, 1).map((t) => t.squeeze([1]));
    const sum = a.add(b), product = a.mul(b);
    const hot = (x: tf.Tensor, k: number) => tf.oneHot(x.toInt() as tf.Tensor1D, k).toFloat();
    return [
      hot(sum.mod(10), 10),
      sum.floorDiv(10).toFloat().expandDims(1),
      hot(product.mod(10), 10),
      hot(product.floorDiv(10), 9),
      hot(a.sub(b).sign().add(1), 3),
    ];
  });

/** Target functions by the names spec.json uses. */
export const targets: Record<string, TargetFunction> = { operations };

/** How many test digits and pairs the report draws. */
const _SHOWN = 12;

/** The first test images and their reconstructions, for the report. */
const reconstructions: ArtifactRecorder = (model, test, ctx) => {
  const data = ctx.data as ImageDataset;
  const px = 28 * 28;
  const out = tf.tidy(() => model.predict(test.inputs[0].slice(0, _SHOWN)) as tf.Tensor);
  const rec = out.dataSync();
  out.dispose();
  return {
    reconstructions: Array.from({ length: _SHOWN }, (_, i) => ({
      index: i,
      label: data.test.labels[i],
      original: pixelsToBase64(data.test.images.subarray(i * px, (i + 1) * px)),
      reconstruction: pixelsToBase64(rec.subarray(i * px, (i + 1) * px)),
    })),
  };
};

/** The first test pairs with the truth and the model's answers, for the report's grid. */
const pairGrid: ArtifactRecorder = (model, test, ctx) => {
  const data = ctx.data as ImageDataset;
  const px = 28 * 28;
  const preds = tf.tidy(() =>
    (model.predict(test.inputs.map((x) => x.slice(0, _SHOWN))) as tf.Tensor[]).map((p, h) =>
      _isBinary(h) ? p.squeeze([1]).round() : p.argMax(-1)
    )
  );
  const [su, st, pu, pt, cmp] = preds.map((p) => Array.from(p.dataSync()));
  tf.dispose(preds);
  const labels = test.labels.slice(0, _SHOWN).arraySync() as number[][];
  return {
    pairs: labels.map(([a, b, ia, ib], i) => ({
      a,
      b,
      imageA: pixelsToBase64(data.test.images.subarray(ia * px, (ia + 1) * px)),
      imageB: pixelsToBase64(data.test.images.subarray(ib * px, (ib + 1) * px)),
      predicted: { sum: su[i] + 10 * st[i], product: pu[i] + 10 * pt[i], compare: cmp[i] },
    })),
  };
};

/** Artifacts kept per protocol id. */
export const artifacts: Record<string, ArtifactRecorder> = {
  autoencoder: reconstructions,
  arithmetic: pairGrid,
};

// `deno check` holds this module to the contract: a table of the wrong shape fails here.
replication satisfies ReplicationModule;
