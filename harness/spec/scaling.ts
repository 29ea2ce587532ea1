/**
 * Input scaling as posts write it: a division of the raw pixels (`x / 255`), then a fixed mean
 * and std (PyTorch's `Normalize((0.1307,), (0.3081,))`) or the training set's own
 * (`(x - x_train.mean()) / x_train.std()`).
 * @module
 */
import { z } from "zod";

/**
 * A protocol's `scaling`: raw pixels 0..255 divided by `divide`, then `(x − mean) / std` with
 * the given `mean` and `std`, or with those of the training images (`standardize: "dataset"`).
 */
export const ScalingSchema = z.strictObject({
  /** Raw pixel values 0..255 are divided by this first (255 for the usual [0, 1]). */
  divide: z.number().positive().default(255),
  /** Subtracted after the division (with `std`), e.g. MNIST's 0.1307. */
  mean: z.number().optional(),
  /** Divides after `mean` is subtracted, e.g. MNIST's 0.3081. */
  std: z.number().positive().optional(),
  /** `"dataset"`: subtract the training images' mean and divide by their std (computed). */
  standardize: z.literal("dataset").optional(),
}).superRefine((s, ctx) => {
  if (s.standardize !== undefined && (s.mean !== undefined || s.std !== undefined)) {
    ctx.addIssue({
      code: "custom",
      path: ["standardize"],
      message: 'give `standardize: "dataset"` (mean and std computed from the training images) ' +
        "or a fixed `mean` and `std`, not both",
    });
  } else if ((s.mean === undefined) !== (s.std === undefined)) {
    ctx.addIssue({
      code: "custom",
      path: [s.mean === undefined ? "mean" : "std"],
      message: "give `mean` and `std` together: the inputs are (x / divide − mean) / std",
    });
  }
});

/** A protocol's input scaling (see ScalingSchema). */
export interface Scaling {
  /** Raw pixel values 0..255 are divided by this first. */
  divide: number;
  /** Subtracted after the division (given with `std`). */
  mean?: number;
  /** Divides after `mean` is subtracted. */
  std?: number;
  /** Standardise with the training images' mean and std. */
  standardize?: "dataset";
}

/**
 * A run's scaling where it is more than a division, as it ran: `mean` and `std` as given, or as
 * computed from the training images (`standardize: "dataset"`, in float64 over the divided
 * float32 pixels; std over all of them, numpy's default `ddof=0`). Applied in float32.
 */
export const ScalingRunSchema = z.strictObject({
  divide: z.number(),
  mean: z.number(),
  std: z.number(),
  standardize: z.literal("dataset").optional(),
});

/** A run's scaling with its mean and std known (see ScalingRunSchema). */
export interface ScalingRun {
  /** Raw pixel values 0..255 were divided by this first. */
  divide: number;
  /** The mean subtracted after the division. */
  mean: number;
  /** The std divided by after that. */
  std: number;
  /** Set where mean and std were computed from the training images. */
  standardize?: "dataset";
}

/** Whether `s` subtracts a mean and divides by a std after its division. */
export function standardizes(s: Scaling): boolean {
  return s.standardize !== undefined || s.mean !== undefined;
}

/**
 * A scaled input value back as a pixel intensity in [0, 1] (before clamping), for drawing the
 * images a model was trained on.
 */
export function unscale(s: Scaling | ScalingRun, v: number): number {
  const divided = s.mean === undefined ? v : v * s.std! + s.mean;
  return (divided * s.divide) / 255;
}

/** The mean and population std (ddof 0) of `values`, in float64 (two passes, for accuracy). */
export function meanStd(values: ArrayLike<number>): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(squares / values.length) };
}
