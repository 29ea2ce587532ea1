/**
 * The contract between claimcheck and a replication: the one harness module a replication's
 * model.ts imports. It names what model.ts may export (models, derived datasets, target
 * functions, custom trainers, charts) and re-exports the helpers they need (seeded
 * initializers and shuffles, result types). `seededGlorot(seed)` gives Keras' default kernels;
 * `seededInitializers(seed, keras)` gives Keras' other variance-scaling ones by name
 * (`init("he_normal")`, `init("lecun_normal")`, …) as that Keras version (or `"tfjs"`) draws them.
 *
 * A replication folder holds spec.json (the claims and protocols, as data), model.ts and a
 * README. The common protocol shapes are declared in spec.json; model.ts holds only what is
 * the replication's own. A minimal model.ts:
 *
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { type ModelBuilder, seededGlorot } from "claimcheck/plugin";
 *
 * export const models: Record<string, ModelBuilder> = {
 *   "dense64": (seed) => {
 *     const init = seededGlorot(seed);
 *     return tf.sequential({
 *       layers: [
 *         tf.layers.flatten({ inputShape: [28, 28] }),
 *         tf.layers.dense({ units: 64, activation: "relu", kernelInitializer: init() }),
 *         tf.layers.dense({ units: 10, activation: "softmax", kernelInitializer: init() }),
 *       ],
 *     });
 *   },
 * };
 *
 * const model = models["dense64"](1, { seed: 1, stage: () => { throw new Error("no stages"); } });
 * if (model.countParams() !== 50890) throw new Error("unexpected size");
 * model.dispose();
 * ```
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { TopLevelSpec } from "vega-lite";
import type { z } from "zod";
import type { ImageDataset, TableDataset } from "./data/datasets.ts";
import type { Rng } from "./util/random.ts";
import type { Epoch, Results } from "./results/result.ts";
import type { CustomProtocol, LayersProtocol } from "./spec/spec.ts";

export {
  KERNEL_INITIALIZERS,
  type KernelInitializer,
  type KernelInitializerName,
  seededGlorot,
  seededInitializers,
} from "./util/seeded_initializers.ts";
export { deriveSeed, mulberry32, type Rng, shuffledIndices } from "./util/random.ts";
export { epochRecord, epochValue, RESULTS_SCHEMA } from "./results/result.ts";
export { grayBmpDataUri, pixelsFromBase64, pixelsToBase64 } from "./util/digit_image.ts";
export { escapeHtml } from "./util/escape_html.ts";
export type {
  ClaimResult,
  DatasetProvenance,
  Epoch,
  EventKey,
  LearningRateRecord,
  Results,
  Run,
  RunEvent,
  Summary,
  TestPredictions,
  Verdict,
} from "./results/result.ts";
export type { ImageDataset, ImageSet, LoadedFile, TableDataset } from "./data/datasets.ts";
export type {
  Augmentation,
  Better,
  Compare,
  CustomProtocol,
  DerivedMetric,
  EarlyStopping,
  LayersProtocol,
  LossName,
  Metric,
  Optimizer,
  Output,
  OutputMetric,
  ProtocolBase,
  Scaling,
  TopKMetric,
} from "./spec/spec.ts";
export type {
  ExponentialDecay,
  LearningRateSchedule,
  PiecewiseConstantDecay,
  ReduceLROnPlateau,
} from "./spec/schedules.ts";
export { OPTIMIZER_NAMES, type OptimizerName, type OptimizerRun } from "./spec/optimizers.ts";
export { FILL_MODES, type FillMode } from "./spec/augmentation.ts";
export type { PixelScalingRun, ScalingRun } from "./spec/scaling.ts";

/** What a model builder gets besides its seed. */
export interface BuildContext {
  /** The run's seed (the same one the builder is called with). */
  seed: number;
  /**
   * The trained model of an earlier protocol this one `uses` (same seed), e.g. to take its
   * encoder and freeze it. Owned by the harness: do not dispose it.
   */
  stage(protocol: string): tf.LayersModel;
}

/**
 * Builds an uncompiled model whose initializers are all seeded from `seed`. Random layers
 * (Dropout, GaussianNoise, …) need no seed: the harness seeds what tfjs draws at each training
 * step; a Dropout given a `seed` would drop the same units at every step.
 */
export type ModelBuilder = (seed: number, ctx: BuildContext) => tf.LayersModel;

/** One split of a derived dataset: the model's inputs and what target functions read. */
export interface DataSplit {
  /** One tensor per model input, first axis = samples. The harness disposes them. */
  inputs: tf.Tensor[];
  /** Class labels per sample ([n] int32) for `targets: "labels"`, or data a target function reads. */
  labels: tf.Tensor;
}

/** A dataset a replication builds from a loaded one (pairs of images, codes of a frozen encoder). */
export interface DerivedData {
  /** The training split. */
  train: DataSplit;
  /** The test split. */
  test: DataSplit;
}

/** What a derived-dataset builder gets. */
export interface DeriveContext extends BuildContext {
  /** The protocol the dataset is built for. */
  protocol: LayersProtocol;
  /** The protocol's `inputs.params`, parsed by the dataset's schema in `params` if it has one. */
  params: Record<string, unknown>;
  /** The protocol's dataset, as loaded. */
  data: ImageDataset;
  /**
   * A split's images as a [n, rows, cols] tensor scaled as the protocol's `scaling` says (caller
   * disposes).
   */
  images(split: "train" | "test"): tf.Tensor3D;
  /** A generator seeded from the run's seed and `label`, for random draws (e.g. pairs). */
  rng(label: string): Rng;
}

/** Builds a derived dataset; called once per seed and protocol inputs, then cached for the seed. */
export type DatasetBuilder = (ctx: DeriveContext) => DerivedData | Promise<DerivedData>;

/**
 * Computes a split's targets from its labels, one tensor per model output in the spec's
 * `outputs` order (e.g. a pair of digits → sum units, sum tens, …).
 */
export type TargetFunction = (split: DataSplit) => tf.Tensor[];

/** What one epoch-loop run is made of. */
export interface EpochLoopHooks {
  /** Epochs to train (the loop stops earlier on divergence or `stop`). */
  epochs: number;
  /** Batches per epoch. */
  steps: number;
  /** Trains batch `s` (0-based) of `epoch` (1-based); may return the batch loss for progress. */
  step(epoch: number, s: number): tf.Scalar | void;
  /** After an epoch's last batch: its training metrics, by name (e.g. train_loss). */
  endEpoch(epoch: number): Promise<Record<string, number>>;
  /** The evaluation after each epoch: metrics by name (e.g. val_loss, test_acc). */
  evaluate(epoch: number): Promise<Record<string, number>>;
  /** Metrics computed from the epoch's others (the spec's derived metrics). */
  derive?(metrics: Record<string, number>): Record<string, number>;
  /** Asked after each epoch's record: true stops training (early stopping). */
  stop?(epoch: number, metrics: Record<string, number>): boolean;
}

/** Runs an epoch loop, recording into the run's recorder. */
export type EpochLoop = (hooks: EpochLoopHooks) => Promise<void>;

/** What a custom trainer gets: its protocol, seed, training length, data and the harness's loop. */
export interface CustomRunContext {
  /** The custom protocol being run. */
  protocol: CustomProtocol;
  /** The run's seed. */
  seed: number;
  /** The protocol's epochs (or iterations), or the --epochs override. */
  epochs: number;
  /** The protocol's dataset, as loaded. */
  data: ImageDataset | TableDataset;
  /**
   * Reports an evaluation: the harness records it as one of the run's epochs, logs its events,
   * shows progress, and notes a non-finite metric as divergence.
   */
  checkpoint(record: Epoch): void;
  /**
   * The harness's epoch loop (events, progress with ETA, timing, divergence, early stop) for a
   * trainer that works in epochs of batches; `order` gives the seeded batch order.
   */
  loop: EpochLoop;
  /** The seeded order of `n` samples in `epoch` (the same Fisher–Yates the layers path uses). */
  order(n: number, epoch: number): Int32Array;
}

/** What a custom trainer returns besides its checkpoints. */
export interface CustomRunOutput {
  /** The model's parameter count, recorded as the run's `params`. */
  params: number;
  /** Training samples processed per epoch (iteration), for samples/s. */
  samplesPerEpoch: number;
  /** Data to keep for the replication's charts, recorded as the run's `artifacts`. */
  artifacts?: Record<string, unknown>;
}

/** A replication's own training algorithm, for protocols of kind "custom". */
export type CustomTrainer = (ctx: CustomRunContext) => Promise<CustomRunOutput>;

/** A chart of a replication's own, shown on its report page below the standard ones. */
export interface ReplicationChart {
  /** The chart's heading on the report page. */
  title: string;
  /** One or two sentences under the chart saying what it shows. */
  caption: string;
  /** A Vega-Lite spec (rendered to SVG), or ready-made inline HTML (e.g. a grid of images). */
  spec?: TopLevelSpec;
  /** Ready-made inline HTML, used instead of `spec` when set. */
  html?: string;
}

/**
 * Artifacts a layers run keeps for a replication's charts: called with the final model and
 * the test split after training.
 */
export type ArtifactRecorder = (
  model: tf.LayersModel,
  test: DataSplit,
  ctx: {
    protocol: LayersProtocol;
    seed: number;
    /** The protocol's dataset, as loaded (e.g. to keep a test image's pixels). */
    data: ImageDataset | TableDataset;
    /** The trained models of the stages this protocol uses, as for the model builder. */
    stage(protocol: string): tf.LayersModel;
  },
) => Record<string, unknown> | Promise<Record<string, unknown>>;

/**
 * What a replication's model.ts exports, each table keyed by the names spec.json uses. Its
 * members are typed with TensorFlow.js types, which mod.ts's docs do not carry: read this
 * contract in harness/plugin.ts.
 */
export interface ReplicationModule {
  /** Model builders, by the names protocols give as `model`. */
  models?: Record<string, ModelBuilder>;
  /** Derived-dataset builders, by the names protocols give as `inputs.derived`. */
  datasets?: Record<string, DatasetBuilder>;
  /** Target functions, by the names protocols give as `targets.function`. */
  targets?: Record<string, TargetFunction>;
  /** Custom trainers, by the names custom protocols give as `trainer`. */
  trainers?: Record<string, CustomTrainer>;
  /**
   * Schemas (zod) of the `params` a custom trainer or a derived dataset takes, by the trainer's
   * or dataset's name: the spec's params are checked when it loads, before anything trains,
   * and handed over parsed (defaults filled in). Params given without a schema are an error.
   */
  params?: Record<string, z.ZodType>;
  /** Per protocol id: artifacts to keep from its final model (e.g. reconstructions). */
  artifacts?: Record<string, ArtifactRecorder>;
  /** Charts this replication's issue asks for, built from its results (runs' artifacts). */
  charts?: (results: Results) => ReplicationChart[];
}
