/**
 * Trains one layers protocol with one seed on prepared tensors: warm-up, seeded batches,
 * per-epoch evaluation, early stopping, and the artifacts the spec asks to keep.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Run, TestPredictions } from "../results/result.ts";
import { deriveMetrics, outputsOf, protocolMetrics, splitsOf } from "../spec/metrics.ts";
import type { LayersProtocol } from "../spec/spec.ts";
import { optimizerRun } from "../spec/optimizers.ts";
import { RunRecorder } from "./loop.ts";
import { pixelsToBase64 } from "../util/digit_image.ts";
import { deriveSeed, mulberry32, shuffledIndices } from "../util/random.ts";
import { type ClassCounts, evaluate, makeTrainStep, predict } from "./step.ts";
import { makeOptimizer } from "./keras_optimizers.ts";
import { LearningRates } from "./learning_rates.ts";
import { augmentBatch, type AugmentedBatch, type AugmentedSample } from "../data/augment.ts";
import { augmentationRule } from "../spec/augmentation.ts";

/** Inputs and targets of one split, one tensor per model input and per output. */
export interface SplitTensors {
  xs: tf.Tensor[];
  ys: tf.Tensor[];
}

/**
 * The tensors of a run: train, optional validation (Keras' last fraction or the first images),
 * test.
 */
export interface RunTensors {
  train: SplitTensors;
  val?: SplitTensors;
  test: SplitTensors;
  /**
   * Set where the inputs are the dataset's images (one input, an image per sample): their size,
   * and a scaled input value of a pixel (its index in the image) back as a pixel in [0, 1], to
   * draw the augmented images.
   */
  image?: { rows: number; cols: number; unscale(v: number, pixel: number): number };
}

/** How many augmented training images a run keeps for its report page. */
const _AUGMENTED_SHOWN = 8;

/**
 * The headline metric of a layers protocol: its first test metric where higher is better (an
 * accuracy), else its test loss.
 */
export function headlineOf(p: LayersProtocol): (m: Record<string, number>) => {
  metric: string;
  value: number;
} {
  const declared = protocolMetrics(p, {});
  const metric = [...declared].find(([k, b]) => k.startsWith("test_") && b === "higher")?.[0] ??
    "test_loss";
  return (m) => ({ metric, value: m[metric] });
}

/** What a finished layers run hands back: its record and its trained model (caller disposes). */
export interface LayersRunOutput {
  run: Run;
  model: tf.LayersModel;
}

/**
 * Trains `build(seed)` under protocol `p`: a throwaway warm-up model first (kernel set-up timed
 * apart), then `epochs` epochs in a seeded order, each followed by evaluation on every split.
 */
export async function layersRun(
  p: LayersProtocol,
  seed: number,
  build: (seed: number) => tf.LayersModel,
  t: RunTensors,
  epochs: number,
  recorder: RunRecorder,
): Promise<LayersRunOutput> {
  const outputs = outputsOf(p);
  const n = t.train.xs[0].shape[0];
  // A batch larger than the training set is clipped to it, as Keras' fit does: one batch of
  // every sample per epoch (recorded in the run's notes).
  const batchSize = Math.min(p.batchSize, n);
  // The optimizer exactly as it runs, and where that departs from the spec (tfjs' formula, an
  // ignored decay).
  const { run: optimizerAsRun, notes: optimizerNotes } = optimizerRun(p.optimizer, p.keras);
  const notes = [
    ...(batchSize < p.batchSize
      ? [
        `batchSize ${p.batchSize} is more than the ${n} training samples: each epoch trained ` +
        `one batch of all ${n}, as Keras clips it`,
      ]
      : []),
    ...optimizerNotes,
  ];
  const steps = Math.ceil(n / batchSize);

  recorder.log("init_start");
  const w0 = performance.now();
  recorder.phase("warmup");
  const warm = build(deriveSeed(seed, "warmup"));
  const warmOptimizer = makeOptimizer(p.optimizer, p.keras);
  const warmStep = makeTrainStep(warm, warmOptimizer, outputs);
  const wx = t.train.xs.map((x) => x.slice(0, batchSize));
  const wy = t.train.ys.map((y) => y.slice(0, batchSize));
  for (let i = 0; i < 2; i++) warmStep(wx, wy).dispose();
  await warmStep.drain();
  await evaluate(warm, wx, wy, outputs);
  tf.dispose([...wx, ...wy]);
  warmStep.dispose();
  warmOptimizer.dispose();
  warm.dispose();
  const warmupSeconds = (performance.now() - w0) / 1000;
  recorder.log("init_stop");

  recorder.phase("build");
  const model = build(seed);
  const optimizer = makeOptimizer(p.optimizer, p.keras);
  const step = makeTrainStep(model, optimizer, outputs);
  const stopper = p.earlyStopping && new _EarlyStopper(p, model);
  const learningRates = new LearningRates(p, optimizer);
  const augment = p.augmentation && await _augmenter(p, seed, t);
  let augmented: AugmentedSample | undefined;
  let order: tf.Tensor1D | undefined;
  let orderIndices: Int32Array | undefined;
  // The classes each classifier output predicted on the test set, per epoch: the final model's
  // are recorded (a model predicting one class for every test sample is degenerate).
  const predicted = new Map<number, ClassCounts[]>();
  recorder.start();
  await recorder.loop({
    epochs,
    steps,
    step(epoch, s) {
      // Our seeded order, batch by batch: what fit({shuffle: true}) does, without Math.random.
      if (s === 0) {
        order?.dispose();
        orderIndices = shuffledIndices(n, mulberry32(deriveSeed(seed, "shuffle", epoch)));
        order = tf.tensor1d(orderIndices, "int32");
        learningRates.beginEpoch(epoch);
      }
      learningRates.beforeStep(epoch);
      const b = Math.min(batchSize, n - s * batchSize);
      return tf.tidy(() => {
        const idx = order!.slice(s * batchSize, b);
        let xs: tf.Tensor[];
        if (augment) {
          const indices = orderIndices!.subarray(s * batchSize, s * batchSize + b);
          const batch = augment.batch(indices, epoch, s);
          if (epoch === 1 && s === 0) augmented = augment.shown(indices, batch);
          xs = [tf.tensor(batch.pixels, [b, ...t.train.xs[0].shape.slice(1)])];
        } else xs = t.train.xs.map((x) => tf.gather(x, idx));
        return step(xs, t.train.ys.map((y) => tf.gather(y, idx)));
      });
    },
    async endEpoch() {
      return _prefixed("train", await step.drain());
    },
    async evaluate(epoch) {
      const out: Record<string, number> = {};
      for (const split of splitsOf(p).filter((s) => s !== "train")) {
        const data = split === "val" ? t.val! : t.test;
        const evaluation = await evaluate(model, data.xs, data.ys, outputs);
        if (split === "test") predicted.set(epoch, evaluation.predicted);
        Object.assign(out, _prefixed(split, evaluation.means));
      }
      return out;
    },
    derive: (metrics) => deriveMetrics(p, metrics),
    stop: (epoch, metrics) => {
      learningRates.endEpoch(metrics);
      return stopper ? stopper.update(epoch, metrics) : false;
    },
  });
  order?.dispose();
  const earlyStop = stopper?.finish() ?? null;
  recorder.stop();
  step.dispose();
  optimizer.dispose();
  const records = recorder.records;
  const trained = records.length;
  const finalEpoch = earlyStop?.restored ? earlyStop.bestEpoch : records.at(-1)?.epoch ?? null;
  // A diverged model's predictions are NaN, whose argmax means nothing.
  const testPredictions = recorder.diverged
    ? []
    : (predicted.get(finalEpoch ?? 0) ?? []).map((c) => _spread(outputs[c.output].name, c.counts));
  return {
    model,
    run: {
      protocol: p.id,
      seed,
      params: model.countParams(),
      epochsPlanned: epochs,
      epochs: records,
      finalEpoch,
      earlyStop,
      warmupSeconds,
      trainSeconds: recorder.trainSeconds,
      samplesPerSecond: recorder.trainSeconds > 0 ? (trained * n) / recorder.trainSeconds : 0,
      diverged: recorder.diverged,
      events: recorder.events,
      ...(testPredictions.length ? { testPredictions } : {}),
      ...(notes.length ? { notes } : {}),
      optimizer: optimizerAsRun,
      learningRates: learningRates.records,
      ...(augmented ? { artifacts: { augmented } } : {}),
    },
  };
}

/** A run's augmentation: its training batches, and the first images of one for the report. */
interface _Augmenter {
  /** The training images at `indices`, each transformed as Keras would (see augmentBatch). */
  batch(indices: Int32Array, epoch: number, step: number): AugmentedBatch;
  /** The `augmented` artifact: a batch's first images before and after, with their transforms. */
  shown(indices: Int32Array, batch: AugmentedBatch): AugmentedSample;
}

/**
 * Keras ImageDataGenerator for protocol `p`: each training image of a batch gets its own
 * transform, drawn from the stream of (seed, epoch, step) so that a step's images depend on
 * nothing else, applied to a CPU copy of the (scaled) training images read once here.
 */
async function _augmenter(p: LayersProtocol, seed: number, t: RunTensors): Promise<_Augmenter> {
  const { rows, cols, unscale } = t.image!;
  const source = await t.train.xs[0].data() as Float32Array;
  const rule = augmentationRule(p.keras);
  const size = rows * cols;
  // An augmented image's pixel is unscaled with its own position's statistics (per-pixel
  // standardisation): the input the model saw, not the source pixel it was moved from.
  const pixels = (from: Float32Array) =>
    pixelsToBase64(Array.from(from, (v, pixel) => unscale(v, pixel)));
  return {
    batch: (indices, epoch, step) =>
      augmentBatch(
        p.augmentation!,
        rule,
        source,
        rows,
        cols,
        indices,
        mulberry32(deriveSeed(seed, "augment", epoch, step)),
      ),
    shown: (indices, batch) => ({
      keras: p.keras ?? "3",
      rule: rule.versions,
      fillMode: p.augmentation!.fillMode,
      shown: batch.transforms.slice(0, _AUGMENTED_SHOWN).map((transform, i) => ({
        index: indices[i],
        rows,
        cols,
        transform,
        original: pixels(source.subarray(indices[i] * size, (indices[i] + 1) * size)),
        augmented: pixels(batch.pixels.subarray(i * size, (i + 1) * size)),
      })),
    }),
  };
}

/** How one output's predictions spread over its classes (see the run's `testPredictions`). */
function _spread(output: string, counts: number[]): TestPredictions {
  const total = counts.reduce((a, c) => a + c, 0);
  const top = counts.indexOf(Math.max(...counts));
  return {
    output,
    classes: counts.length,
    distinct: counts.filter((c) => c > 0).length,
    top,
    topShare: total ? counts[top] / total : 0,
  };
}

function _prefixed(split: string, means: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(means).map(([k, v]) => [`${split}_${k}`, v]));
}

/** Keras' EarlyStopping: patience on a monitored metric, optional restore of the best weights. */
class _EarlyStopper {
  #best = NaN;
  #bestEpoch = 0;
  #wait = 0;
  #stoppedAt = 0;
  #weights: tf.Tensor[] | null = null;
  readonly #lower: boolean;

  constructor(readonly p: LayersProtocol, readonly model: tf.LayersModel) {
    // The monitored metric's declared side (Keras' mode "auto" minimises losses, as here).
    this.#lower = protocolMetrics(p, {}).get(p.earlyStopping!.monitor) === "lower";
  }

  update(epoch: number, metrics: Record<string, number>): boolean {
    const { monitor, minDelta, patience, restoreBestWeights } = this.p.earlyStopping!;
    const v = metrics[monitor];
    const better = Number.isNaN(this.#best) ||
      (this.#lower ? v < this.#best - minDelta : v > this.#best + minDelta);
    if (better) {
      this.#best = v;
      this.#bestEpoch = epoch;
      this.#wait = 0;
      if (restoreBestWeights) {
        tf.dispose(this.#weights ?? []);
        this.#weights = this.model.getWeights().map((w) => tf.keep(w.clone()));
      }
      return false;
    }
    if (++this.#wait > patience - 1 && epoch > 1) {
      this.#stoppedAt = epoch;
      return true;
    }
    return false;
  }

  /** Restores the best weights on an early stop (as Keras does) and says what happened. */
  finish(): Run["earlyStop"] {
    const restore = this.#stoppedAt > 0 && this.#weights !== null;
    if (restore) this.model.setWeights(this.#weights!);
    tf.dispose(this.#weights ?? []);
    return this.#stoppedAt
      ? {
        epoch: this.#stoppedAt,
        bestEpoch: this.#bestEpoch,
        monitor: this.p.earlyStopping!.monitor,
        restored: restore,
      }
      : null;
  }
}

/**
 * Confusion matrix and misclassified test images of a classifier's final model: the
 * `record` artifacts of a spec. Pixels are kept as 0..255 bytes, base64.
 */
export async function classifierArtifacts(
  model: tf.LayersModel,
  test: SplitTensors,
  images: { data: Float32Array; rows: number; cols: number; labels: Uint8Array },
  classes: number,
  record: LayersProtocol["record"],
): Promise<Record<string, unknown>> {
  const n = test.xs[0].shape[0];
  const predicted = new Int32Array(n);
  const confidence = new Float32Array(n);
  for (let i = 0; i < n; i += 1000) {
    const b = Math.min(1000, n - i);
    const [arg, max] = tf.tidy(() => {
      const pred = predict(model, test.xs.map((x) => x.slice(i, b)))[0];
      return [pred.argMax(-1), pred.max(-1)];
    });
    predicted.set(await arg.data() as Int32Array, i);
    confidence.set(await max.data() as Float32Array, i);
    tf.dispose([arg, max]);
  }
  const out: Record<string, unknown> = {};
  if (record.includes("confusion")) {
    const matrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
    for (let i = 0; i < n; i++) matrix[images.labels[i]][predicted[i]]++;
    out.confusion = { classes, matrix };
  }
  if (record.includes("misclassified")) {
    const size = images.rows * images.cols;
    const wrong: unknown[] = [];
    let count = 0;
    for (let i = 0; i < n; i++) {
      if (predicted[i] === images.labels[i]) continue;
      count++;
      if (wrong.length >= 36) continue;
      wrong.push({
        index: i,
        label: images.labels[i],
        predicted: predicted[i],
        confidence: confidence[i],
        rows: images.rows,
        cols: images.cols,
        pixels: pixelsToBase64(images.data.subarray(i * size, (i + 1) * size)),
      });
    }
    out.misclassified = { count, shown: wrong };
  }
  return out;
}
