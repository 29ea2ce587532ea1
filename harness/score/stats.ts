/**
 * Summary statistics over seeds: mean, standard deviation, a Student-t 95 % confidence
 * interval and MLPerf's olympic mean (the mean without the best and the worst run).
 * @module
 */
import type { Summary } from "../results/result.ts";

/** Two-sided 95 % Student-t quantiles t(0.975, df) for df = 1..30. */
const _T975 = [
  12.706,
  4.303,
  3.182,
  2.776,
  2.571,
  2.447,
  2.365,
  2.306,
  2.262,
  2.228,
  2.201,
  2.179,
  2.16,
  2.145,
  2.131,
  2.12,
  2.11,
  2.101,
  2.093,
  2.086,
  2.08,
  2.074,
  2.069,
  2.064,
  2.06,
  2.056,
  2.052,
  2.048,
  2.045,
  2.042,
];

/** t(0.975, df); past the table, the normal quantile with a 1/df correction (error < 0.001). */
export function tQuantile975(df: number): number {
  if (df < 1) throw new RangeError(`degrees of freedom must be ≥ 1, got ${df}`);
  return df <= 30 ? _T975[df - 1] : 1.96 + 2.4 / df;
}

/**
 * Summarises values (at least one).
 *
 * @example
 * ```ts
 * import { summarize } from "./stats.ts";
 * const s = summarize([0.97, 0.972, 0.968]);
 * if (s.ci95 === null || s.ci95[0] > s.mean) throw new Error("bad interval");
 * ```
 */
export function summarize(values: number[]): Summary {
  const n = values.length;
  if (!n) throw new RangeError("summarize needs at least one value");
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  const half = n > 1 ? tQuantile975(n - 1) * sd / Math.sqrt(n) : 0;
  const sorted = [...values].sort((a, b) => a - b);
  const inner = n >= 3 ? sorted.slice(1, -1) : sorted;
  return {
    n,
    mean,
    sd,
    ci95: n > 1 ? [mean - half, mean + half] : null,
    min: sorted[0],
    max: sorted[n - 1],
    olympicMean: inner.reduce((a, b) => a + b, 0) / inner.length,
  };
}

/**
 * The smallest number of seeds whose 95 % interval, with this standard deviation, would no
 * longer reach `distance` (the gap between the mean and a verdict boundary); null if none can.
 */
export function seedsToDecide(sd: number, distance: number, max = 1000): number | null {
  if (distance <= 0) return null;
  for (let n = 2; n <= max; n++) {
    if (tQuantile975(n - 1) * sd / Math.sqrt(n) < distance) return n;
  }
  return null;
}
