/**
 * Keras' learning-rate schedules and learning-rate callbacks as spec data: a per-step schedule
 * given as the optimizer's learning rate (`ExponentialDecay`, `PiecewiseConstantDecay`), a
 * per-epoch table (`LearningRateScheduler`) and `ReduceLROnPlateau`, with the rules of the Keras
 * version a protocol names where they changed (ReduceLROnPlateau's patience count in 2.1.6).
 * @module
 */
import { z } from "zod";
import type { SameType } from "../util/same_type.ts";
import { kerasFamily } from "./optimizers.ts";

/**
 * Keras' `ExponentialDecay`: at step s (the optimizer's iterations, from 0),
 * initialLearningRate · decayRate^(s / decaySteps), the exponent floored with `staircase`.
 */
export const ExponentialDecaySchema = z.strictObject({
  name: z.literal("exponentialDecay"),
  initialLearningRate: z.number().positive(),
  decaySteps: z.number().int().positive(),
  decayRate: z.number().positive(),
  staircase: z.boolean().default(false),
});

/**
 * Keras' `PiecewiseConstantDecay`: at step s (from 0), values[0] while s ≤ boundaries[0],
 * values[i] while boundaries[i−1] < s ≤ boundaries[i], the last value after the last boundary.
 */
export const PiecewiseConstantDecaySchema = z.strictObject({
  name: z.literal("piecewiseConstantDecay"),
  boundaries: z.array(z.number().int().min(0)).min(1),
  values: z.array(z.number().positive()).min(2),
}).superRefine((s, ctx) => {
  if (s.boundaries.some((b, i) => i > 0 && b <= s.boundaries[i - 1])) {
    ctx.addIssue({
      code: "custom",
      path: ["boundaries"],
      message: "boundaries must increase strictly",
    });
  }
  if (s.values.length !== s.boundaries.length + 1) {
    ctx.addIssue({
      code: "custom",
      path: ["values"],
      message: `give one value more than boundaries (${s.boundaries.length + 1}, not ` +
        `${s.values.length})`,
    });
  }
});

/**
 * A per-step learning-rate schedule, the learning rate Keras' optimizer is given
 * (`SGD(learning_rate=ExponentialDecay(…))`).
 */
export const LearningRateScheduleSchema = z.discriminatedUnion("name", [
  ExponentialDecaySchema,
  PiecewiseConstantDecaySchema,
]);

/**
 * Keras' `LearningRateScheduler` as a table `{"1": 0.01, "5": 0.001}`: at the start of each listed
 * epoch (from 1) the learning rate becomes its value, and stays until the next listed epoch
 * (`schedule(epoch, lr)` returning `lr` at the others); before the first, the optimizer's.
 */
export const LearningRateTableSchema = z.record(z.string(), z.number().positive()).superRefine(
  (t, ctx) => {
    const epochs = Object.keys(t);
    if (!epochs.length) ctx.addIssue({ code: "custom", message: "list at least one epoch" });
    for (const epoch of epochs.filter((e) => !/^[1-9]\d*$/.test(e))) {
      ctx.addIssue({
        code: "custom",
        path: [epoch],
        message: `"${epoch}" is not an epoch number (epochs count from 1)`,
      });
    }
  },
);

/** Keras' `ReduceLROnPlateau`, with Keras' defaults. */
export const ReduceLROnPlateauSchema = z.strictObject({
  /** A metric the protocol records each epoch. */
  monitor: z.string().default("val_loss"),
  /** The learning rate is multiplied by this on a plateau. */
  factor: z.number().gt(0).lt(1).default(0.1),
  /** Epochs without improvement before a reduction. */
  patience: z.number().int().min(0).default(10),
  /** Smallest change that counts as an improvement (`epsilon` before Keras 2.1.6). */
  minDelta: z.number().min(0).default(1e-4),
  /** Epochs after a reduction during which no epoch counts as one without improvement. */
  cooldown: z.number().int().min(0).default(0),
  /** The learning rate is not reduced below this. */
  minLr: z.number().min(0).default(0),
  /**
   * `min` or `max`: which side of the monitored metric is better; `auto`: the side the protocol
   * declares for it (a loss is lower-better, an accuracy higher-better, as Keras' "acc" rule).
   */
  mode: z.enum(["auto", "min", "max"]).default("auto"),
});

/** Keras' `ExponentialDecay` (see ExponentialDecaySchema). */
export interface ExponentialDecay {
  /** Always "exponentialDecay". */
  name: "exponentialDecay";
  /** The learning rate at step 0. */
  initialLearningRate: number;
  /** Steps per power of decayRate. */
  decaySteps: number;
  /** The factor per decaySteps steps. */
  decayRate: number;
  /** Whether the exponent is floored (the rate changes every decaySteps steps). */
  staircase: boolean;
}

/** Keras' `PiecewiseConstantDecay` (see PiecewiseConstantDecaySchema). */
export interface PiecewiseConstantDecay {
  /** Always "piecewiseConstantDecay". */
  name: "piecewiseConstantDecay";
  /** The last step (from 0) of each value but the last, increasing. */
  boundaries: number[];
  /** The learning rates, one more than boundaries. */
  values: number[];
}

/** A per-step learning-rate schedule (see LearningRateScheduleSchema). */
export type LearningRateSchedule = ExponentialDecay | PiecewiseConstantDecay;

/** Keras' `ReduceLROnPlateau` (see ReduceLROnPlateauSchema). */
export interface ReduceLROnPlateau {
  /** A metric the protocol records each epoch. */
  monitor: string;
  /** The learning rate is multiplied by this on a plateau. */
  factor: number;
  /** Epochs without improvement before a reduction. */
  patience: number;
  /** Smallest change that counts as an improvement. */
  minDelta: number;
  /** Epochs after a reduction during which no epoch counts as one without improvement. */
  cooldown: number;
  /** The learning rate is not reduced below this. */
  minLr: number;
  /** Which side of the monitored metric is better; `auto`: the protocol's declared side. */
  mode: "auto" | "min" | "max";
}

/** The learning rate of `s` at step `step` (the optimizer's iterations before it, from 0). */
export function scheduledLearningRate(s: LearningRateSchedule, step: number): number {
  if (s.name === "exponentialDecay") {
    const p = step / s.decaySteps;
    return s.initialLearningRate * s.decayRate ** (s.staircase ? Math.floor(p) : p);
  }
  const i = s.boundaries.findIndex((b) => step <= b);
  return s.values[i === -1 ? s.values.length - 1 : i];
}

/** `s` with every learning rate it gives multiplied by `f` (a perturbation's lr ×f). */
export function scaledSchedule(s: LearningRateSchedule, f: number): LearningRateSchedule {
  return s.name === "exponentialDecay"
    ? { ...s, initialLearningRate: s.initialLearningRate * f }
    : { ...s, values: s.values.map((v) => v * f) };
}

/** The learning-rate fields of a layers protocol, as written. */
interface _LearningRateFields {
  optimizer: { learningRate?: number };
  keras?: string;
  learningRateSchedule?: unknown;
  learningRateScheduler?: unknown;
  reduceLROnPlateau?: unknown;
}

/**
 * The problems of a protocol's learning-rate fields together, as `[path, message]`: a schedule
 * where the Keras version has none, or beside a learning rate that Keras would have to set.
 */
export function scheduleIssues(p: _LearningRateFields): [string[], string][] {
  if (p.learningRateSchedule === undefined) return [];
  const issues: [string[], string][] = [];
  const family = kerasFamily(p.keras);
  if (family === "2.0" || family === "2.1.3") {
    issues.push([
      ["learningRateSchedule"],
      `Keras ${p.keras} has no learning-rate schedules (tf.keras' keras.optimizers.schedules, ` +
      "Keras 2.4 on in claimcheck's versions); use the optimizer's decay, or name the Keras " +
      'version the source ran in "keras"',
    ]);
  }
  if (p.optimizer.learningRate !== undefined) {
    issues.push([
      ["optimizer", "learningRate"],
      "with learningRateSchedule the schedule is the optimizer's learning rate (Keras' " +
      "learning_rate=ExponentialDecay(…)); drop optimizer.learningRate",
    ]);
  }
  for (const key of ["learningRateScheduler", "reduceLROnPlateau"] as const) {
    if (p[key] === undefined) continue;
    issues.push([
      [key],
      `${key} cannot change a learning rate that is a schedule (Keras raises an error): ` +
      "drop one of them",
    ]);
  }
  return issues;
}

/**
 * ReduceLROnPlateau's rule as the Keras version `keras` has it: `2.0` (to 2.1.2: the patience
 * is checked before the epoch is counted, so a reduction comes one epoch later, and the learning
 * rate must exceed minLr·(1 + 1e-4)), `2.1.3` (the same count, above minLr), `2.1.6` (the epoch
 * counted first, as since), `tf` (2.4 on: as 2.1.6, minLr compared in float32).
 */
export type PlateauRule = "2.0" | "2.1.3" | "2.1.6" | "tf";

/** The ReduceLROnPlateau rule of Keras version `keras` (undefined: Keras 3). */
export function plateauRule(keras: string | undefined): PlateauRule {
  const family = kerasFamily(keras);
  if (family === "2.0") return "2.0";
  if (family !== "2.1.3") return "tf";
  const [, minor, patch] = keras!.split(".").map(Number);
  return minor === 1 && patch < 6 ? "2.1.3" : "2.1.6";
}

// The public types above are the schemas' output types: a change to one alone fails type checking.
const _sameAsSchemas: [
  SameType<ExponentialDecay, z.infer<typeof ExponentialDecaySchema>>,
  SameType<PiecewiseConstantDecay, z.infer<typeof PiecewiseConstantDecaySchema>>,
  SameType<LearningRateSchedule, z.infer<typeof LearningRateScheduleSchema>>,
  SameType<ReduceLROnPlateau, z.infer<typeof ReduceLROnPlateauSchema>>,
] = [true, true, true, true];
