/**
 * One (model, backend) cell of the bench: training samples/s with the runner's step and with
 * `model.fit`, and inference samples/s with `model.predict`, each as the median of timed
 * repeats after a warm-up that is reported apart.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { makeTrainStep, singleOutput } from "../harness/train/step.ts";
import type { BenchModel } from "./models.ts";
import type { BackendRecord, Cell, KernelProfile, Measurement, Repeat } from "./schema.ts";
import { profileStep } from "./kernel_profile.ts";

/** How long and how often to time. */
export interface TimingOptions {
  /** A timed repeat stops once this many seconds of steps have run (and at least 2 steps). */
  seconds: number;
  /** Timed repeats after the warm-up; the median is reported. */
  repeats: number;
  /**
   * Untimed steps first: kernel compilation, shader set-up, first allocations. The warm-up
   * stops after one step when that step alone took longer than `seconds`.
   */
  warmupSteps: number;
  /**
   * Skip a measurement whose step is estimated (from probe steps of batch 1 and 2) to take longer:
   * the cpu backend's conv gradients take minutes per batch of 128.
   */
  maxStepSeconds: number;
  /** Seeds the weights and the random batches. */
  seed: number;
}

export const DEFAULT_TIMING: TimingOptions = {
  seconds: 3,
  repeats: 3,
  warmupSteps: 2,
  maxStepSeconds: 30,
  seed: 1,
};

/** Distinct pre-made batches each cell cycles through (and fit's data set, concatenated). */
const _POOL = 8;

/** The fewest steps a timed repeat runs, however slow a step is. */
const _MIN_STEPS = 2;

/** The median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** An error as one readable line, short enough for a table cell. */
export function errorText(e: unknown): string {
  const text = e instanceof Error ? `${e.message}` : String(e);
  const line = text.split("\n").find((l) => l.trim()) ?? "unknown error";
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/**
 * Runs `once` (one step, returning a tensor whose values depend on the step's work) until the
 * budget is spent. The backend is synchronised by reading the last tensor after each chunk of
 * steps; chunks grow while time remains, so an async backend (WebGPU) cannot queue far past
 * the budget and a fast one is not slowed by a read-back per step.
 */
async function _repeat(once: () => tf.Tensor, batchSize: number, seconds: number): Promise<Repeat> {
  const start = performance.now();
  let steps = 0, chunk = 1, elapsed = 0;
  for (;;) {
    let last: tf.Tensor | null = null;
    for (let k = 0; k < chunk; k++) {
      last?.dispose();
      last = once();
      steps++;
    }
    await last!.data();
    last!.dispose();
    elapsed = (performance.now() - start) / 1000;
    if (elapsed >= seconds && steps >= _MIN_STEPS) break;
    const perStep = elapsed / steps;
    const fits = Math.floor((seconds - elapsed) / perStep);
    chunk = Math.max(1, _MIN_STEPS - steps, Math.min(2 * chunk, fits));
  }
  return {
    steps,
    samples: steps * batchSize,
    seconds: elapsed,
    samplesPerSecond: steps * batchSize / elapsed,
  };
}

/** One step run to completion: a tensor-returning step, then a read-back of its result. */
function _synced(once: () => tf.Tensor): () => Promise<void> {
  return async () => {
    const out = once();
    await out.data();
    out.dispose();
  };
}

/** Seconds one completed step takes. */
async function _timedOnce(run: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await run();
  return (performance.now() - t0) / 1000;
}

/**
 * Decides whether a measurement is too slow to run: times a batch-1 step (the second of two,
 * so first-call costs are out) and, only when that times the batch size exceeds
 * `maxStepSeconds`, a batch-2 step too, extrapolating linearly from the two (GPU-like backends
 * do a batch in much less than batch-size times a single sample). Returns the skip, or null.
 */
export async function probe(
  runOf: (n: 1 | 2) => Promise<void>,
  batchSize: number,
  t: TimingOptions,
): Promise<Measurement | null> {
  await _timedOnce(() => runOf(1));
  const t1 = await _timedOnce(() => runOf(1));
  if (t1 * batchSize <= t.maxStepSeconds) return null;
  await _timedOnce(() => runOf(2));
  const t2 = await _timedOnce(() => runOf(2));
  const estimate = Math.max(t2, t1 + Math.max(0, t2 - t1) * (batchSize - 1));
  if (estimate <= t.maxStepSeconds) return null;
  return {
    status: "skipped",
    reason: `too slow: steps of batch 1 and 2 took ${t1.toFixed(2)} s and ${t2.toFixed(2)} s, ` +
      `so a batch of ${batchSize} would take about ${estimate.toFixed(0)} s ` +
      `(over --max-step-seconds ${t.maxStepSeconds})`,
    estimatedSamplesPerSecond: batchSize / estimate,
  };
}

async function _warmup(
  run: () => Promise<void>,
  t: TimingOptions,
  progress: (msg: string) => void,
): Promise<{ warmupSeconds: number; warmupSteps: number }> {
  let warmupSeconds = 0, warmupSteps = 0;
  while (warmupSteps < t.warmupSteps) {
    warmupSeconds += await _timedOnce(run);
    warmupSteps++;
    if (warmupSeconds > t.seconds) break; // a slow first step: one is warm-up enough
  }
  progress(`warm-up ${warmupSeconds.toFixed(2)}s (${warmupSteps} step(s))`);
  return { warmupSeconds, warmupSteps };
}

async function _measure(
  once: () => tf.Tensor,
  onceOf: (n: 1 | 2) => tf.Tensor,
  batchSize: number,
  t: TimingOptions,
  progress: (msg: string) => void,
): Promise<Measurement> {
  const skipped = await probe((n) => _synced(() => onceOf(n))(), batchSize, t);
  if (skipped) {
    progress(`skipped, ${skipped.status === "skipped" ? skipped.reason : ""}`);
    return skipped;
  }
  const { warmupSeconds, warmupSteps } = await _warmup(_synced(once), t, progress);
  const repeats: Repeat[] = [];
  for (let r = 0; r < t.repeats; r++) {
    const rep = await _repeat(once, batchSize, t.seconds);
    progress(`repeat ${r + 1}/${t.repeats}: ${_rate(rep)}`);
    repeats.push(rep);
  }
  return {
    status: "ok",
    warmupSeconds,
    warmupSteps,
    repeats,
    samplesPerSecond: median(repeats.map((r) => r.samplesPerSecond)),
  };
}

function _rate(r: Repeat): string {
  return `${r.samplesPerSecond.toFixed(1)} samples/s (${r.steps} steps, ${r.seconds.toFixed(2)}s)`;
}

/**
 * Stops `fit` after the time budget, reading the loss (which syncs the backend) only at chunk
 * ends, like {@link _repeat}: a plain-object callback would make fit read every batch's logs.
 */
class _Budget extends tf.Callback {
  steps = 0;
  #start = 0;
  #chunk = 1;
  #nextCheck = 1;
  elapsed = 0;

  constructor(readonly seconds: number) {
    super();
  }

  override onTrainBegin(): Promise<void> {
    this.#start = performance.now();
    return Promise.resolve();
  }

  override async onBatchEnd(_batch: number, logs?: tf.Logs): Promise<void> {
    this.steps++;
    if (this.steps < this.#nextCheck) return;
    const loss = (logs as unknown as Record<string, tf.Scalar | number> | undefined)?.loss;
    if (loss instanceof tf.Tensor) await loss.data();
    this.elapsed = (performance.now() - this.#start) / 1000;
    if (this.elapsed >= this.seconds && this.steps >= _MIN_STEPS) {
      this.model.stopTraining = true;
      return;
    }
    const perStep = this.elapsed / this.steps;
    const fits = Math.floor((this.seconds - this.elapsed) / perStep);
    this.#chunk = Math.max(1, _MIN_STEPS - this.steps, Math.min(2 * this.#chunk, fits));
    this.#nextCheck = this.steps + this.#chunk;
  }
}

async function _measureFit(
  model: tf.LayersModel,
  bm: BenchModel,
  x: tf.Tensor,
  y: tf.Tensor,
  t: TimingOptions,
  progress: (msg: string) => void,
): Promise<Measurement> {
  const optimizer = bm.optimizer();
  try {
    model.compile({ optimizer, loss: bm.loss, metrics: ["acc"] });
    const args = { batchSize: bm.batchSize, shuffle: false, verbose: 0 as const };
    // Warm-up: fit calls of one batch each, so a slow first one can end it early.
    const { warmupSeconds, warmupSteps } = await _warmup(
      async () => {
        const wx = x.slice(0, bm.batchSize), wy = y.slice(0, bm.batchSize);
        try {
          await model.fit(wx, wy, { ...args, epochs: 1 });
        } finally {
          tf.dispose([wx, wy]);
        }
      },
      t,
      progress,
    );
    const repeats: Repeat[] = [];
    for (let r = 0; r < t.repeats; r++) {
      const budget = new _Budget(t.seconds);
      const start = performance.now();
      // Many short epochs over the pool; the callback ends training once the budget is spent.
      await model.fit(x, y, { ...args, epochs: 1_000_000, callbacks: [budget] });
      const seconds = (performance.now() - start) / 1000;
      const samples = budget.steps * bm.batchSize;
      const rep = { steps: budget.steps, samples, seconds, samplesPerSecond: samples / seconds };
      progress(`repeat ${r + 1}/${t.repeats}: ${_rate(rep)}`);
      repeats.push(rep);
    }
    return {
      status: "ok",
      warmupSeconds,
      warmupSteps,
      repeats,
      samplesPerSecond: median(repeats.map((r) => r.samplesPerSecond)),
    };
  } finally {
    optimizer.dispose();
  }
}

/**
 * Runs one measurement in its own engine scope, so that tensors a failed step leaves behind
 * (and the initial values makeTrainStep's running sums are made from) are freed; a failure
 * becomes the measurement's error.
 */
async function _guard(
  what: string,
  progress: (msg: string) => void,
  f: () => Promise<Measurement>,
): Promise<Measurement> {
  tf.engine().startScope();
  try {
    return await f();
  } catch (e) {
    const error = errorText(e);
    progress(`${what} failed: ${error}`);
    return { status: "error", error };
  } finally {
    tf.engine().endScope();
  }
}

/**
 * Measures one model on the active backend (set up by the caller, described by `backend`).
 * Never throws: a failure (a kernel the backend lacks, say) becomes that measurement's error.
 */
export async function runCell(
  bm: BenchModel,
  backend: BackendRecord,
  timing: Partial<TimingOptions> = {},
  onProgress: (msg: string) => void = () => {},
): Promise<Cell> {
  const t = { ...DEFAULT_TIMING, ...timing };
  const c0 = performance.now();
  const say = (what: string) => (msg: string) =>
    onProgress(`[${backend.name}] ${bm.name} ${what}: ${msg}`);
  const loadAverage = loadAverages()?.[0] ?? null;
  let params: number | null = null;
  let data: { xs: tf.Tensor[]; ys: tf.Tensor[] } | null = null;
  const failAll = (e: unknown): Measurement => ({ status: "error", error: errorText(e) });
  let train: Measurement, fit: Measurement, inference: Measurement;
  let profile: KernelProfile | null = null;
  try {
    data = bm.batches(_POOL, t.seed * 1000);
    const { xs, ys } = data;
    // Batch-1 and batch-2 inputs for the probes that decide whether a measurement is too slow.
    const small = {
      1: [xs[0].slice(0, 1), ys[0].slice(0, 1)],
      2: [xs[0].slice(0, 2), ys[0].slice(0, 2)],
    };
    data.xs.push(small[1][0], small[2][0]);
    data.ys.push(small[1][1], small[2][1]);

    train = await _guard("train", say("train"), async () => {
      const model = bm.build(t.seed);
      params = model.countParams();
      const optimizer = bm.optimizer();
      const step = makeTrainStep(model, optimizer, singleOutput(bm.loss));
      let i = 0;
      const once = () => step([xs[i % _POOL]], [ys[i++ % _POOL]]);
      try {
        const m = await _measure(
          once,
          (n) => step([small[n][0]], [small[n][1]]),
          bm.batchSize,
          t,
          say("train"),
        );
        if (m.status === "ok") profile = await profileStep(once);
        return m;
      } finally {
        step.dispose();
        optimizer.dispose();
        model.dispose();
      }
    });

    fit = await _guard("fit", say("fit"), async () => {
      if (train.status === "skipped") {
        // fit does at least the step's work per batch: no need to probe again.
        say("fit")(`skipped, as training with the step was`);
        return { ...train, reason: `${train.reason}, with the training step` };
      }
      const model = bm.build(t.seed);
      const x = tf.concat(xs), y = tf.concat(ys);
      try {
        return await _measureFit(model, bm, x, y, t, say("fit"));
      } finally {
        tf.dispose([x, y]);
        model.dispose();
      }
    });

    inference = await _guard("inference", say("inference"), async () => {
      const model = bm.build(t.seed);
      params ??= model.countParams();
      let i = 0;
      try {
        return await _measure(
          () => model.predict(xs[i++ % _POOL], { batchSize: bm.batchSize }) as tf.Tensor,
          (n) => model.predict(small[n][0]) as tf.Tensor,
          bm.batchSize,
          t,
          say("inference"),
        );
      } finally {
        model.dispose();
      }
    });
  } catch (e) {
    // Building the data or a model failed: the whole cell is an error, the bench goes on.
    say("cell")(`failed: ${errorText(e)}`);
    train = fit = inference = failAll(e);
  } finally {
    if (data) tf.dispose([...data.xs, ...data.ys]);
  }
  const fitVsStep = train.status === "ok" && fit.status === "ok"
    ? fit.samplesPerSecond / train.samplesPerSecond
    : null;
  return {
    model: bm.name,
    backend: backend.name,
    adapter: backend.adapter,
    softwareAdapter: backend.softwareAdapter,
    batchSize: bm.batchSize,
    params,
    train,
    fit,
    inference,
    fitVsStep,
    profile,
    loadAverage,
    seconds: (performance.now() - c0) / 1000,
  };
}

/** The 1-, 5- and 15-minute load averages, or null where the OS does not say. */
export function loadAverages(): number[] | null {
  try {
    return Deno.loadavg();
  } catch {
    return null;
  }
}
