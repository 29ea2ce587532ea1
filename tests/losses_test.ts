/**
 * Keras' losses and metrics as spec data: sparse categorical cross-entropy on integer labels,
 * mean squared and mean absolute error, label smoothing, sparse categorical and top-k accuracy,
 * each against a float64 reference (written here from Keras' formulas) on small tensors; the
 * names they record; validation; and the unchanged functions of the losses written before.
 */
import assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { setupBackend } from "../harness/backend/backend.ts";
import { outputsOf, protocolMetrics } from "../harness/spec/metrics.ts";
import type { LossName, Output, OutputMetric } from "../harness/spec/spec.ts";
import { layersProtocol, specIssues, specWith } from "./_specs.ts";
import { accuracyFor, lossFn, metricFn, topKAccuracy } from "../harness/train/step.ts";

await setupBackend("wasm");

/** Softmax-like outputs (rows of 3 classes; the last ties classes 0 and 1) and their labels. */
const P = [
  [0.7, 0.2, 0.1],
  [0.1, 0.3, 0.6],
  [0.25, 0.5, 0.25],
  [0.2, 0.2, 0.6],
  [0.4, 0.4, 0.2],
];
const LABELS = [0, 2, 1, 1, 1];
const oneHot = (k: number) => [0, 1, 2].map((i) => i === k ? 1 : 0);

/** Keras' clipped categorical cross-entropy of one sample, in float64 (rows scaled to sum 1). */
function crossEntropy(y: number[], p: number[]): number {
  const sum = p.reduce((a, b) => a + b);
  const clip = (x: number) => Math.min(Math.max(x / sum, 1e-7), 1 - 1e-7);
  return -y.reduce((a, yi, i) => a + yi * Math.log(clip(p[i])), 0);
}

/** Keras' binary cross-entropy of one sample (mean over its last axis), in float64. */
function binaryCrossEntropy(y: number[], p: number[]): number {
  const clip = (x: number) => Math.min(Math.max(x, 1e-7), 1 - 1e-7);
  const terms = y.map((yi, i) => yi * Math.log(clip(p[i])) + (1 - yi) * Math.log(1 - clip(p[i])));
  return -terms.reduce((a, b) => a + b) / y.length;
}

/** Runs `fn` on (targets, outputs) and reads back its per-sample values. */
function perSample(
  fn: (y: tf.Tensor, p: tf.Tensor) => tf.Tensor,
  y: tf.Tensor,
  p: number[][] = P,
): number[] {
  const out = tf.tidy(() => fn(y, tf.tensor2d(p)));
  const values = Array.from(out.dataSync());
  tf.dispose([out, y]);
  return values;
}

function assertClose(actual: number[], expected: number[], tolerance = 2e-6) {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) =>
    assert.ok(
      Math.abs(a - expected[i]) <= tolerance * Math.max(1, Math.abs(expected[i])),
      `sample ${i}: ${a} vs ${expected[i]}\n${actual}\n${expected}`,
    )
  );
}

const output = (loss: LossName, extra: Partial<Output> = {}): Output => ({
  name: "",
  loss,
  metrics: [],
  ...extra,
});
const labels = () => tf.tensor1d(LABELS, "int32");
const hot = () => tf.tensor2d(LABELS.map(oneHot));

Deno.test("sparse categorical cross-entropy on integer labels: the one-hot cross-entropy, bit for bit", () => {
  const sparse = perSample(lossFn(output("sparseCategoricalCrossentropy")), labels());
  assertClose(sparse, LABELS.map((k, i) => crossEntropy(oneHot(k), P[i])));
  const categorical = perSample(lossFn(output("categoricalCrossentropy")), hot());
  assert.deepEqual(sparse, categorical);
  // Labels as a column ([n, 1], as Keras also accepts them) give the same.
  const column = tf.tensor2d(LABELS.map((k) => [k]), undefined, "int32");
  assert.deepEqual(perSample(lossFn(output("sparseCategoricalCrossentropy")), column), sparse);
});

Deno.test("label smoothing: y·(1 − s) + s/K for categorical, + s/2 for binary cross-entropy", () => {
  const s = 0.1;
  const smoothed = perSample(
    lossFn(output("categoricalCrossentropy", { labelSmoothing: s })),
    hot(),
  );
  assertClose(
    smoothed,
    LABELS.map((k, i) => crossEntropy(oneHot(k).map((y) => y * (1 - s) + s / 3), P[i])),
  );
  const targets = [[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 1, 0], [1, 0, 0]];
  const binary = perSample(
    lossFn(output("binaryCrossentropy", { labelSmoothing: s })),
    tf.tensor2d(targets),
  );
  assertClose(
    binary,
    targets.map((y, i) => binaryCrossEntropy(y.map((v) => v * (1 - s) + s / 2), P[i])),
    1e-5,
  );
  // Without smoothing, the losses written before are tfjs' own functions, unchanged.
  assert.equal(lossFn(output("categoricalCrossentropy")), tf.metrics.categoricalCrossentropy);
  assert.equal(
    lossFn(output("categoricalCrossentropy", { labelSmoothing: 0 })),
    tf.metrics.categoricalCrossentropy,
  );
  assert.equal(lossFn(output("binaryCrossentropy")), tf.metrics.binaryCrossentropy);
  assert.equal(accuracyFor("categoricalCrossentropy"), tf.metrics.categoricalAccuracy);
  assert.equal(accuracyFor("binaryCrossentropy"), tf.metrics.binaryAccuracy);
});

Deno.test("mean squared and mean absolute error: per sample, the mean over the last axis", () => {
  const targets = [[1, 0, 0.5], [0, 2, 1], [-1, 0.5, 0.25], [0.2, 0.2, 0.6], [3, 0, 0]];
  const diffs = targets.map((y, i) => y.map((v, j) => P[i][j] - v));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length;
  for (
    const [loss, metric] of [["meanSquaredError", "mse"], ["meanAbsoluteError", "mae"]] as const
  ) {
    const expected = diffs.map((d) => mean(d.map((x) => metric === "mse" ? x * x : Math.abs(x))));
    assertClose(perSample(lossFn(output(loss)), tf.tensor2d(targets)), expected);
    assertClose(
      perSample(metricFn(loss, "categoricalCrossentropy"), tf.tensor2d(targets)),
      expected,
    );
  }
});

Deno.test("sparse categorical accuracy and top-k accuracy (ties with the k-th count; NaN misses)", () => {
  // Argmax against the label; the last row ties classes 0 and 1, and argmax takes the first.
  const sparseAcc = perSample(
    metricFn("sparseCategoricalAccuracy", "sparseCategoricalCrossentropy"),
    labels(),
  );
  assert.deepEqual(sparseAcc, [1, 1, 1, 0, 0]);
  assert.deepEqual(
    perSample(metricFn("accuracy", "sparseCategoricalCrossentropy"), labels()),
    sparseAcc,
  );
  // in_top_k: the label's output is in the top k when fewer than k outputs exceed it.
  const reference = (k: number, p: number[][] = P) =>
    LABELS.map((c, i) =>
      p[i].every(Number.isFinite) && p[i].filter((v) => v > p[i][c]).length < k ? 1 : 0
    );
  assert.deepEqual(reference(1), [1, 1, 1, 0, 1]);
  assert.deepEqual(reference(2), [1, 1, 1, 1, 1]);
  for (const k of [1, 2, 3]) {
    const sparse: OutputMetric = { name: "sparseTopKCategoricalAccuracy", k };
    const categorical: OutputMetric = { name: "topKCategoricalAccuracy", k };
    assert.deepEqual(
      perSample(metricFn(sparse, "sparseCategoricalCrossentropy"), labels()),
      reference(k),
    );
    assert.deepEqual(
      perSample(metricFn(categorical, "categoricalCrossentropy"), hot()),
      reference(k),
    );
  }
  const withNaN = P.map((row, i) => i === 0 ? [NaN, 0.2, 0.1] : row);
  assert.deepEqual(perSample((y, p) => topKAccuracy(y, p, 3), labels(), withNaN), [0, 1, 1, 1, 1]);
  assert.deepEqual(reference(3, withNaN), [0, 1, 1, 1, 1]);
});

Deno.test("the metrics a loss and its metrics record, by name and better side", () => {
  const p = layersProtocol({
    loss: "sparseCategoricalCrossentropy",
    metrics: ["accuracy", { name: "sparseTopKCategoricalAccuracy", k: 5 }],
  });
  assert.deepEqual([...protocolMetrics(p, {})], [
    ["params", "neither"],
    ["train_loss", "lower"],
    ["train_acc", "higher"],
    ["train_sparse_top5_acc", "higher"],
    ["test_loss", "lower"],
    ["test_acc", "higher"],
    ["test_sparse_top5_acc", "higher"],
  ]);
  // A regression loss records no accuracy unless one is named; its mse/mae are lower-better.
  assert.deepEqual(outputsOf(layersProtocol({ loss: "meanSquaredError" })), [{
    name: "",
    loss: "meanSquaredError",
    metrics: [],
  }]);
  const named = layersProtocol({
    outputs: [{
      name: "digit",
      loss: "categoricalCrossentropy",
      labelSmoothing: 0.1,
      metrics: ["categoricalAccuracy", { name: "topKCategoricalAccuracy", k: 2 }],
    }, { name: "size", loss: "meanAbsoluteError", metrics: ["meanSquaredError"] }],
    loss: undefined,
    targets: { function: "t" },
  });
  assert.equal(outputsOf(named)[0].labelSmoothing, 0.1);
  const names = [...protocolMetrics(named, {})].filter(([k]) => k.startsWith("test_"));
  assert.deepEqual(names, [
    ["test_loss", "lower"],
    ["test_loss.digit", "lower"],
    ["test_categorical_acc.digit", "higher"],
    ["test_top2_acc.digit", "higher"],
    ["test_loss.size", "lower"],
    ["test_mse.size", "lower"],
  ]);
});

Deno.test("losses and metrics: every error at once, each naming its field", () => {
  const found = specIssues(specWith(
    { loss: "sparseCategoricalCrossentropy", labelSmoothing: 0.1 },
    { metrics: ["sparseCategoricalAccuracy", { name: "sparseTopKCategoricalAccuracy", k: 3 }] },
    {
      loss: "sparseCategoricalCrossentropy",
      targets: "input",
      metrics: ["categoricalAccuracy", { name: "topKCategoricalAccuracy", k: 3 }],
    },
    { loss: "meanSquaredError", metrics: ["accuracy"], labelSmoothing: 1.5 },
    {
      loss: undefined,
      labelSmoothing: 0.1,
      outputs: [{ name: "x", loss: "meanAbsoluteError", labelSmoothing: 0.2 }],
    },
    { loss: "meanSquaredErorr" },
    { metrics: ["acuracy", "topKCategoricalAccuracy", { name: "topKCategoricalAccuracy", kk: 3 }] },
  ));
  const metrics = "a metric is one of accuracy, binaryAccuracy, categoricalAccuracy, " +
    'sparseCategoricalAccuracy, meanAbsoluteError, meanSquaredError, or {"name": ' +
    '"topKCategoricalAccuracy" or "sparseTopKCategoricalAccuracy", "k": 5}';
  const expected = [
    "protocols.0.labelSmoothing: sparseCategoricalCrossentropy takes no label smoothing " +
    "(Keras' label_smoothing is categorical and binary cross-entropy's)",
    "protocols.1.metrics.0: sparseCategoricalAccuracy reads integer class targets, which only " +
    "sparseCategoricalCrossentropy is trained on (this output's loss is categoricalCrossentropy)",
    "protocols.1.metrics.1: sparseTopKCategoricalAccuracy reads integer class targets, which " +
    "only sparseCategoricalCrossentropy is trained on (this output's loss is " +
    "categoricalCrossentropy)",
    "protocols.2.loss: sparseCategoricalCrossentropy needs class targets, not the input",
    "protocols.2.metrics.0: categoricalAccuracy reads one-hot targets; with " +
    "sparseCategoricalCrossentropy use sparseCategoricalAccuracy or accuracy",
    "protocols.2.metrics.1: topKCategoricalAccuracy reads one-hot targets; with " +
    "sparseCategoricalCrossentropy use sparseTopKCategoricalAccuracy",
    "protocols.3.labelSmoothing: Too big: expected number to be <=1",
    "protocols.3.labelSmoothing: meanSquaredError takes no label smoothing (Keras' " +
    "label_smoothing is categorical and binary cross-entropy's)",
    "protocols.3.metrics.0: accuracy with meanSquaredError: Keras picks its kind by the " +
    "output's shape; name it (binaryAccuracy or categoricalAccuracy)",
    "protocols.4.labelSmoothing: with `outputs`, give each output's labelSmoothing there",
    "protocols.4.outputs.0.labelSmoothing: meanAbsoluteError takes no label smoothing (Keras' " +
    "label_smoothing is categorical and binary cross-entropy's)",
    `protocols.6.metrics.0: unknown metric "acuracy" (did you mean "accuracy"?); ${metrics}`,
    "protocols.6.metrics.1: topKCategoricalAccuracy needs its k, as Keras' k=: " +
    '{"name": "topKCategoricalAccuracy", "k": 5}',
    "protocols.6.metrics.2: k: Invalid input: expected number, received undefined; " +
    'unknown key "kk" (did you mean "k"?)',
  ];
  for (const line of expected) {
    assert.ok(found.includes(line), `missing: ${line}\n${found.join("\n")}`);
  }
  assert.ok(found.some((i) => i.startsWith("protocols.5.loss: ")), found.join("\n"));
  assert.equal(found.length, expected.length + 1, found.join("\n"));
  // A regression loss records no accuracy to claim.
  const data = specWith({ loss: "meanAbsoluteError" });
  (data.claims as Record<string, unknown>[])[0].metric = "test_acc";
  assert.deepEqual(specIssues(data), [
    'claims.0.metric: protocol "p0" does not record "test_acc" (it records params, ' +
    "train_loss, test_loss)",
  ]);
});
