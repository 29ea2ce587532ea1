/**
 * The min, median and max of a measurement's repeats, and of the ratios of paired repeats.
 * @module
 */
import type { Spread } from "./schema.ts";

/** The median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Min, median and max of a non-empty list. */
export function spread(xs: number[]): Spread {
  if (!xs.length) throw new Error("spread of no values");
  return { min: Math.min(...xs), median: median(xs), max: Math.max(...xs) };
}
