/**
 * tfjs ÷ PyTorch from two measurements timed in turns: the ratio of their medians, and the
 * spread of the rounds' ratios (round i: tfjs repeat i ÷ PyTorch repeat i, measured back to back).
 * @module
 */
import { spread } from "./spread.ts";
import type { Ratio, Spread } from "./schema.ts";

/** What a ratio needs of a measurement: its repeats, in round order, and their spread. */
type _Measured =
  | { status: "ok"; repeats: { samplesPerSecond: number }[]; samplesPerSecond: Spread }
  | { status: "error" | "skipped" };

/** tfjs ÷ PyTorch for `model`; null unless both measurements completed. */
export function pairedRatio(
  model: string,
  tfjsLabel: string,
  pytorchLabel: string,
  tfjs: _Measured,
  pytorch: _Measured | null,
): Ratio | null {
  if (tfjs.status !== "ok" || pytorch?.status !== "ok") return null;
  const a = tfjs.repeats, b = pytorch.repeats;
  const pairs = Array.from(
    { length: Math.min(a.length, b.length) },
    (_, i) => a[i].samplesPerSecond / b[i].samplesPerSecond,
  );
  const tfjsMedian = tfjs.samplesPerSecond.median;
  const pytorchMedian = pytorch.samplesPerSecond.median;
  return {
    model,
    tfjs: tfjsLabel,
    pytorch: pytorchLabel,
    tfjsSamplesPerSecond: tfjsMedian,
    pytorchSamplesPerSecond: pytorchMedian,
    ratio: tfjsMedian / pytorchMedian,
    pairs: { ...spread(pairs), count: pairs.length },
  };
}
