/**
 * The learning rate through a layers run: Keras' per-step schedule, the per-epoch table
 * (LearningRateScheduler) and ReduceLROnPlateau set the optimizer's learning rate, the legacy
 * `decay` divides it per step, and the learning rate of each epoch's first and last step is
 * recorded in the run.
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { LearningRateRecord } from "../results/result.ts";
import { protocolMetrics } from "../spec/metrics.ts";
import { effectiveDecay, kerasFamily } from "../spec/optimizers.ts";
import {
  type PlateauRule,
  plateauRule,
  type ReduceLROnPlateau,
  scheduledLearningRate,
} from "../spec/schedules.ts";
import type { LayersProtocol } from "../spec/spec.ts";

/**
 * Keras' ReduceLROnPlateau through a run, by the rule of a Keras version: after each epoch it
 * takes the monitored value and the learning rate the epoch ran with, and gives the next
 * epoch's. Keras holds the learning rate in a float32 variable, so a reduced rate is float32.
 */
export class PlateauReducer {
  #best: number;
  #wait = 0;
  #cooldown = 0;

  /**
   * @param r the callback's arguments
   * @param lower whether a lower monitored value is better (Keras' mode "min")
   * @param rule the Keras version's rule (see PlateauRule)
   */
  constructor(readonly r: ReduceLROnPlateau, readonly lower: boolean, readonly rule: PlateauRule) {
    this.#best = lower ? Infinity : -Infinity;
  }

  /** The learning rate after an epoch that ran with `lr` and whose monitored value is `current`. */
  next(current: number, lr: number): number {
    const r = this.r;
    if (this.#cooldown > 0) {
      this.#cooldown--;
      this.#wait = 0;
    }
    const improved = this.lower
      ? current < this.#best - r.minDelta
      : current > this.#best + r.minDelta;
    if (improved) {
      this.#best = current;
      this.#wait = 0;
      return lr;
    }
    if (this.#cooldown > 0) return lr;
    // Before Keras 2.1.6 the patience was checked before the epoch was counted.
    const countFirst = this.rule === "2.1.6" || this.rule === "tf";
    if (countFirst) this.#wait++;
    let next = lr;
    if (this.#wait >= r.patience) {
      const old = Math.fround(lr);
      const floor = this.rule === "tf"
        ? Math.fround(r.minLr)
        : this.rule === "2.0"
        ? r.minLr + r.minLr * 1e-4
        : r.minLr;
      if (old > floor) {
        next = Math.fround(Math.max(old * r.factor, r.minLr));
        this.#cooldown = r.cooldown;
        this.#wait = 0;
      }
    }
    if (!countFirst) this.#wait++;
    return next;
  }
}

/** An optimizer whose learning rate can be set between steps (tfjs' SGD and ours). */
interface _Settable {
  setLearningRate(learningRate: number): void;
}

/**
 * Drives the learning rate of one run's optimizer as protocol `p` declares it, and records it.
 * Where `p` declares no schedule, table or plateau, it never touches the optimizer.
 */
export class LearningRates {
  /** Per epoch, the learning rate of its first and last step (legacy decay applied). */
  readonly records: LearningRateRecord[] = [];
  /** The learning rate the optimizer holds (Keras' variable, before the legacy decay). */
  #base: number;
  #step = 0;
  readonly #decay: number;
  readonly #plateau?: PlateauReducer;

  /** @param p the protocol; @param optimizer the run's optimizer, made from p.optimizer */
  constructor(readonly p: LayersProtocol, readonly optimizer: tf.Optimizer) {
    this.#base = p.optimizer.learningRate;
    const family = kerasFamily(p.keras);
    this.#decay = typeof family === "string" ? effectiveDecay(p.optimizer, family) : 0;
    const r = p.reduceLROnPlateau;
    if (r) {
      const lower = r.mode === "auto"
        ? protocolMetrics(p, {}).get(r.monitor) === "lower"
        : r.mode === "min";
      this.#plateau = new PlateauReducer(r, lower, plateauRule(p.keras));
    }
  }

  /** Before epoch `epoch`'s first step: the table's learning rate, where it lists the epoch. */
  beginEpoch(epoch: number): void {
    const listed = this.p.learningRateScheduler?.[String(epoch)];
    if (listed !== undefined) this.#set(listed);
  }

  /** Before each step: the schedule's learning rate at this step; records it for the epoch. */
  beforeStep(epoch: number): void {
    const s = this.p.learningRateSchedule;
    if (s) this.#set(scheduledLearningRate(s, this.#step));
    const lr = this.#base / (1 + this.#decay * this.#step);
    const record = this.records.at(-1);
    if (record?.epoch === epoch) record.last = lr;
    else this.records.push({ epoch, first: lr, last: lr });
    this.#step++;
  }

  /** After epoch's evaluation: ReduceLROnPlateau's next learning rate from its metrics. */
  endEpoch(metrics: Record<string, number>): void {
    if (this.#plateau) {
      this.#set(this.#plateau.next(metrics[this.p.reduceLROnPlateau!.monitor], this.#base));
    }
  }

  #set(lr: number): void {
    if (lr === this.#base) return;
    this.#base = lr;
    (this.optimizer as unknown as _Settable).setLearningRate(lr);
  }
}
