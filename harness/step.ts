/**
 * A training step without `model.fit`: the same loss, optimizer and batch order, with fewer
 * kernel calls and no per-step read-back (fit resolves the loss of every batch).
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** The losses the suite trains with, by their Keras names. */
export type LossName = "categoricalCrossentropy" | "binaryCrossentropy";

/** The accuracy metric Keras pairs with a loss ("acc"). */
export function accuracyFor(loss: LossName): (y: tf.Tensor, pred: tf.Tensor) => tf.Tensor {
  return loss === "categoricalCrossentropy"
    ? tf.metrics.categoricalAccuracy
    : tf.metrics.binaryAccuracy;
}

/** One training step plus running sums of loss and accuracy kept on the backend. */
export interface TrainStep {
  /** Trains on one batch; returns the batch's mean loss as a tensor the caller disposes. */
  (x: tf.Tensor, y: tf.Tensor): tf.Scalar;
  /** Mean loss and accuracy over the samples seen since the last call (reads the backend). */
  drain(): Promise<{ loss: number; acc: number }>;
  dispose(): void;
}

/**
 * Builds a training step for `model` equal to what `fit` does per batch: the batch's mean loss
 * (Keras' clipped cross-entropy, as tfjs-layers computes it), gradients of every trainable
 * weight, one optimizer update, and sample-weighted running means for the epoch's logs.
 */
export function makeTrainStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  loss: LossName,
): TrainStep {
  const lossFn = tf.metrics[loss];
  const accFn = accuracyFor(loss);
  const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  // tidy frees the zero scalars; the variables keep their own copies.
  let [lossSum, accSum] = tf.tidy(
    () => [tf.variable(tf.scalar(0), false), tf.variable(tf.scalar(0), false)],
  );
  let seen = 0;
  const step = ((x: tf.Tensor, y: tf.Tensor) => {
    const n = x.shape[0];
    seen += n;
    return tf.tidy(() => {
      let acc!: tf.Tensor;
      const cost = optimizer.minimize(
        () => {
          const pred = model.apply(x, { training: true }) as tf.Tensor;
          acc = tf.keep(accFn(y, pred).mean());
          return lossFn(y, pred).mean() as tf.Scalar;
        },
        true,
        vars,
      )!;
      lossSum.assign(lossSum.add(cost.mul(n)));
      accSum.assign(accSum.add(acc.mul(n)));
      acc.dispose();
      return cost;
    });
  }) as TrainStep;
  step.drain = async () => {
    const [l, a] = await Promise.all([lossSum.data(), accSum.data()]);
    const means = { loss: l[0] / seen, acc: a[0] / seen };
    tf.tidy(() => {
      lossSum.assign(tf.zerosLike(lossSum));
      accSum.assign(tf.zerosLike(accSum));
    });
    seen = 0;
    return means;
  };
  step.dispose = () => {
    lossSum.dispose();
    accSum.dispose();
    lossSum = accSum = undefined as never;
  };
  return step;
}
