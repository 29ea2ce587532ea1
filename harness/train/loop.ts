/**
 * The epoch loop every run goes through, layers or custom: timing, MLPerf events, progress
 * with ETA, per-epoch records, divergence and early stopping live here once.
 * @module
 */
import { type Epoch, epochRecord, type Run, type RunEvent } from "../results/result.ts";
import type { EpochLoop } from "../plugin.ts";
import type { SeededMathRandom } from "../util/random.ts";

/** A progress report, sent every few steps of training and after each evaluation. */
export interface Progress {
  /** The replication's name. */
  replication: string;
  /** The protocol id being trained. */
  protocol: string;
  /** The run's seed. */
  seed: number;
  /** The current epoch (1-based). */
  epoch: number;
  /** Epochs this run trains in all. */
  epochs: number;
  /** Batches done in the current epoch (1 of 1 in a report after an evaluation). */
  step: number;
  /** Batches per epoch (1 in a report after an evaluation). */
  steps: number;
  /** The latest batch loss, or the epoch's train_loss after an evaluation (NaN if none). */
  loss: number;
  /** Seconds left in this run (protocol × seed) at the current pace. */
  etaSeconds: number;
  /** Set once the epoch's evaluation is done: the run's headline metric. */
  eval?: { metric: string; value: number };
}

/** Identity of a run, for progress and events. */
export interface RunIdentity {
  replication: string;
  protocol: string;
  seed: number;
}

/**
 * Collects a run's events and epoch records, reports progress, and notices divergence (a
 * non-finite metric stops the run at that epoch).
 */
export class RunRecorder {
  readonly events: RunEvent[] = [];
  readonly records: Epoch[] = [];
  diverged: Run["diverged"] = null;
  /** Training seconds so far (evaluation excluded). */
  trainSeconds = 0;
  #start = 0;

  /**
   * @param headline the metric progress lines and eval_accuracy events show
   * @param draws the run's seeded Math.random, restarted at each phase (see `phase`)
   */
  constructor(
    readonly id: RunIdentity,
    readonly epochs: number,
    readonly headline: (metrics: Record<string, number>) => { metric: string; value: number },
    readonly onProgress?: (p: Progress) => void,
    readonly draws?: SeededMathRandom,
  ) {}

  /**
   * Restarts the run's random draws at a phase (`"build"`, `"step", epoch, batch`): what tfjs
   * draws there then depends on the run's seed and the phase alone.
   */
  phase(...labels: (string | number)[]): void {
    this.draws?.phase(...labels);
  }

  /** Logs an event now. */
  log(key: RunEvent["key"], extra: Omit<RunEvent, "time" | "key"> = {}): void {
    this.events.push({ time: Date.now(), key, ...extra });
  }

  /** Marks the start of training (after warm-up). */
  start(): void {
    this.#start = performance.now();
    this.log("run_start");
  }

  /** Reports progress within an epoch. */
  progress(epoch: number, step: number, steps: number, loss: number, elapsed: number): void {
    const done = (epoch - 1) * steps + step;
    this.onProgress?.({
      ...this.id,
      epoch,
      epochs: this.epochs,
      step,
      steps,
      loss,
      etaSeconds: (elapsed / done) * (this.epochs * steps - done),
    });
  }

  /** Records an evaluated epoch (events, progress, divergence). */
  checkpoint(record: Epoch): void {
    this.records.push(record);
    this.trainSeconds += record.seconds;
    const values = Object.fromEntries(
      Object.entries(record.metrics).map(([k, v]) => [k, v ?? NaN]),
    );
    const head = this.headline(values);
    this.log("eval_accuracy", { epoch: record.epoch, value: _eventValue(head.value) });
    const bad = Object.keys(record.metrics).find((k) => record.metrics[k] === null);
    if (bad !== undefined && !this.diverged) this.diverged = { epoch: record.epoch, metric: bad };
    const elapsed = (performance.now() - this.#start) / 1000;
    this.onProgress?.({
      ...this.id,
      epoch: record.epoch,
      epochs: this.epochs,
      step: 1,
      steps: 1,
      loss: values.train_loss ?? NaN,
      etaSeconds: (elapsed / record.epoch) * (this.epochs - record.epoch),
      eval: head,
    });
  }

  /** Marks the end of training. */
  stop(): void {
    this.log("run_stop", { value: this.diverged ? "diverged" : "success" });
  }

  /** The epoch loop over `hooks`, recording here. */
  readonly loop: EpochLoop = async (hooks) => {
    const every = Math.max(1, Math.floor(hooks.steps / 20));
    for (let epoch = 1; epoch <= hooks.epochs && !this.diverged; epoch++) {
      this.log("epoch_start", { epoch });
      const start = performance.now();
      for (let s = 0; s < hooks.steps; s++) {
        this.phase("step", epoch, s);
        const cost = hooks.step(epoch, s);
        if (cost && this.onProgress && (s + 1) % every === 0 && s + 1 < hooks.steps) {
          const loss = (await cost.data())[0];
          const elapsed = this.trainSeconds + (performance.now() - start) / 1000;
          this.progress(epoch, s + 1, hooks.steps, loss, elapsed);
        }
        cost?.dispose();
      }
      this.phase("evaluate", epoch);
      const train = await hooks.endEpoch(epoch);
      const seconds = (performance.now() - start) / 1000;
      this.log("epoch_stop", { epoch, value: _eventValue(train.train_loss) });
      const e0 = performance.now();
      const evaluated = await hooks.evaluate(epoch);
      const measured = { ...train, ...evaluated };
      const metrics = { ...measured, ...hooks.derive?.(measured) };
      this.checkpoint(epochRecord(epoch, metrics, seconds, (performance.now() - e0) / 1000));
      if (hooks.stop?.(epoch, metrics)) break;
    }
  };
}

/** An event's value: a number, or its name ("NaN", "Infinity") where JSON has none. */
function _eventValue(v: number | undefined): number | string | undefined {
  return v === undefined || Number.isFinite(v) ? v : String(v);
}
