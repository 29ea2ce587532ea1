/**
 * Reruns a replication's protocols with the given seeds and turns the runs into claim results.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendInfo } from "./backend.ts";
import { type DataOptions, type ImageDataset, loadImageDataset, loadManifest } from "./datasets.ts";
import { gitCommit } from "./_git.ts";
import { deriveSeed, mulberry32, shuffledIndices } from "./random.ts";
import type { Replication } from "./replications.ts";
import { type ClaimResult, type Epoch, type Results, ResultsSchema, type Run } from "./result.ts";
import type { Claim, Optimizer, Protocol } from "./spec.ts";
import { verdictFor } from "./verdict.ts";

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

/** How to rerun a replication. */
export interface ReplicateOptions {
  seeds: number[];
  /** Protocol ids to run; default: every non-exploratory protocol. */
  protocols?: string[];
  /** Overrides every protocol's epoch count (recorded as a deviation). */
  epochs?: number;
  /** Trains on the first N training images only (recorded as a deviation; for quick checks). */
  trainLimit?: number;
  data?: DataOptions;
  backend: BackendInfo;
  /** The command line, recorded for provenance. */
  command: string;
  onProgress?: (p: Progress) => void;
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

function _tensors(data: ImageDataset, p: Protocol, trainLimit?: number): _Tensors {
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

async function _scalars(t: tf.Scalar | tf.Scalar[]): Promise<number[]> {
  const list = Array.isArray(t) ? t : [t];
  const values = await Promise.all(list.map(async (s) => (await s.data())[0]));
  tf.dispose(list);
  return values;
}

/** Trains one protocol with one seed and evaluates on the test set after every epoch. */
export async function trainRun(
  rep: Replication,
  p: Protocol,
  seed: number,
  t: _Tensors,
  epochs: number,
  onProgress?: (p: Progress) => void,
): Promise<Run> {
  const build = rep.module.models[p.model];
  const n = t.x.shape[0];
  const steps = Math.ceil(n / p.batchSize);

  // Warm-up on a throwaway model so that kernel and shader set-up is timed apart from training.
  const w0 = performance.now();
  const warm = build(deriveSeed(seed, "warmup"));
  warm.compile({ optimizer: _optimizer(p.optimizer), loss: p.loss, metrics: ["acc"] });
  const wx = t.x.slice(0, p.batchSize), wy = t.y.slice(0, p.batchSize);
  await warm.fit(wx, wy, { batchSize: p.batchSize, epochs: 1, verbose: 0 });
  await _scalars(warm.evaluate(wx, wy) as tf.Scalar[]);
  tf.dispose([wx, wy]);
  warm.optimizer.dispose();
  warm.dispose();
  const warmupSeconds = (performance.now() - w0) / 1000;

  const model = build(seed);
  model.compile({ optimizer: _optimizer(p.optimizer), loss: p.loss, metrics: ["acc"] });
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
  let trainSeconds = 0;
  let diverged = false;
  while (epoch < epochs && !diverged) {
    epoch++;
    const idx = tf.tensor1d(
      shuffledIndices(n, mulberry32(deriveSeed(seed, "shuffle", epoch))),
      "int32",
    );
    const xs = tf.gather(t.x, idx), ys = tf.gather(t.y, idx);
    const start = performance.now();
    const every = Math.max(1, Math.floor(steps / 20));
    const history = await model.fit(xs, ys, {
      batchSize: p.batchSize,
      epochs: 1,
      shuffle: false, // our seeded order above; tfjs would use Math.random
      verbose: 0,
      yieldEvery: "never",
      callbacks: onProgress && {
        onBatchEnd: (step: number, logs?: tf.Logs) => {
          if ((step + 1) % every !== 0 || step + 1 === steps) return;
          const elapsed = trainSeconds + (performance.now() - start) / 1000;
          const done = (epoch - 1) * steps + step + 1;
          onProgress(
            progress(step + 1, logs?.loss ?? NaN, (elapsed / done) * (epochs * steps - done)),
          );
        },
      },
    });
    const seconds = (performance.now() - start) / 1000;
    trainSeconds += seconds;
    tf.dispose([idx, xs, ys]);
    const e0 = performance.now();
    const [testLoss, testAcc] = await _scalars(
      model.evaluate(t.xTest, t.yTest, { batchSize: 1000 }) as tf.Scalar[],
    );
    const trainLoss = history.history.loss[0] as number;
    records.push({
      epoch,
      trainLoss,
      trainAcc: history.history.acc[0] as number,
      testLoss,
      testAcc,
      seconds,
      evalSeconds: (performance.now() - e0) / 1000,
    });
    diverged = !Number.isFinite(trainLoss) || !Number.isFinite(testLoss);
    const eta = (trainSeconds / epoch) * (epochs - epoch);
    onProgress?.({ ...progress(steps, trainLoss, eta), testAcc });
  }
  const params = model.countParams();
  model.optimizer.dispose();
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
  };
}

function _claimValue(claim: Claim, run: Run): number | undefined {
  if (claim.metric === "params") return run.params;
  const e = claim.epoch ?? run.epochsPlanned;
  const rec = run.diverged ? run.epochs.at(-1) : run.epochs[e - 1];
  if (!rec) return undefined;
  const key = ({
    test_acc: "testAcc",
    test_loss: "testLoss",
    train_acc: "trainAcc",
    train_loss: "trainLoss",
  } as const)[
    claim.metric
  ];
  return rec[key];
}

/** Compares every claim whose protocol ran with what the runs measured. */
export function claimResults(claims: Claim[], runs: Run[]): ClaimResult[] {
  return claims.flatMap((claim) => {
    const measured = runs.flatMap((run) => {
      const value = run.protocol === claim.protocol ? _claimValue(claim, run) : undefined;
      return value === undefined ? [] : [{ seed: run.seed, value }];
    });
    if (!measured.length) return [];
    const values = measured.map((m) => m.value);
    return [{
      id: claim.id,
      source: claim.source,
      statement: claim.statement,
      protocol: claim.protocol,
      metric: claim.metric,
      epoch: claim.metric === "params" ? null : claim.epoch ?? null,
      claimed: claim.claimed,
      compare: claim.compare,
      epsilon: claim.epsilon,
      seeds: measured.map((m) => m.seed),
      values,
      ...verdictFor(claim, values),
    }];
  });
}

/** Selects the protocols to run, validating names given on the command line. */
export function selectProtocols(rep: Replication, ids?: string[]): Protocol[] {
  if (!ids?.length) return rep.spec.protocols.filter((p) => !p.exploratory);
  return ids.map((id) => {
    const p = rep.spec.protocols.find((q) => q.id === id);
    if (!p) {
      const known = rep.spec.protocols.map((q) => q.id).join(", ");
      throw new Error(`${rep.name}: unknown protocol "${id}" (known: ${known})`);
    }
    return p;
  });
}

/** Reruns a replication and returns its validated results (nothing is written here). */
export async function replicate(rep: Replication, opts: ReplicateOptions): Promise<Results> {
  const protocols = selectProtocols(rep, opts.protocols);
  const s0 = performance.now();
  const datasets = new Map<string, ImageDataset>();
  for (const name of new Set(protocols.map((p) => p.dataset))) {
    datasets.set(name, await loadImageDataset(await loadManifest(name), opts.data));
  }
  const setupSeconds = (performance.now() - s0) / 1000;

  const deviations: string[] = [];
  if (opts.epochs !== undefined) {
    deviations.push(`--epochs ${opts.epochs}: every protocol trained ${opts.epochs} epoch(s)`);
  }
  if (opts.trainLimit !== undefined) {
    deviations.push(`trained on the first ${opts.trainLimit} training images only`);
  }

  const runs: Run[] = [];
  for (const p of protocols) {
    const t = _tensors(datasets.get(p.dataset)!, p, opts.trainLimit);
    for (const seed of opts.seeds) {
      runs.push(await trainRun(rep, p, seed, t, opts.epochs ?? p.epochs, opts.onProgress));
    }
    tf.dispose(Object.values(t));
  }
  const claims = claimResults(rep.spec.claims, runs);
  const ranIds = new Set(protocols.map((p) => p.id));
  for (const c of rep.spec.claims) {
    if (ranIds.has(c.protocol) && !claims.some((r) => r.id === c.id)) {
      deviations.push(`claim ${c.id} not evaluated: its epoch ${c.epoch} was not trained`);
    }
  }
  const dataset = datasets.values().next().value!;
  return ResultsSchema.parse({
    schema: 1,
    replication: rep.name,
    title: rep.spec.title,
    createdAt: new Date().toISOString(),
    command: opts.command,
    gitCommit: await gitCommit(),
    versions: { deno: Deno.version.deno, v8: Deno.version.v8, tfjs: tf.version.tfjs },
    backend: opts.backend,
    setupSeconds,
    dataset: {
      name: dataset.name,
      files: dataset.files.map(({ file, sha256 }) => ({ file, sha256 })),
    },
    deviations,
    runs,
    claims,
  });
}
