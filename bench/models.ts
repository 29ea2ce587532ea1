/**
 * The bench's models, taken from the replications: keras-dense's dense net, cnn-sgd's conv net
 * (trained with SGD + momentum) and medium-autoencoder's conv autoencoder, each with its
 * optimizer, loss, batch size and random data, so one table row is one {@link BenchModel}.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { LossName } from "../harness/train/step.ts";
import { models as denseModels } from "../replications/keras-dense/model.ts";
import { cnn } from "../replications/cnn-sgd/model.ts";
import { autoencoder } from "../replications/medium-autoencoder/model.ts";
import { adam, momentum } from "../harness/train/fused_optimizers.ts";

/** Everything the bench needs to train and run one model. */
export interface BenchModel {
  /** The row name in the table and in bench.json. */
  name: string;
  /** One line saying what it is. */
  description: string;
  build: (seed: number) => tf.LayersModel;
  /** A fresh optimizer (one per trained model: optimizers keep per-weight state). */
  optimizer: () => tf.Optimizer;
  /** The optimizer in words, for the report. */
  optimizerName: string;
  /** Its loss: one tfjs' own fit and tf.metrics also name (the bench compares the two). */
  loss: Extract<LossName, "categoricalCrossentropy" | "binaryCrossentropy">;
  batchSize: number;
  /** `count` random input/target batches: inputs in [0,1], one-hot or autoencoder targets. */
  batches: (count: number, seed: number) => { xs: tf.Tensor[]; ys: tf.Tensor[] };
}

function _classification(batchSize: number, shape = [28, 28]) {
  return (count: number, seed: number) =>
    tf.tidy(() => {
      const xs: tf.Tensor[] = [], ys: tf.Tensor[] = [];
      for (let i = 0; i < count; i++) {
        xs.push(tf.randomUniform([batchSize, ...shape], 0, 1, "float32", seed + 2 * i));
        const labels = tf.randomUniform([batchSize], 0, 10, "int32", seed + 2 * i + 1);
        ys.push(tf.oneHot(labels, 10).toFloat());
      }
      return { xs, ys };
    });
}

function _reconstruction(batchSize: number) {
  return (count: number, seed: number) =>
    tf.tidy(() => {
      const xs: tf.Tensor[] = [];
      for (let i = 0; i < count; i++) {
        xs.push(tf.randomUniform([batchSize, 28, 28, 1], 0, 1, "float32", seed + i));
      }
      return { xs, ys: xs };
    });
}

/** The bench's models, in table order. */
export const BENCH_MODELS: readonly BenchModel[] = [
  {
    name: "keras-dense",
    description: 'keras-dense models["dense64-sigmoid"]: Flatten → Dense(64, sigmoid) → Dense(10)',
    build: denseModels["dense64-sigmoid"],
    optimizer: () => adam(0.001),
    optimizerName: "Adam (lr 0.001)",
    loss: "categoricalCrossentropy",
    batchSize: 32,
    batches: _classification(32),
  },
  {
    name: "cnn-sgd",
    description:
      "cnn-sgd models.cnn: Conv2D(32,5×5) → MaxPool(3) → Conv2D(64,2×2) → MaxPool(2) → " +
      "Dense 500/100/10",
    build: cnn,
    optimizer: () => momentum(0.01, 0.9),
    optimizerName: "SGD (lr 0.01, momentum 0.9)",
    loss: "categoricalCrossentropy",
    batchSize: 32,
    batches: _classification(32, [28, 28, 1]),
  },
  {
    name: "conv-autoencoder",
    description: "medium-autoencoder models.autoencoder: Conv 32/64 + MaxPool → Dense(100) → " +
      "Dense(3136) → ConvTranspose 32/1 (sigmoid)",
    build: autoencoder,
    optimizer: () => adam(0.001),
    optimizerName: "Adam (lr 0.001)",
    loss: "binaryCrossentropy",
    batchSize: 128,
    batches: _reconstruction(128),
  },
];
