/**
 * Trains one protocol with one seed: the unit of work that --jobs spreads over workers and
 * --shard over machines.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  type DataOptions,
  type ImageDataset,
  loadDigitsDataset,
  loadImageDataset,
  loadManifest,
  type TableDataset,
} from "./datasets.ts";
import { deriveSeed, mulberry32, shuffledIndices } from "./random.ts";
import type { Replication } from "./replications.ts";
import type { Epoch, Run, RunEvent } from "./result.ts";
import type { CustomProtocol, LayersProtocol, Optimizer, Protocol } from "./spec.ts";
import { accuracyFor, type LossName, makeTrainStep } from "./step.ts";

/** A progress report, sent every few steps of training. */
export interface Progress {
  replication: string;
  protocol: string;
  seed: number;
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss: number;
  /** Seconds left in this run (protocol × seed) at the current pace. */
  etaSeconds: number;
  /** Set once the epoch's test-set evaluation is done. */
  testAcc?: number;
}

/** One cell of the (protocol × seed) grid. */
export interface RunTask {
  protocol: string;
  seed: number;
}

/** What every run of a rerun shares. */
export interface TrainSettings {
  /** Overrides every protocol's epoch count. */
  epochs?: number;
  /** Trains on the first N training images only. */
  trainLimit?: number;
  data?: DataOptions;
}

interface _Tensors {
  x: tf.Tensor;
  y: tf.Tensor;
  xTest: tf.Tensor;
  yTest: tf.Tensor;
}

function _optimizer(o: Optimizer): tf.Optimizer {
  if (o.name === "adam") return tf.train.adam(o.learningRate);
  return o.momentum > 0
    ? tf.train.momentum(o.learningRate, o.momentum)
    : tf.train.sgd(o.learningRate);
}

function _tensors(data: ImageDataset, p: LayersProtocol, trainLimit?: number): _Tensors {
  // The loader scales to [0,1]; pixelScale is stated against raw 0..255 values.
  const factor = 255 * p.pixelScale;
  const set = (s: ImageDataset["train"], limit = s.count) =>
    tf.tidy(() => {
      const n = Math.min(limit, s.count);
      const x = tf.tensor3d(s.images.subarray(0, n * s.rows * s.cols), [n, s.rows, s.cols]);
      const labels = tf.tensor1d(s.labels.subarray(0, n), "int32");
      return [factor === 1 ? x : x.mul(factor), tf.oneHot(labels, 10).toFloat()];
    });
  const [x, y] = set(data.train, trainLimit);
  const [xTest, yTest] = set(data.test);
  return { x, y, xTest, yTest };
}

/** Mean loss and accuracy of `model` over a whole set, in chunks to bound memory. */
async function _evaluate(
  model: tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
  loss: LossName,
): Promise<{ loss: number; acc: number }> {
  const n = x.shape[0], chunk = 1000;
  const sums = tf.tidy(() => {
    let l = tf.scalar(0), a = tf.scalar(0);
    for (let i = 0; i < n; i += chunk) {
      const b = Math.min(chunk, n - i);
      const xb = x.slice(i, b), yb = y.slice(i, b);
      const pred = model.apply(xb) as tf.Tensor;
      l = l.add(tf.metrics[loss](yb, pred).sum());
      a = a.add(accuracyFor(loss)(yb, pred).sum());
    }
    return tf.stack([l, a]);
  });
  const [l, a] = await sums.data();
  sums.dispose();
  return { loss: l / n, acc: a / n };
}

/** Trains one protocol with one seed and evaluates on the test set after every epoch. */
export async function trainRun(
  rep: Replication,
  p: LayersProtocol,
  seed: number,
  t: _Tensors,
  epochs: number,
  onProgress?: (p: Progress) => void,
): Promise<Run> {
  const build = rep.module.models![p.model];
  const n = t.x.shape[0];
  const steps = Math.ceil(n / p.batchSize);

  const events: RunEvent[] = [];
  const log = _logger(events);

  // Warm-up on a throwaway model so that kernel and shader set-up is timed apart from training.
  log("init_start");
  const w0 = performance.now();
  const warm = build(deriveSeed(seed, "warmup"));
  const warmOptimizer = _optimizer(p.optimizer);
  const warmStep = makeTrainStep(warm, warmOptimizer, p.loss);
  const wx = t.x.slice(0, p.batchSize), wy = t.y.slice(0, p.batchSize);
  for (let i = 0; i < 2; i++) warmStep(wx, wy).dispose();
  await warmStep.drain();
  await _evaluate(warm, wx, wy, p.loss);
  tf.dispose([wx, wy]);
  warmStep.dispose();
  warmOptimizer.dispose();
  warm.dispose();
  const warmupSeconds = (performance.now() - w0) / 1000;
  log("init_stop");

  const model = build(seed);
  const optimizer = _optimizer(p.optimizer);
  const step = makeTrainStep(model, optimizer, p.loss);
  const records: Epoch[] = [];
  let epoch = 0;
  const progress = (step: number, loss: number, etaSeconds: number): Progress => ({
    replication: rep.name,
    protocol: p.id,
    seed,
    epoch,
    epochs,
    step,
    steps,
    loss,
    etaSeconds,
  });
  const every = Math.max(1, Math.floor(steps / 20));
  let trainSeconds = 0;
  let diverged = false;
  log("run_start");
  while (epoch < epochs && !diverged) {
    epoch++;
    log("epoch_start", { epoch });
    // Our seeded order, batch by batch: what fit({shuffle: true}) does, without Math.random.
    const order = tf.tensor1d(
      shuffledIndices(n, mulberry32(deriveSeed(seed, "shuffle", epoch))),
      "int32",
    );
    const start = performance.now();
    for (let s = 0; s < steps; s++) {
      const b = Math.min(p.batchSize, n - s * p.batchSize);
      const cost = tf.tidy(() => {
        const idx = order.slice(s * p.batchSize, b);
        return step(tf.gather(t.x, idx), tf.gather(t.y, idx));
      });
      if (onProgress && (s + 1) % every === 0 && s + 1 < steps) {
        const loss = (await cost.data())[0];
        const elapsed = trainSeconds + (performance.now() - start) / 1000;
        const done = (epoch - 1) * steps + s + 1;
        onProgress(progress(s + 1, loss, (elapsed / done) * (epochs * steps - done)));
      }
      cost.dispose();
    }
    const train = await step.drain();
    const seconds = (performance.now() - start) / 1000;
    log("epoch_stop", { epoch, value: train.loss });
    trainSeconds += seconds;
    order.dispose();
    const e0 = performance.now();
    const test = await _evaluate(model, t.xTest, t.yTest, p.loss);
    log("eval_accuracy", { epoch, value: test.acc });
    records.push({
      epoch,
      trainLoss: train.loss,
      trainAcc: train.acc,
      testLoss: test.loss,
      testAcc: test.acc,
      seconds,
      evalSeconds: (performance.now() - e0) / 1000,
    });
    diverged = !Number.isFinite(train.loss) || !Number.isFinite(test.loss);
    const eta = (trainSeconds / epoch) * (epochs - epoch);
    onProgress?.({ ...progress(steps, train.loss, eta), testAcc: test.acc });
  }
  log("run_stop", { value: diverged ? "diverged" : "success" });
  const params = model.countParams();
  step.dispose();
  optimizer.dispose();
  model.dispose();
  return {
    protocol: p.id,
    seed,
    params,
    epochsPlanned: epochs,
    epochs: records,
    warmupSeconds,
    trainSeconds,
    samplesPerSecond: (records.length * n) / trainSeconds,
    diverged,
    events,
  };
}

function _logger(events: RunEvent[]) {
  return (key: RunEvent["key"], extra: Omit<RunEvent, "time" | "key"> = {}) =>
    events.push({ time: Date.now(), key, ...extra });
}

/** Runs a replication's own trainer, timing it and logging its checkpoints like trainRun. */
async function _customRun(
  rep: Replication,
  p: CustomProtocol,
  seed: number,
  data: ImageDataset | TableDataset,
  epochs: number,
  onProgress?: (p: Progress) => void,
): Promise<Run> {
  const events: RunEvent[] = [];
  const log = _logger(events);
  const records: Epoch[] = [];
  const start = performance.now();
  log("run_start");
  const out = await rep.module.trainers![p.trainer]({
    protocol: p,
    seed,
    epochs,
    data,
    checkpoint(record) {
      records.push(record);
      log("eval_accuracy", { epoch: record.epoch, value: record.testAcc });
      const elapsed = (performance.now() - start) / 1000;
      onProgress?.({
        replication: rep.name,
        protocol: p.id,
        seed,
        epoch: record.epoch,
        epochs,
        step: 1,
        steps: 1,
        loss: record.trainLoss,
        etaSeconds: (elapsed / record.epoch) * (epochs - record.epoch),
        testAcc: record.testAcc,
      });
    },
  });
  const diverged = out.diverged ?? false;
  log("run_stop", { value: diverged ? "diverged" : "success" });
  const trainSeconds = records.reduce((a, r) => a + r.seconds, 0);
  const trained = records.at(-1)?.epoch ?? 0;
  return {
    protocol: p.id,
    seed,
    params: out.params,
    epochsPlanned: epochs,
    epochs: records,
    warmupSeconds: 0,
    trainSeconds,
    samplesPerSecond: trainSeconds > 0 ? (trained * out.samplesPerEpoch) / trainSeconds : 0,
    diverged,
    events,
    ...(out.artifacts ? { artifacts: out.artifacts } : {}),
  };
}

/**
 * Runs tasks of one replication in this process, loading each dataset once and keeping its
 * tensors between runs.
 */
export class Trainer {
  #datasets = new Map<string, ImageDataset | TableDataset>();
  #tensors = new Map<string, _Tensors>();
  /** Seconds spent loading data so far. */
  setupSeconds = 0;

  constructor(readonly rep: Replication, readonly settings: TrainSettings) {}

  /** The loaded dataset of a protocol (loaded on first use). */
  async dataset(p: Protocol): Promise<ImageDataset | TableDataset> {
    let data = this.#datasets.get(p.dataset);
    if (!data) {
      const t0 = performance.now();
      const manifest = await loadManifest(p.dataset);
      // A manifest with a "table" file is a CSV table (digits); the others are IDX image sets.
      data = manifest.files.some((f) => f.role === "table")
        ? await loadDigitsDataset(manifest, this.settings.data)
        : await loadImageDataset(manifest, this.settings.data);
      this.setupSeconds += (performance.now() - t0) / 1000;
      this.#datasets.set(p.dataset, data);
    }
    return data;
  }

  /** Trains one task. */
  async run(task: RunTask, onProgress?: (p: Progress) => void): Promise<Run> {
    const p = this.rep.spec.protocols.find((q) => q.id === task.protocol);
    if (!p) throw new Error(`${this.rep.name}: unknown protocol "${task.protocol}"`);
    const epochs = this.settings.epochs ?? p.epochs;
    if (p.kind === "custom") {
      return _customRun(this.rep, p, task.seed, await this.dataset(p), epochs, onProgress);
    }
    const key = `${p.dataset}|${p.pixelScale}`;
    let t = this.#tensors.get(key);
    if (!t) {
      t = _tensors(await this.dataset(p) as ImageDataset, p, this.settings.trainLimit);
      this.#tensors.set(key, t);
    }
    return trainRun(this.rep, p, task.seed, t, epochs, onProgress);
  }

  /** Frees the tensors. */
  dispose(): void {
    for (const t of this.#tensors.values()) tf.dispose(Object.values(t));
    this.#tensors.clear();
  }
}
