/**
 * One (model, backend) cell of the bench: training samples/s with the runner's step and with
 * `model.fit`, and inference samples/s with `model.predict`, each as the min, median and max of
 * timed repeats after a warm-up that is reported apart; optionally another runner's (PyTorch's)
 * training and inference of the same model timed in turns with them.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { makeTrainStep, singleOutput, type TrainStep } from "../harness/train/step.ts";
import type { BenchModel } from "./models.ts";
import type { BackendRecord, Cell, KernelProfile, Measurement, Repeat } from "./schema.ts";
import { profileStep } from "./kernel_profile.ts";
import { errorText } from "./error_text.ts";
import { interleaved, type Timed } from "./interleaved.ts";

/** How long and how often to time. */
export interface TimingOptions {
  /** A timed repeat stops once this many seconds of steps have run (and at least 2 steps). */
  seconds: number;
  /** Timed repeats after the warm-up; their min, median and max are reported. */
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
  repeats: 5,
  warmupSteps: 2,
  maxStepSeconds: 30,
  seed: 1,
};

/** Distinct pre-made batches each cell cycles through (and fit's data set, concatenated). */
const _POOL = 8;

/** The fewest steps a timed repeat runs, however slow a step is. */
const _MIN_STEPS = 2;

/**
 * Runs `once` (one step, returning a tensor whose values depend on the step's work) until the
 * budget is spent. The backend is synchronised by reading the last tensor after each chunk of
 * steps; chunks grow while time remains, so an async backend (WebGPU) cannot queue far past
 * the budget and a fast one is not slowed by a read-back per step. `mark` is told the steps done
 * after each chunk's read-back.
 */
async function _repeat(
  once: () => tf.Tensor,
  batchSize: number,
  seconds: number,
  mark?: (steps: number) => void,
): Promise<Repeat> {
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
    mark?.(steps);
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

/** {@link probe} of a step function of batch 1 or 2. */
function _probed(
  onceOf: (n: 1 | 2) => tf.Tensor,
  batchSize: number,
  t: TimingOptions,
): Promise<Measurement | null> {
  return probe((n) => _synced(() => onceOf(n))(), batchSize, t);
}

/** Runs `run` `t.warmupSteps` times, or once when the first alone takes over `t.seconds`. */
async function _warmupRuns(run: () => Promise<void>, t: TimingOptions): Promise<number> {
  let seconds = 0, steps = 0;
  while (steps < t.warmupSteps) {
    seconds += await _timedOnce(run);
    steps++;
    if (seconds > t.seconds) break; // a slow first step: one is warm-up enough
  }
  return steps;
}

/**
 * Steps of `once` (batch size `batchSize`) as a {@link Timed}; `mark` is told the steps done
 * each time a repeat synchronises the backend.
 */
export function timedSteps(
  once: () => tf.Tensor,
  batchSize: number,
  t: TimingOptions,
  mark?: (steps: number) => void,
): Timed<Repeat> {
  return {
    warmup: () => _warmupRuns(_synced(once), t),
    repeat: () => _repeat(once, batchSize, t.seconds, mark),
  };
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

/** `model.fit` (compiled here with bm's optimizer and loss) over x, y as a {@link Timed}. */
function _timedFit(
  model: tf.LayersModel,
  bm: BenchModel,
  x: tf.Tensor,
  y: tf.Tensor,
  t: TimingOptions,
): Timed<Repeat> {
  const args = { batchSize: bm.batchSize, shuffle: false, verbose: 0 as const };
  return {
    // Fit calls of one batch each, so a slow first one can end the warm-up early.
    warmup: () =>
      _warmupRuns(async () => {
        const wx = x.slice(0, bm.batchSize), wy = y.slice(0, bm.batchSize);
        try {
          await model.fit(wx, wy, { ...args, epochs: 1 });
        } finally {
          tf.dispose([wx, wy]);
        }
      }, t),
    async repeat() {
      const budget = new _Budget(t.seconds);
      const start = performance.now();
      // Many short epochs over the pool; the callback ends training once the budget is spent.
      await model.fit(x, y, { ...args, epochs: 1_000_000, callbacks: [budget] });
      const seconds = (performance.now() - start) / 1000;
      const samples = budget.steps * bm.batchSize;
      return { steps: budget.steps, samples, seconds, samplesPerSecond: samples / seconds };
    },
  };
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

/** The pre-made batches a cell (or a whole-machine job) cycles through, seeded from `seed`. */
export function benchBatches(bm: BenchModel, seed: number): { xs: tf.Tensor[]; ys: tf.Tensor[] } {
  return bm.batches(_POOL, seed * 1000);
}

/**
 * The runner's training step of `bm` (weights seeded with `seed`, its own optimizer) and `once`,
 * one step on the next of `data`'s batches: what a cell times, and each whole-machine job.
 * `dispose` frees the model, the optimizer and the step, not the batches.
 */
export function benchStep(
  bm: BenchModel,
  seed: number,
  data: { xs: tf.Tensor[]; ys: tf.Tensor[] },
): { model: tf.LayersModel; step: TrainStep; once: () => tf.Tensor; dispose(): void } {
  const model = bm.build(seed), optimizer = bm.optimizer();
  const step = makeTrainStep(model, optimizer, singleOutput(bm.loss));
  let i = 0;
  const n = data.xs.length;
  return {
    model,
    step,
    once: () => step([data.xs[i % n]], [data.ys[i++ % n]]),
    dispose() {
      step.dispose();
      optimizer.dispose();
      model.dispose();
    },
  };
}

/** Another runner's training and inference of the cell's model, timed in turns with the cell's. */
export interface Beside {
  /** Names it in progress lines. */
  name: string;
  train: Timed<Repeat> | Measurement;
  inference: Timed<Repeat> | Measurement;
}

/** A cell and the measurements of the runner timed beside it (null without one). */
export interface CellRun {
  cell: Cell;
  beside: { train: Measurement; inference: Measurement } | null;
}

/**
 * Measures one model on the active backend (set up by the caller, described by `backend`), and
 * `beside`'s training and inference in turns with its training step and fit, and with its
 * inference: round by round, so a slower spell of the machine hits both alike. Never throws: a
 * failure (a kernel the backend lacks, say) becomes that measurement's error.
 */
export async function runCell(
  bm: BenchModel,
  backend: BackendRecord,
  timing: Partial<TimingOptions> = {},
  onProgress: (msg: string) => void = () => {},
  beside?: Beside,
): Promise<CellRun> {
  const t = { ...DEFAULT_TIMING, ...timing };
  const c0 = performance.now();
  const say = (what: string) => (msg: string) =>
    onProgress(`[${backend.name}] ${bm.name} ${what}: ${msg}`);
  const besides = (what: "train" | "inference") =>
    beside
      ? [{
        what,
        progress: (msg: string) => onProgress(`[${beside.name}] ${bm.name} ${what}: ${msg}`),
        timed: beside[what],
      }]
      : [];
  const loadAverage = loadAverages()?.[0] ?? null;
  let params: number | null = null;
  // The batches, and the tensors made from them, freed at the end.
  const made: tf.Tensor[] = [];
  const failAll = (e: unknown): Measurement => ({ status: "error", error: errorText(e) });
  let train: Measurement, fit: Measurement, inference: Measurement;
  let besideTrain: Measurement | undefined, besideInference: Measurement | undefined;
  let profile: KernelProfile | null = null;
  try {
    const { xs, ys } = benchBatches(bm, t.seed);
    made.push(...xs, ...ys);
    // Batch-1 and batch-2 inputs for the probes that decide whether a measurement is too slow.
    const small = {
      1: [xs[0].slice(0, 1), ys[0].slice(0, 1)],
      2: [xs[0].slice(0, 2), ys[0].slice(0, 2)],
    };
    const x = tf.concat(xs), y = tf.concat(ys);
    made.push(...small[1], ...small[2], x, y);

    // The step and fit, timed in turns (see interleaved), in one engine scope.
    tf.engine().startScope();
    const kept: { dispose(): unknown }[] = [];
    const keep = <T extends { dispose(): unknown }>(d: T) => (kept.push(d), d);
    try {
      const { model, step, once } = keep(benchStep(bm, t.seed, { xs, ys }));
      const fitModel = keep(bm.build(t.seed)), fitOptimizer = keep(bm.optimizer());
      params = model.countParams();
      fitModel.compile({ optimizer: fitOptimizer, loss: bm.loss, metrics: ["acc"] });
      const skipped = await _probed((n) => step([small[n][0]], [small[n][1]]), bm.batchSize, t)
        .catch((e): Measurement => ({ status: "error", error: errorText(e) }));
      if (skipped?.status === "skipped") say("train")(`skipped, ${skipped.reason}`);
      [train, fit, besideTrain] = await interleaved<Repeat, Measurement>([
        {
          what: "train",
          progress: say("train"),
          timed: skipped ?? timedSteps(once, bm.batchSize, t),
        },
        {
          what: "fit",
          progress: say("fit"),
          // fit does at least the step's work per batch: skipped when the step is.
          timed: skipped?.status === "skipped"
            ? { ...skipped, reason: `${skipped.reason}, with the training step` }
            : _timedFit(fitModel, bm, x, y, t),
        },
        ...besides("train"),
      ], t.repeats);
      if (train.status === "ok") profile = await profileStep(once);
    } finally {
      for (const d of kept.reverse()) d.dispose();
      tf.engine().endScope();
    }

    inference = await _guard("inference", say("inference"), async () => {
      const model = bm.build(t.seed);
      params ??= model.countParams();
      let i = 0;
      const once = () => model.predict(xs[i++ % _POOL], { batchSize: bm.batchSize }) as tf.Tensor;
      try {
        const skipped = await _probed(
          (n) => model.predict(small[n][0]) as tf.Tensor,
          bm.batchSize,
          t,
        );
        let m: Measurement;
        [m, besideInference] = await interleaved<Repeat, Measurement>([
          {
            what: "inference",
            progress: say("inference"),
            timed: skipped ?? timedSteps(once, bm.batchSize, t),
          },
          ...besides("inference"),
        ], t.repeats);
        return m;
      } finally {
        model.dispose();
      }
    });
  } catch (e) {
    // Building the data or a model failed: the whole cell is an error, the bench goes on.
    say("cell")(`failed: ${errorText(e)}`);
    train = fit = inference = failAll(e);
  } finally {
    tf.dispose(made);
  }
  // Where the cell failed before its turns, the runner beside is timed alone.
  const alone = async (what: "train" | "inference") =>
    (await interleaved<Repeat, Measurement>(besides(what), t.repeats))[0];
  if (beside) {
    besideTrain ??= await alone("train");
    besideInference ??= await alone("inference");
  }
  const fitVsStep = train.status === "ok" && fit.status === "ok"
    ? fit.samplesPerSecond.median / train.samplesPerSecond.median
    : null;
  return {
    cell: {
      model: bm.name,
      backend: backend.name,
      adapter: backend.adapter,
      softwareAdapter: backend.softwareAdapter,
      threads: backend.threads,
      batchSize: bm.batchSize,
      params,
      train,
      fit,
      inference,
      fitVsStep,
      profile,
      loadAverage,
      seconds: (performance.now() - c0) / 1000,
    },
    beside: beside ? { train: besideTrain!, inference: besideInference! } : null,
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
