/**
 * Trains the runs of one replication in this process: loads each dataset once, prepares the
 * tensors a protocol declares (images in the model's shape, labels, the input itself, a derived
 * dataset, a target function), keeps the models later stages use, and runs custom trainers.
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
} from "../data/datasets.ts";
import type { BuildContext, DataSplit, DerivedData, ReplicationModule } from "../plugin.ts";
import type { DatasetProvenance, Run } from "../results/result.ts";
import { outputsOf } from "../spec/metrics.ts";
import type { CustomProtocol, LayersProtocol, Protocol, ReplicationSpec } from "../spec/spec.ts";
import { type Progress, type RunIdentity, RunRecorder } from "./loop.ts";
import { classifierArtifacts, headlineOf, layersRun, type RunTensors } from "./layers_run.ts";
import { deriveSeed, mulberry32, SeededMathRandom, shuffledIndices } from "../util/random.ts";
import { withPerturbations } from "../spec/perturbations.ts";
import { moduleEntry } from "../replications.ts";
import {
  type AppliedScaling,
  meanStd,
  pixelMeanStd,
  type PixelScalingRun,
  pixelScalingRun,
  type ScalingRun,
  standardizes,
  unscale,
} from "../spec/scaling.ts";

/** One cell of the (protocol × seed) grid. */
export interface RunTask {
  /** The protocol id. */
  protocol: string;
  /** The seed. */
  seed: number;
}

/** What every run of a rerun shares. */
export interface TrainSettings {
  /** Overrides every protocol's epoch count. */
  epochs?: number;
  /** Trains on the first N training images (or examples of a derived dataset) only. */
  trainLimit?: number;
  /** Tests on the first N test images (or examples of a derived dataset) only. */
  testLimit?: number;
  /**
   * Trains and tests every protocol on this dataset instead of its own (--dataset, a transfer
   * test); replicate checks first that its images and classes match the protocols' datasets.
   */
  dataset?: string;
  /**
   * Adds the standard perturbations of each stated protocol (`<id>.lr-x2` …, see
   * score/explain.ts) to the protocols it can run: `deno task explain` trains them.
   */
  perturbations?: boolean;
  /** Where dataset files are looked for and whether they may be downloaded. */
  data?: DataOptions;
}

/** The parts of a loaded replication a trainer needs. */
export interface TrainableReplication {
  name: string;
  spec: ReplicationSpec;
  module: ReplicationModule;
}

interface _Images {
  x: tf.Tensor3D;
  labels: tf.Tensor1D;
}

/**
 * A dataset's images as a protocol scales them, and where it standardised, the scaling as the
 * run records it and as it was applied (per-pixel statistics in full).
 */
interface _ImageSets {
  train: _Images;
  test: _Images;
  scaling?: { run: ScalingRun | PixelScalingRun; applied: AppliedScaling };
}

/**
 * Runs tasks of one replication, loading each dataset once and keeping its tensors between
 * runs, and the trained models of protocols that later protocols `use` until their seed is done.
 */
export class Trainer {
  #datasets = new Map<string, ImageDataset | TableDataset>();
  #images = new Map<string, _ImageSets>();
  #oneHot = new Map<string, { train: tf.Tensor; test: tf.Tensor }>();
  #stages = new Map<string, tf.LayersModel>();
  #derived = new Map<string, DerivedData>();
  /** Seconds spent loading data so far. */
  setupSeconds = 0;

  /** The replication, with the perturbations of its protocols where the settings ask. */
  readonly rep: TrainableReplication;

  /** @param rep the replication; @param settings what every run shares */
  constructor(rep: TrainableReplication, readonly settings: TrainSettings) {
    this.rep = settings.perturbations ? { ...rep, spec: withPerturbations(rep.spec) } : rep;
  }

  /** The name of the dataset a protocol trains on: its own, or the --dataset it transfers to. */
  datasetName(p: Protocol): string {
    return this.settings.dataset ?? p.dataset;
  }

  /** The loaded dataset of a protocol (loaded on first use). */
  async dataset(p: Protocol): Promise<ImageDataset | TableDataset> {
    const name = this.datasetName(p);
    let data = this.#datasets.get(name);
    if (!data) {
      const t0 = performance.now();
      const manifest = await loadManifest(name);
      // A manifest with a "table" file is a CSV table (digits); the others are IDX image sets.
      data = manifest.files.some((f) => f.role === "table")
        ? await loadDigitsDataset(manifest, this.settings.data)
        : await loadImageDataset(manifest, this.settings.data);
      this.setupSeconds += (performance.now() - t0) / 1000;
      this.#datasets.set(name, data);
    }
    return data;
  }

  /** Provenance of every dataset loaded so far. */
  provenance(): DatasetProvenance[] {
    return [...this.#datasets.values()].map((d) => ({
      name: d.name,
      files: d.files.map(({ file, sha256 }) => ({ file, sha256 })),
    }));
  }

  /**
   * Trains one task. Protocols it `uses` must have run with the same seed in this trainer.
   * While it trains, Math.random (where tfjs draws what it is not given a seed for) is seeded
   * from the task's seed and protocol, phase by phase (see SeededMathRandom).
   */
  async run(task: RunTask, onProgress?: (p: Progress) => void): Promise<Run> {
    const p = this.rep.spec.protocols.find((q) => q.id === task.protocol);
    if (!p) throw new Error(`${this.rep.name}: unknown protocol "${task.protocol}"`);
    const epochs = this.settings.epochs ?? p.epochs;
    const id = { replication: this.rep.name, protocol: p.id, seed: task.seed };
    const draws = new SeededMathRandom(task.seed, p.id);
    try {
      if (p.kind === "custom") return await this.#custom(p, id, epochs, draws, onProgress);
      return await this.#layers(p, id, epochs, draws, onProgress);
    } finally {
      draws.restore();
    }
  }

  /** Frees what was kept for `seed`'s later stages (models, derived datasets). */
  releaseSeed(seed: number): void {
    for (const [key, model] of this.#stages) {
      if (key.endsWith(`#${seed}`)) {
        model.dispose();
        this.#stages.delete(key);
      }
    }
    for (const [key, d] of this.#derived) {
      if (key.endsWith(`#${seed}`)) {
        _disposeDerived(d);
        this.#derived.delete(key);
      }
    }
  }

  /** Frees every tensor and model. */
  dispose(): void {
    for (const { train, test } of this.#images.values()) {
      tf.dispose([train.x, train.labels, test.x, test.labels]);
    }
    for (const { train, test } of this.#oneHot.values()) tf.dispose([train, test]);
    for (const d of this.#derived.values()) _disposeDerived(d);
    for (const m of this.#stages.values()) m.dispose();
    this.#images.clear();
    this.#oneHot.clear();
    this.#derived.clear();
    this.#stages.clear();
  }

  #buildContext(p: Protocol, seed: number): BuildContext {
    return {
      seed,
      stage: (id) => {
        if (!p.uses.includes(id)) {
          throw new Error(
            `${this.rep.name}/${p.id}: stage "${id}" is not in this protocol's "uses"`,
          );
        }
        const model = this.#stages.get(`${id}#${seed}`);
        if (!model) {
          throw new Error(`${this.rep.name}/${p.id}: stage "${id}" has not run for seed ${seed}`);
        }
        return model;
      },
    };
  }

  async #images_(p: LayersProtocol): Promise<_ImageSets> {
    // Statistics computed from the training images leave out a validationFirst holdout.
    const holdout = p.scaling.standardize && p.validationFirst;
    const key = `${this.datasetName(p)}|${JSON.stringify(p.scaling)}${
      holdout ? `|${holdout}` : ""
    }`;
    let t = this.#images.get(key);
    if (!t) {
      const data = await this.dataset(p);
      if (!("train" in data)) {
        throw new Error(`${this.rep.name}/${p.id}: ${this.datasetName(p)} has no images`);
      }
      // The loader scales to [0, 1]; the division is stated against raw 0..255 values.
      const factor = 255 / p.scaling.divide;
      const set = (s: ImageDataset["train"], limit = s.count): _Images =>
        tf.tidy(() => {
          const n = Math.min(limit, s.count);
          const x = tf.tensor3d(s.images.subarray(0, n * s.rows * s.cols), [n, s.rows, s.cols]);
          const labels = tf.tensor1d(s.labels.subarray(0, n), "int32");
          return { x: factor === 1 ? x : x.mul<tf.Tensor3D>(factor), labels };
        });
      t = {
        train: set(data.train, this.settings.trainLimit),
        test: set(data.test, this.settings.testLimit),
      };
      if (standardizes(p.scaling)) t = await this.#standardized(p, t);
      this.#images.set(key, t);
    }
    return t;
  }

  /**
   * `t` standardised as `p.scaling` says: (x − mean) / std in float32, with its `mean` and `std`
   * or those of the training images, computed in float64 over every pixel (`"dataset"`, as
   * `x_train.mean()` and `x_train.std()`) or per pixel (`"pixel"`, as `x_train.mean(axis=0)`).
   * The statistics leave out the first images a `validationFirst` holds out, not the last
   * fraction a `validationSplit` does (Keras splits the arrays fit is given, already scaled);
   * the test images take the training set's.
   */
  async #standardized(p: LayersProtocol, t: _ImageSets): Promise<_ImageSets> {
    const { divide, standardize } = p.scaling;
    const [n, rows, cols] = t.train.x.shape;
    const held = standardize ? this.#heldOut(p, n) : 0;
    const training = standardize && (await t.train.x.data()).subarray(held * rows * cols);
    let scaling: NonNullable<_ImageSets["scaling"]>;
    if (standardize === "pixel") {
      const { mean, std } = pixelMeanStd(training as Float32Array, rows * cols);
      const flat = std.filter((s) => !(s > 0)).length;
      if (flat) {
        throw new Error(
          `${this.rep.name}/${p.id}: scaling.standardize: "pixel": ${flat} of the ` +
            `${rows * cols} pixels have std 0 over the ${n - held} training images of ` +
            `${this.datasetName(p)} (the same value in every image), where numpy's ` +
            "(x − mean) / std gives NaN or ±inf",
        );
      }
      scaling = {
        run: await pixelScalingRun(divide, n - held, mean, std),
        applied: { divide, mean, std },
      };
    } else {
      const { mean, std } = training
        ? meanStd(training)
        : { mean: p.scaling.mean!, std: p.scaling.std! };
      if (!(std > 0)) {
        throw new Error(
          `${this.rep.name}/${p.id}: scaling.standardize: the training images of ` +
            `${this.datasetName(p)} have std ${std} (all pixels alike): there is nothing to scale`,
        );
      }
      scaling = {
        run: { divide, mean, std, ...(standardize ? { standardize } : {}) },
        applied: { divide, mean, std },
      };
    }
    // Per-pixel statistics as one float32 image, broadcast over the batch axis.
    const operand = (v: number | Float64Array) =>
      typeof v === "number" ? v : tf.tensor2d(Float32Array.from(v), [rows, cols]);
    const [mean, std] = [operand(scaling.applied.mean!), operand(scaling.applied.std!)];
    const scaled = ({ x, labels }: _Images): _Images => {
      const standardized = tf.tidy(() => x.sub<tf.Tensor3D>(mean).div<tf.Tensor3D>(std));
      x.dispose();
      return { x: standardized, labels };
    };
    const out = { train: scaled(t.train), test: scaled(t.test), scaling };
    tf.dispose([mean, std].filter((v) => typeof v !== "number"));
    return out;
  }

  /**
   * How many of its `n` training images `p` holds out first (`validationFirst`; 0 without),
   * checked to leave some to train on.
   */
  #heldOut(p: LayersProtocol, n: number): number {
    const first = p.validationFirst ?? 0;
    if (first >= n) {
      throw new Error(
        `${this.rep.name}/${p.id}: validationFirst: ${first} is not smaller than the ${n} ` +
          `training images of ${this.datasetName(p)}` +
          (this.settings.trainLimit !== undefined
            ? ` (--train-limit ${this.settings.trainLimit})`
            : "") +
          ": no image would be left to train on",
      );
    }
    return first;
  }

  async #derivedData(
    p: LayersProtocol,
    seed: number,
    draws: SeededMathRandom,
  ): Promise<DerivedData> {
    const inputs = p.inputs as Exclude<LayersProtocol["inputs"], "images">;
    const key =
      `${inputs.derived}|${JSON.stringify(inputs.params)}|${this.datasetName(p)}|${
        JSON.stringify(p.scaling)
      }|` +
      `${p.uses.join(",")}#${seed}`;
    let d = this.#derived.get(key);
    if (!d) {
      const builder = moduleEntry(this.rep.module, "datasets", inputs.derived);
      if (!builder) {
        throw new Error(`${this.rep.name}/${p.id}: no derived dataset "${inputs.derived}"`);
      }
      const data = await this.dataset(p);
      if (!("train" in data)) {
        throw new Error(`${this.rep.name}/${p.id}: ${this.datasetName(p)} has no images`);
      }
      const images = await this.#images_(p);
      draws.phase("derived", inputs.derived);
      d = _limited(
        await builder({
          ...this.#buildContext(p, seed),
          protocol: p,
          params: inputs.params,
          data,
          images: (split) => images[split].x.clone(),
          rng: (label) => mulberry32(deriveSeed(seed, "derived", inputs.derived, label)),
        }),
        this.settings,
      );
      this.#derived.set(key, d);
    }
    return d;
  }

  /** Inputs and targets of `p` for a model with the given input and output shapes. */
  async #tensors(
    p: LayersProtocol,
    seed: number,
    draws: SeededMathRandom,
    inputShapes: number[][],
    outputShapes: number[][],
  ): Promise<{ t: RunTensors; test: DataSplit; owned: tf.Tensor[] }> {
    const owned: tf.Tensor[] = [];
    const own = <T extends tf.Tensor>(x: T): T => {
      owned.push(x);
      return x;
    };
    let splits: { train: DataSplit; test: DataSplit };
    let image: RunTensors["image"];
    if (p.inputs === "images") {
      const images = await this.#images_(p);
      // The dataset's images in the shape the model declares ([28,28] or [28,28,1]).
      const shaped = (s: _Images): DataSplit => ({
        inputs: [own(s.x.reshape([s.x.shape[0], ...inputShapes[0]]))],
        labels: s.labels,
      });
      splits = { train: shaped(images.train), test: shaped(images.test) };
      const [, rows, cols] = images.train.x.shape;
      const scaling = images.scaling?.applied ?? p.scaling;
      image = { rows, cols, unscale: (v, pixel) => unscale(scaling, v, pixel) };
    } else {
      splits = await this.#derivedData(p, seed, draws);
    }
    const targets = async (split: "train" | "test"): Promise<tf.Tensor[]> => {
      const s = splits[split];
      if (p.targets === "input") {
        return [own(s.inputs[0].reshape([s.inputs[0].shape[0], ...outputShapes[0]]))];
      }
      if (p.targets === "labels") {
        // A sparse cross-entropy trains on the integer labels themselves (kept with the data).
        if (outputsOf(p)[0].loss === "sparseCategoricalCrossentropy") return [s.labels];
        if (p.inputs !== "images") {
          return [own(tf.tidy(() => tf.oneHot(s.labels as tf.Tensor1D, p.classes).toFloat()))];
        }
        const key = `${this.datasetName(p)}|${JSON.stringify(p.scaling)}|${p.classes}`;
        let hot = this.#oneHot.get(key);
        if (!hot) {
          const images = await this.#images_(p);
          hot = tf.tidy(() => ({
            train: tf.oneHot(images.train.labels, p.classes).toFloat(),
            test: tf.oneHot(images.test.labels, p.classes).toFloat(),
          }));
          this.#oneHot.set(key, hot);
        }
        return [hot[split]];
      }
      const fn = moduleEntry(this.rep.module, "targets", p.targets.function);
      if (!fn) {
        throw new Error(`${this.rep.name}/${p.id}: no target function "${p.targets.function}"`);
      }
      draws.phase("targets", split);
      const ys = fn(s);
      if (ys.length !== outputsOf(p).length) {
        throw new Error(
          `${this.rep.name}/${p.id}: target function "${p.targets.function}" gave ${ys.length} ` +
            `tensors for ${outputsOf(p).length} outputs`,
        );
      }
      return ys.map(own);
    };
    const train = { xs: splits.train.inputs, ys: await targets("train") };
    const test = { xs: splits.test.inputs, ys: await targets("test") };
    if (p.validationSplit === undefined && p.validationFirst === undefined) {
      return { t: { train, test, image }, test: splits.test, owned };
    }
    // Keras' validation_split: the last fraction of the (unshuffled) training arrays;
    // validationFirst: the first images, as a notebook's X_train_full[:N].
    const n = train.xs[0].shape[0];
    const first = p.validationSplit === undefined;
    const at = first ? this.#heldOut(p, n) : Math.floor(n * (1 - p.validationSplit!));
    const [trainPart, valPart]: [number, number][] = first
      ? [[at, n - at], [0, at]]
      : [[0, at], [at, n - at]];
    const part = (xs: tf.Tensor[], [from, size]: [number, number]) =>
      xs.map((x) => own(x.slice(from, size)));
    return {
      t: {
        train: { xs: part(train.xs, trainPart), ys: part(train.ys, trainPart) },
        val: { xs: part(train.xs, valPart), ys: part(train.ys, valPart) },
        test,
        image,
      },
      test: splits.test,
      owned,
    };
  }

  async #layers(
    p: LayersProtocol,
    id: RunIdentity,
    epochs: number,
    draws: SeededMathRandom,
    onProgress?: (p: Progress) => void,
  ): Promise<Run> {
    const builder = moduleEntry(this.rep.module, "models", p.model);
    if (!builder) throw new Error(`${this.rep.name}/${p.id}: no model "${p.model}" in model.ts`);
    const ctx = this.#buildContext(p, id.seed);
    const build = (seed: number) => builder(seed, ctx);
    // The model's declared shapes decide how the images are shaped and what "input" targets are.
    draws.phase("shapes");
    const probe = build(deriveSeed(id.seed, "shapes"));
    const shapes = (ts: tf.SymbolicTensor[]) => ts.map((t) => t.shape.slice(1) as number[]);
    const [inputShapes, outputShapes] = [shapes(probe.inputs), shapes(probe.outputs)];
    probe.dispose();
    const { t, test, owned } = await this.#tensors(p, id.seed, draws, inputShapes, outputShapes);
    const recorder = new RunRecorder(id, epochs, headlineOf(p), onProgress, draws);
    try {
      const { run, model } = await layersRun(p, id.seed, build, t, epochs, recorder);
      draws.phase("artifacts");
      const artifacts: Record<string, unknown> = { ...run.artifacts };
      if (p.record.length && p.inputs === "images") {
        const data = await this.dataset(p) as ImageDataset;
        Object.assign(
          artifacts,
          await classifierArtifacts(
            model,
            t.test,
            {
              data: data.test.images,
              rows: data.test.rows,
              cols: data.test.cols,
              labels: data.test.labels,
            },
            p.classes,
            p.record,
          ),
        );
      }
      const own = moduleEntry(this.rep.module, "artifacts", p.id);
      if (own) {
        Object.assign(
          artifacts,
          await own(model, test, { ...ctx, protocol: p, data: await this.dataset(p) }),
        );
      }
      const usedLater = this.rep.spec.protocols.some((q) => q.uses.includes(p.id));
      if (usedLater) this.#stages.set(`${p.id}#${id.seed}`, model);
      else model.dispose();
      const scaling = standardizes(p.scaling) ? (await this.#images_(p)).scaling?.run : undefined;
      return {
        ...run,
        ...(Object.keys(artifacts).length ? { artifacts } : {}),
        ...(scaling ? { scaling } : {}),
      };
    } finally {
      tf.dispose(owned);
    }
  }

  async #custom(
    p: CustomProtocol,
    id: RunIdentity,
    epochs: number,
    draws: SeededMathRandom,
    onProgress?: (p: Progress) => void,
  ): Promise<Run> {
    const trainer = moduleEntry(this.rep.module, "trainers", p.trainer);
    if (!trainer) {
      throw new Error(`${this.rep.name}/${p.id}: no trainer "${p.trainer}" in model.ts`);
    }
    const declared = Object.entries(this.rep.spec.metrics);
    const head = declared.find(([k]) => k === "test_acc") ??
      declared.find(([k, d]) => k.startsWith("test_") && d.better === "higher") ?? declared[0];
    const metric = head?.[0] ?? "train_loss";
    const recorder = new RunRecorder(
      id,
      epochs,
      (m) => ({ metric, value: m[metric] }),
      onProgress,
      draws,
    );
    recorder.start();
    const out = await trainer({
      protocol: p,
      seed: id.seed,
      epochs,
      data: await this.dataset(p),
      checkpoint: (record) => recorder.checkpoint(record),
      loop: recorder.loop,
      order: (n, epoch) => shuffledIndices(n, mulberry32(deriveSeed(id.seed, "shuffle", epoch))),
    });
    recorder.stop();
    const trained = recorder.records.at(-1)?.epoch ?? 0;
    return {
      protocol: p.id,
      seed: id.seed,
      params: out.params,
      epochsPlanned: epochs,
      epochs: recorder.records,
      finalEpoch: recorder.records.at(-1)?.epoch ?? null,
      earlyStop: null,
      warmupSeconds: 0,
      trainSeconds: recorder.trainSeconds,
      samplesPerSecond: recorder.trainSeconds > 0
        ? (trained * out.samplesPerEpoch) / recorder.trainSeconds
        : 0,
      diverged: recorder.diverged,
      events: recorder.events,
      ...(out.artifacts ? { artifacts: out.artifacts } : {}),
    };
  }
}

/** `d` cut to the settings' first `trainLimit` / `testLimit` examples (a short rerun's). */
function _limited(d: DerivedData, s: TrainSettings): DerivedData {
  const cut = (x: DataSplit, n = Infinity): DataSplit => {
    if (n >= x.labels.shape[0]) return x;
    const out = { inputs: x.inputs.map((t) => t.slice(0, n)), labels: x.labels.slice(0, n) };
    tf.dispose([...x.inputs, x.labels]);
    return out;
  };
  return { train: cut(d.train, s.trainLimit), test: cut(d.test, s.testLimit) };
}

function _disposeDerived(d: DerivedData): void {
  tf.dispose([...d.train.inputs, d.train.labels, ...d.test.inputs, d.test.labels]);
}

/** A run that ended with an error instead of results. */
export interface RunFailure {
  /** The protocol id. */
  protocol: string;
  /** The seed. */
  seed: number;
  /** The error's message. */
  error: string;
}

/** What `runJob` reports as each run of a job ends. */
export interface JobHooks {
  /** Progress while a run trains. */
  onProgress?: (p: Progress) => void;
  /** A finished run. */
  onRun(run: Run): void | Promise<void>;
  /** A run that failed; the runs after it in the job (which may use it) fail with it. */
  onFailure(failure: RunFailure): void;
  /** Asked before each run: true stops the job (the rest are left unfinished). */
  stopped?(): boolean;
}

/**
 * Runs one job's tasks in order (a stage before the protocols that use it). A failing run does
 * not stop the rerun: it and the job's later runs are reported as failures.
 */
export async function runJob(trainer: Trainer, tasks: RunTask[], hooks: JobHooks): Promise<void> {
  let failed: RunFailure | undefined;
  for (const task of tasks) {
    if (hooks.stopped?.()) break;
    if (failed) {
      hooks.onFailure({
        ...task,
        error: `not run: ${failed.protocol} seed ${failed.seed}, earlier in its job, failed`,
      });
      continue;
    }
    try {
      await hooks.onRun(await trainer.run(task, hooks.onProgress));
    } catch (e) {
      failed = { ...task, error: (e as Error).message };
      hooks.onFailure(failed);
    }
  }
  for (const seed of new Set(tasks.map((t) => t.seed))) trainer.releaseSeed(seed);
}
