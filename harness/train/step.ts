/**
 * A training step without `model.fit`: the same loss, optimizer and batch order, with fewer
 * kernel calls and no per-step read-back (fit resolves the loss of every batch). One or several
 * outputs, their losses summed as Keras does.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { metricShortName } from "../spec/metrics.ts";
import type { LossName, Output, OutputMetric } from "../spec/spec.ts";

export type { LossName } from "../spec/spec.ts";

type _MetricFn = (y: tf.Tensor, pred: tf.Tensor) => tf.Tensor;

/** The accuracy metric Keras pairs with a loss ("acc"). */
export function accuracyFor(loss: LossName): _MetricFn {
  if (loss === "categoricalCrossentropy") return tf.metrics.categoricalAccuracy;
  if (loss === "sparseCategoricalCrossentropy") return tf.metrics.sparseCategoricalAccuracy;
  return tf.metrics.binaryAccuracy;
}

/** The function computing an output metric for an output trained with `loss`. */
export function metricFn(metric: OutputMetric, loss: LossName): _MetricFn {
  if (typeof metric !== "string") {
    const sparse = metric.name === "sparseTopKCategoricalAccuracy";
    return (y, pred) => topKAccuracy(sparse ? y : y.argMax(-1), pred, metric.k);
  }
  if (metric === "binaryAccuracy") return tf.metrics.binaryAccuracy;
  if (metric === "categoricalAccuracy") return tf.metrics.categoricalAccuracy;
  if (metric === "sparseCategoricalAccuracy") return tf.metrics.sparseCategoricalAccuracy;
  if (metric === "meanAbsoluteError") return tf.metrics.meanAbsoluteError;
  if (metric === "meanSquaredError") return tf.metrics.meanSquaredError;
  return accuracyFor(loss);
}

/**
 * Per sample, 1 where the class `classes` names is among the k highest of `pred` (its last
 * axis), else 0: TensorFlow's in_top_k, which Keras' top-k accuracy calls. A class tied with the
 * k-th highest counts as in the top k; a row with a non-finite output counts as a miss.
 */
export function topKAccuracy(classes: tf.Tensor, pred: tf.Tensor, k: number): tf.Tensor {
  return tf.tidy(() => {
    const n = pred.shape.at(-1)!;
    const flat = pred.reshape([-1, n]);
    const target = tf.oneHot(classes.reshape([-1]).toInt(), n).mul(flat).sum(-1, true);
    const above = flat.greater(target).sum(-1);
    const finite = tf.isFinite(flat).all(-1);
    return above.less(k).logicalAnd(finite).toFloat().reshape(pred.shape.slice(0, -1));
  });
}

/**
 * The loss function of an output: Keras' loss by its name (tfjs-layers' clipped cross-entropy);
 * integer class targets one-hot encoded for the sparse cross-entropy; targets smoothed to
 * y·(1 − s) + s/K (s/2 for the binary cross-entropy) where it declares label smoothing.
 */
export function lossFn(o: Output): _MetricFn {
  const s = o.labelSmoothing ?? 0;
  switch (o.loss) {
    case "sparseCategoricalCrossentropy":
      return (y, pred) => {
        const n = pred.shape.at(-1)!;
        const hot = tf.oneHot(y.reshape([-1]).toInt(), n).reshape(pred.shape);
        return tf.metrics.categoricalCrossentropy(hot, pred);
      };
    case "categoricalCrossentropy":
      if (!s) return tf.metrics.categoricalCrossentropy;
      return (y, pred) =>
        tf.metrics.categoricalCrossentropy(y.mul(1 - s).add(s / pred.shape.at(-1)!), pred);
    case "binaryCrossentropy":
      if (!s) return tf.metrics.binaryCrossentropy;
      return (y, pred) => tf.metrics.binaryCrossentropy(y.mul(1 - s).add(0.5 * s), pred);
    case "meanSquaredError":
      return tf.metrics.meanSquaredError;
    case "meanAbsoluteError":
      return tf.metrics.meanAbsoluteError;
  }
}

/** One per-output quantity the step and the evaluation accumulate: `loss`, `acc`, `acc.sum_units`. */
interface _Tracked {
  key: string;
  output: number;
  fn: _MetricFn;
}

/** The tracked quantities of `outputs`: per output its loss (then metrics), keyed without split. */
function _trackedOf(outputs: Output[]): _Tracked[] {
  return outputs.flatMap((o, i) => {
    const key = (m: string) => o.name ? `${m}.${o.name}` : m;
    return [
      { key: key("loss"), output: i, fn: lossFn(o) },
      ...o.metrics.map((m) => ({
        key: key(metricShortName(m)),
        output: i,
        fn: metricFn(m, o.loss),
      })),
    ];
  });
}

/** One unnamed output trained with `loss`, with Keras' "acc": the shape of most classifiers. */
export function singleOutput(loss: LossName): Output[] {
  return [{ name: "", loss, metrics: ["accuracy"] }];
}

/** The model's prediction(s) as an array, one per output. */
export function predict(model: tf.LayersModel, xs: tf.Tensor[], training = false): tf.Tensor[] {
  const out = model.apply(xs.length === 1 ? xs[0] : xs, { training });
  return Array.isArray(out) ? out as tf.Tensor[] : [out as tf.Tensor];
}

/**
 * Sums the per-output means into the total loss where there are several named outputs
 * (Keras' summed loss); one output's loss is already the total.
 */
function _withTotalLoss(
  means: Record<string, number>,
  outputs: Output[],
): Record<string, number> {
  if (outputs.length === 1 && !outputs[0].name) return means;
  const total = outputs.reduce((a, o) => a + means[`loss.${o.name}`], 0);
  return { loss: total, ...means };
}

/** One training step plus running sums of loss and metrics kept on the backend. */
export interface TrainStep {
  /** Trains on one batch; returns the batch's mean (total) loss as a tensor the caller disposes. */
  (xs: tf.Tensor[], ys: tf.Tensor[]): tf.Scalar;
  /** Mean loss and metrics over the samples seen since the last call (reads the backend). */
  drain(): Promise<Record<string, number>>;
  dispose(): void;
}

/**
 * Builds a training step for `model` equal to what `fit` does per batch: the batch's mean loss
 * per output (Keras' clipped cross-entropy, as tfjs-layers computes it), summed over outputs,
 * gradients of every trainable weight, one optimizer update, and sample-weighted running means
 * of each output's loss and metrics for the epoch's logs.
 */
export function makeTrainStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  outputs: Output[],
): TrainStep {
  const tracked = _trackedOf(outputs);
  const single = outputs.length === 1 && !outputs[0].name;
  const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  // tidy frees the zero scalars; the variables keep their own copies.
  let sums = tf.tidy(() => tracked.map(() => tf.variable(tf.scalar(0), false)));
  let seen = 0;
  const step = ((xs: tf.Tensor[], ys: tf.Tensor[]) => {
    const n = xs[0].shape[0];
    seen += n;
    return tf.tidy(() => {
      let values: tf.Tensor[] = [];
      const cost = optimizer.minimize(
        () => {
          const preds = predict(model, xs, true);
          const means = tracked.map((t) => t.fn(ys[t.output], preds[t.output]).mean());
          // The first tracked value is the loss (of the one output) or a term of the sum.
          values = means.map((m, i) => i === 0 && single ? m : tf.keep(m));
          if (single) return means[0] as tf.Scalar;
          const losses = tracked.flatMap((t, i) => t.key.startsWith("loss") ? [means[i]] : []);
          return tf.addN(losses) as tf.Scalar;
        },
        true,
        vars,
      )!;
      if (single) values[0] = cost;
      tracked.forEach((_, i) => sums[i].assign(sums[i].add(values[i].mul(n))));
      values.forEach((v) => v !== cost && v.dispose());
      return cost;
    });
  }) as TrainStep;
  step.drain = async () => {
    const read = await Promise.all(sums.map((s) => s.data()));
    const means = Object.fromEntries(tracked.map((t, i) => [t.key, read[i][0] / seen]));
    tf.tidy(() => sums.forEach((s) => s.assign(tf.zerosLike(s))));
    seen = 0;
    return _withTotalLoss(means, outputs);
  };
  step.dispose = () => {
    sums.forEach((s) => s.dispose());
    sums = undefined as never;
  };
  return step;
}

/** How often a classifier output predicted each class over a split. */
export interface ClassCounts {
  /** The output's index in the protocol's outputs. */
  output: number;
  /** Predictions per class, indexed by class. */
  counts: number[];
}

/** A split's evaluation: mean loss and metrics, and the classes each classifier output predicted. */
export interface Evaluation {
  /** Mean loss and metrics by key (`loss`, `acc`, `acc.sum_units`). */
  means: Record<string, number>;
  /** One entry per output that predicts one class per sample (see `_classesOf`). */
  predicted: ClassCounts[];
}

/**
 * The classes an output (of symbolic `shape`, batch axis first) picks from: its softmax units
 * (the class is the argmax, as categorical accuracy reads it) or 2 for one sigmoid unit (> 0.5,
 * as binary accuracy reads it); 0 where a sample's prediction is not one class (an image, a
 * regression).
 */
function _classesOf(o: Output, shape: (number | null)[]): number {
  if (shape.length !== 2) return 0;
  if (o.loss === "categoricalCrossentropy" || o.loss === "sparseCategoricalCrossentropy") {
    return shape[1]! > 1 ? shape[1]! : 0;
  }
  return o.loss === "binaryCrossentropy" && shape[1] === 1 ? 2 : 0;
}

/** Per class, how many samples of `pred` (a classifier output with `classes` classes) pick it. */
function _classCounts(pred: tf.Tensor, classes: number): tf.Tensor {
  const picked = pred.shape[1] === 1 ? pred.reshape([-1]).greater(0.5).toInt() : pred.argMax(-1);
  return tf.oneHot(picked as tf.Tensor1D, classes).sum(0);
}

/**
 * Mean loss and metrics of `model` over a whole split, in chunks to bound memory. Per-sample
 * values are averaged over non-batch axes first (a per-pixel loss counts once per image). The
 * same predictions give, per classifier output, how often each class was predicted (a model
 * that predicts one class for every sample is degenerate).
 */
export async function evaluate(
  model: tf.LayersModel,
  xs: tf.Tensor[],
  ys: tf.Tensor[],
  outputs: Output[],
): Promise<Evaluation> {
  const tracked = _trackedOf(outputs);
  const n = xs[0].shape[0], chunk = 1000;
  const classes = model.outputs.map((o, k) => _classesOf(outputs[k], o.shape));
  const classifiers = classes.flatMap((c, k) => c ? [k] : []);
  const sums = tf.tidy(() => {
    let acc = tracked.map(() => tf.scalar(0));
    let counts = classifiers.map((k) => tf.zeros([classes[k]], "int32"));
    for (let i = 0; i < n; i += chunk) {
      const b = Math.min(chunk, n - i);
      const preds = predict(model, xs.map((x) => x.slice(i, b)));
      const yb = ys.map((y) => y.slice(i, b));
      acc = tracked.map((t, k) => {
        let v = t.fn(yb[t.output], preds[t.output]);
        // The wasm backend's clipByValue maps NaN into range, which would hide a diverged
        // model behind a finite clipped loss: NaN predictions must give a NaN loss.
        if (t.key.startsWith("loss")) v = v.add(preds[t.output].sum(-1).mul(0));
        if (v.rank > 1) v = v.reshape([b, -1]).mean(1);
        return acc[k].add(v.sum());
      });
      counts = classifiers.map((k, j) => counts[j].add(_classCounts(preds[k], classes[k])));
    }
    // One read for both (counts up to 2^24 are exact in float32).
    return tf.concat([tf.stack(acc), ...counts.map((c) => c.toFloat())]);
  });
  const read = await sums.data();
  sums.dispose();
  const means = Object.fromEntries(tracked.map((t, i) => [t.key, read[i] / n]));
  let at = tracked.length;
  const predicted = classifiers.map((output) => {
    const counts = Array.from(read.subarray(at, at += classes[output]));
    return { output, counts };
  });
  return { means: _withTotalLoss(means, outputs), predicted };
}
