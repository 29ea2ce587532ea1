/**
 * Input scaling as posts write it: a division of the raw pixels (`x / 255`), then a fixed mean
 * and std (PyTorch's `Normalize((0.1307,), (0.3081,))`) or the training set's own, over all
 * pixels (`(x - x_train.mean()) / x_train.std()`) or per pixel (`x_train.mean(axis=0)`).
 * @module
 */
import { z } from "zod";
import { sha256Hex } from "../util/sha256_hex.ts";

/**
 * A protocol's `scaling`: raw pixels 0..255 divided by `divide`, then `(x − mean) / std` with
 * the given `mean` and `std`, or with those of the training images: over all their pixels
 * (`standardize: "dataset"`) or each pixel's own (`standardize: "pixel"`).
 */
export const ScalingSchema = z.strictObject({
  /** Raw pixel values 0..255 are divided by this first (255 for the usual [0, 1]). */
  divide: z.number().positive().default(255),
  /** Subtracted after the division (with `std`), e.g. MNIST's 0.1307. */
  mean: z.number().optional(),
  /** Divides after `mean` is subtracted, e.g. MNIST's 0.3081. */
  std: z.number().positive().optional(),
  /**
   * Subtract the training images' mean and divide by their std, both computed: over all their
   * pixels (`"dataset"`, numpy's `x_train.mean()`) or per pixel (`"pixel"`, numpy's
   * `x_train.mean(axis=0)`).
   */
  standardize: z.enum(["dataset", "pixel"]).optional(),
}).superRefine((s, ctx) => {
  if (s.standardize !== undefined && (s.mean !== undefined || s.std !== undefined)) {
    ctx.addIssue({
      code: "custom",
      path: ["standardize"],
      message: `give \`standardize: "${s.standardize}"\` (mean and std computed from the ` +
        "training images) or a fixed `mean` and `std`, not both",
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
  /** Standardise with the training images' mean and std, over all pixels or per pixel. */
  standardize?: "dataset" | "pixel";
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

/**
 * A run's per-pixel standardisation (`standardize: "pixel"`) as it ran, summarised: a mean and
 * std per pixel, computed as `"dataset"` computes its one, are too many numbers for every run,
 * so it keeps their count, ranges and hash.
 */
export const PixelScalingRunSchema = z.strictObject({
  divide: z.number(),
  standardize: z.literal("pixel"),
  /** The training images the statistics came from (after a `validationFirst` holdout). */
  images: z.number().int().positive(),
  /** How many pixels an image has, each with its own mean and std. */
  pixels: z.number().int().positive(),
  /** The smallest and the largest per-pixel mean. */
  meanRange: z.tuple([z.number(), z.number()]),
  /** The smallest and the largest per-pixel std. */
  stdRange: z.tuple([z.number(), z.number()]),
  /** SHA-256 of the per-pixel means, then stds, as little-endian float64 (see pixelStatsHash). */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
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

/** A run's per-pixel standardisation, summarised (see PixelScalingRunSchema). */
export interface PixelScalingRun {
  /** Raw pixel values 0..255 were divided by this first. */
  divide: number;
  /** Always "pixel". */
  standardize: "pixel";
  /** The training images the statistics came from. */
  images: number;
  /** How many pixels an image has. */
  pixels: number;
  /** The smallest and the largest per-pixel mean. */
  meanRange: [number, number];
  /** The smallest and the largest per-pixel std. */
  stdRange: [number, number];
  /** SHA-256 of the per-pixel means, then stds, as little-endian float64. */
  sha256: string;
}

/** Whether `s` subtracts a mean and divides by a std after its division. */
export function standardizes(s: Scaling): boolean {
  return s.standardize !== undefined || s.mean !== undefined;
}

/**
 * A scaling as applied to a run's inputs: the division, then the mean subtracted and the std
 * divided by, one for every pixel or one per pixel (neither where it only divides).
 */
export interface AppliedScaling {
  /** Raw pixel values 0..255 were divided by this first. */
  divide: number;
  /** The mean subtracted, or each pixel's (indexed as the image's pixels are). */
  mean?: number | Float64Array;
  /** The std divided by, or each pixel's. */
  std?: number | Float64Array;
}

/**
 * A scaled input value of pixel `pixel` (its index in the image) back as a pixel intensity in
 * [0, 1] (before clamping), for drawing the images a model was trained on.
 */
export function unscale(s: AppliedScaling, v: number, pixel: number): number {
  const at = (a: number | Float64Array) => typeof a === "number" ? a : a[pixel];
  const divided = s.mean === undefined ? v : v * at(s.std!) + at(s.mean);
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

/**
 * Each pixel's mean and population std (ddof 0) over `images`, `pixels` values an image, one
 * image after another: numpy's `x.mean(axis=0)` and `x.std(axis=0)`, in float64 (two passes).
 */
export function pixelMeanStd(
  images: ArrayLike<number>,
  pixels: number,
): { mean: Float64Array; std: Float64Array } {
  const n = images.length / pixels;
  const mean = new Float64Array(pixels);
  const std = new Float64Array(pixels);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < pixels; j++) mean[j] += images[i * pixels + j];
  }
  for (let j = 0; j < pixels; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < pixels; j++) std[j] += (images[i * pixels + j] - mean[j]) ** 2;
  }
  for (let j = 0; j < pixels; j++) std[j] = Math.sqrt(std[j] / n);
  return { mean, std };
}

/** SHA-256 of per-pixel means, then stds, each value as 8 little-endian float64 bytes. */
export function pixelStatsHash(mean: Float64Array, std: Float64Array): Promise<string> {
  const bytes = new DataView(new ArrayBuffer((mean.length + std.length) * 8));
  [...mean, ...std].forEach((v, i) => bytes.setFloat64(i * 8, v, true));
  return sha256Hex(new Uint8Array(bytes.buffer));
}

/** The record of a per-pixel standardisation with these statistics over `images` images. */
export async function pixelScalingRun(
  divide: number,
  images: number,
  mean: Float64Array,
  std: Float64Array,
): Promise<PixelScalingRun> {
  const range = (a: Float64Array): [number, number] => [Math.min(...a), Math.max(...a)];
  return {
    divide,
    standardize: "pixel",
    images,
    pixels: mean.length,
    meanRange: range(mean),
    stdRange: range(std),
    sha256: await pixelStatsHash(mean, std),
  };
}
