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

/** {@link probe} of a step function of batch 1 or 2. */
function _probed(
  onceOf: (n: 1 | 2) => tf.Tensor,
  batchSize: number,
  t: TimingOptions,
): Promise<Measurement | null> {
  return probe((n) => _synced(() => onceOf(n))(), batchSize, t);
}

/** A measurement, set up and ready to time: a warm-up and any number of timed repeats. */
interface _Timed {
  /** Runs the untimed first steps; returns how many. */
  warmup(): Promise<number>;
  repeat(): Promise<Repeat>;
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

/** Steps of `once` (batch size `batchSize`) as a {@link _Timed}. */
function _timedSteps(once: () => tf.Tensor, batchSize: number, t: TimingOptions): _Timed {
  return {
    warmup: () => _warmupRuns(_synced(once), t),
    repeat: () => _repeat(once, batchSize, t.seconds),
  };
}

/**
 * Warms up and times each measurement, taking turns (A1 B1 A2 B2 …), so that whatever the
 * process pays early (heap growth, a busier machine) does not land on one of them alone;
 * measured one after the other, the first of step and fit paid for the other's heap growth.
 * A measurement that fails becomes its error; the others go on.
 */
async function _interleaved(
  timed: { what: string; progress: (msg: string) => void; timed: _Timed | Measurement }[],
  t: TimingOptions,
): Promise<Measurement[]> {
  const out: Measurement[] = [];
  const reps: Repeat[][] = timed.map(() => []);
  const warm: { warmupSeconds: number; warmupSteps: number }[] = [];
  const fail = (i: number, e: unknown) => {
    const error = errorText(e);
    timed[i].progress(`${timed[i].what} failed: ${error}`);
    out[i] = { status: "error", error };
  };
  for (const [i, m] of timed.entries()) {
    if (!("warmup" in m.timed)) {
      out[i] = m.timed;
      continue;
    }
    try {
      const t0 = performance.now();
      const warmupSteps = await m.timed.warmup();
      warm[i] = { warmupSeconds: (performance.now() - t0) / 1000, warmupSteps };
      m.progress(`warm-up ${warm[i].warmupSeconds.toFixed(2)}s (${warmupSteps} step(s))`);
    } catch (e) {
      fail(i, e);
    }
  }
  for (let r = 0; r < t.repeats; r++) {
    for (const [i, m] of timed.entries()) {
      if (out[i] || !("repeat" in m.timed)) continue;
      try {
        const rep = await m.timed.repeat();
        m.progress(`repeat ${r + 1}/${t.repeats}: ${_rate(rep)}`);
        reps[i].push(rep);
      } catch (e) {
        fail(i, e);
      }
    }
  }
  return timed.map((_, i) =>
    out[i] ?? {
      status: "ok",
      ...warm[i],
      repeats: reps[i],
      samplesPerSecond: median(reps[i].map((r) => r.samplesPerSecond)),
    }
  );
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

/** `model.fit` (compiled here with bm's optimizer and loss) over x, y as {@link _Timed}. */
function _timedFit(
  model: tf.LayersModel,
  bm: BenchModel,
  x: tf.Tensor,
  y: tf.Tensor,
  t: TimingOptions,
): _Timed {
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

    // The step and fit, timed in turns (see _interleaved), in one engine scope.
    tf.engine().startScope();
    const made: { dispose(): unknown }[] = [];
    const keep = <T extends { dispose(): unknown }>(d: T) => (made.push(d), d);
    try {
      const model = keep(bm.build(t.seed)), fitModel = keep(bm.build(t.seed));
      const optimizer = keep(bm.optimizer()), fitOptimizer = keep(bm.optimizer());
      const x = keep(tf.concat(xs)), y = keep(tf.concat(ys));
      const step = keep(makeTrainStep(model, optimizer, singleOutput(bm.loss)));
      params = model.countParams();
      fitModel.compile({ optimizer: fitOptimizer, loss: bm.loss, metrics: ["acc"] });
      let i = 0;
      const once = () => step([xs[i % _POOL]], [ys[i++ % _POOL]]);
      const skipped = await _probed((n) => step([small[n][0]], [small[n][1]]), bm.batchSize, t)
        .catch((e): Measurement => ({ status: "error", error: errorText(e) }));
      if (skipped?.status === "skipped") say("train")(`skipped, ${skipped.reason}`);
      [train, fit] = await _interleaved([
        {
          what: "train",
          progress: say("train"),
          timed: skipped ?? _timedSteps(once, bm.batchSize, t),
        },
        {
          what: "fit",
          progress: say("fit"),
          // fit does at least the step's work per batch: skipped when the step is.
          timed: skipped?.status === "skipped"
            ? { ...skipped, reason: `${skipped.reason}, with the training step` }
            : _timedFit(fitModel, bm, x, y, t),
        },
      ], t);
      if (train.status === "ok") profile = await profileStep(once);
    } finally {
      for (const d of made.reverse()) d.dispose();
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
        if (skipped) return skipped;
        const [m] = await _interleaved([{
          what: "inference",
          progress: say("inference"),
          timed: _timedSteps(once, bm.batchSize, t),
        }], t);
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
