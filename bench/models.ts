/**
 * The bench's models, taken from the replications: keras-dense's dense net, cnn-sgd's conv net
 * (trained with SGD + momentum) and medium-autoencoder's conv autoencoder, each trained with the
 * optimizer, loss and batch size its protocol declares in the replication's spec.json, on random
 * data, so one table row is one {@link BenchModel}.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import { REPLICATIONS_DIR } from "../harness/util/paths.ts";
import { loadSpec } from "../harness/spec/load_spec.ts";
import { KERAS_CLASS } from "../harness/spec/optimizers.ts";
import type { LayersProtocol, Optimizer } from "../harness/spec/spec.ts";
import { makeOptimizer } from "../harness/train/keras_optimizers.ts";
import type { LossName } from "../harness/train/step.ts";
import { models as denseModels } from "../replications/keras-dense/model.ts";
import { cnn } from "../replications/cnn-sgd/model.ts";
import { autoencoder } from "../replications/medium-autoencoder/model.ts";

/** Everything the bench needs to train and run one model. */
export interface BenchModel {
  /** The row name in the table and in bench.json. */
  name: string;
  /** One line saying what it is. */
  description: string;
  /** The replication protocol whose training settings it takes (from its spec.json). */
  protocol: { replication: string; id: string };
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

/** The training settings of a bench model: those of its replication's protocol `p`. */
export type BenchSettings = Pick<BenchModel, "optimizer" | "optimizerName" | "loss" | "batchSize">;

/**
 * The settings `p` trains with: its optimizer as a rerun makes it (`makeOptimizer`), its loss
 * and batch size. Throws for a loss that tfjs' own fit does not also name.
 */
export function benchSettings(p: LayersProtocol): BenchSettings {
  const loss = p.loss;
  if (loss !== "categoricalCrossentropy" && loss !== "binaryCrossentropy") {
    throw new Error(`${p.id}: the bench compares fit and the step on a cross-entropy, not ${loss}`);
  }
  return {
    optimizer: () => makeOptimizer(p.optimizer, p.keras),
    optimizerName: _optimizerName(p.optimizer),
    loss,
    batchSize: p.batchSize,
  };
}

/** The optimizer in words: `Adam (lr 0.001)`, `SGD (lr 0.01, momentum 0.9)`. */
function _optimizerName(o: Optimizer): string {
  const momentum = o.name === "sgd" && o.momentum ? `, momentum ${o.momentum}` : "";
  return `${KERAS_CLASS[o.name]} (lr ${o.learningRate}${momentum})`;
}

/** The layers protocol `id` of `replication`'s spec.json, read with the harness's loader. */
async function _protocol(replication: string, id: string): Promise<LayersProtocol> {
  const spec = await loadSpec(join(REPLICATIONS_DIR, replication, "spec.json"));
  const p = spec.protocols.find((q) => q.id === id);
  if (p?.kind !== "layers") throw new Error(`${replication}: no layers protocol "${id}"`);
  return p;
}

/** A bench model trained with its protocol's settings, on `batches` of its batch size. */
async function _benchModel(
  model: Pick<BenchModel, "name" | "description" | "protocol" | "build">,
  batches: (batchSize: number) => BenchModel["batches"],
): Promise<BenchModel> {
  const settings = benchSettings(await _protocol(model.protocol.replication, model.protocol.id));
  return { ...model, ...settings, batches: batches(settings.batchSize) };
}

/** The bench's models, in table order. */
export const BENCH_MODELS: readonly BenchModel[] = await Promise.all([
  _benchModel({
    name: "keras-dense",
    description: 'keras-dense models["dense64-sigmoid"]: Flatten → Dense(64, sigmoid) → Dense(10)',
    protocol: { replication: "keras-dense", id: "slides" },
    build: denseModels["dense64-sigmoid"],
  }, (b) => _classification(b)),
  _benchModel({
    name: "cnn-sgd",
    description:
      "cnn-sgd models.cnn: Conv2D(32,5×5) → MaxPool(3) → Conv2D(64,2×2) → MaxPool(2) → " +
      "Dense 500/100/10",
    protocol: { replication: "cnn-sgd", id: "stated" },
    build: cnn,
  }, (b) => _classification(b, [28, 28, 1])),
  _benchModel({
    name: "conv-autoencoder",
    description: "medium-autoencoder models.autoencoder: Conv 32/64 + MaxPool → Dense(100) → " +
      "Dense(3136) → ConvTranspose 32/1 (sigmoid)",
    protocol: { replication: "medium-autoencoder", id: "autoencoder" },
    build: autoencoder,
  }, _reconstruction),
]);
