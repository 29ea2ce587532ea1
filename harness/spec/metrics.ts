/**
 * The metrics a protocol records each epoch, by name, with which side is better. Claims,
 * early stopping and charts cite these names; nothing guesses a direction from a suffix.
 * @module
 */
import type { Better, LayersProtocol, Output, OutputMetric, Protocol, TopKMetric } from "./spec.ts";

/** The parameter count, recorded once per run. */
export const PARAMS_METRIC = "params";

const _SHORT: Record<Exclude<OutputMetric, TopKMetric>, string> = {
  accuracy: "acc",
  binaryAccuracy: "binary_acc",
  categoricalAccuracy: "categorical_acc",
  sparseCategoricalAccuracy: "sparse_categorical_acc",
  meanAbsoluteError: "mae",
  meanSquaredError: "mse",
};

/**
 * The short name of an output metric in metric names (`accuracy` → `acc`; top-k accuracy with
 * k = 5 → `top5_acc`, or `sparse_top5_acc` on integer targets).
 */
export function metricShortName(m: OutputMetric): string {
  if (typeof m === "string") return _SHORT[m];
  return `${m.name === "sparseTopKCategoricalAccuracy" ? "sparse_" : ""}top${m.k}_acc`;
}

/** Which side of an output metric is better: a mean error is lower-better, accuracies higher. */
function _better(m: OutputMetric): Better {
  return m === "meanAbsoluteError" || m === "meanSquaredError" ? "lower" : "higher";
}

/**
 * A layers protocol's outputs; one unnamed output (name "") when it gives `loss`, whose metrics
 * default to Keras' accuracy for a classifier and to none for a regression loss.
 */
export function outputsOf(p: LayersProtocol): Output[] {
  if (p.outputs) return p.outputs;
  const regression = p.loss === "meanSquaredError" || p.loss === "meanAbsoluteError";
  return [{
    name: "",
    loss: p.loss!,
    ...(p.labelSmoothing !== undefined ? { labelSmoothing: p.labelSmoothing } : {}),
    metrics: p.metrics ?? (regression ? [] : ["accuracy"]),
  }];
}

/** The data splits a layers protocol evaluates every epoch. */
export function splitsOf(p: LayersProtocol): ("train" | "val" | "test")[] {
  return p.validationSplit === undefined && p.validationFirst === undefined
    ? ["train", "test"]
    : ["train", "val", "test"];
}

/** `<split>_<metric>` for one output, `<split>_<metric>.<output>` for named ones. */
function _metricName(split: string, metric: string, output = ""): string {
  return output ? `${split}_${metric}.${output}` : `${split}_${metric}`;
}

/**
 * Every metric `p` records per epoch, with its better side. A layers protocol records the
 * summed loss and, per output, loss and metrics on each split; a custom protocol records what
 * the spec's `metrics` declares.
 */
export function protocolMetrics(
  p: Protocol,
  declared: Record<string, { better: Better }>,
): Map<string, Better> {
  const out = new Map<string, Better>([[PARAMS_METRIC, "neither"]]);
  if (p.kind === "custom") {
    for (const [name, d] of Object.entries(declared)) out.set(name, d.better);
    return out;
  }
  const outputs = outputsOf(p);
  for (const split of splitsOf(p)) {
    out.set(_metricName(split, "loss"), "lower");
    for (const o of outputs) {
      if (o.name) out.set(_metricName(split, "loss", o.name), "lower");
      for (const m of o.metrics) {
        out.set(_metricName(split, metricShortName(m), o.name), _better(m));
      }
    }
  }
  for (const [name, d] of Object.entries(p.derivedMetrics)) out.set(name, d.better);
  return out;
}

/** The protocol's derived metrics computed from one epoch's metrics (NaN where an input is missing). */
export function deriveMetrics(
  p: LayersProtocol,
  metrics: Record<string, number>,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(p.derivedMetrics).map(([name, d]) => {
      const [a, b] = d.of.map((k) => metrics[k] ?? NaN);
      return [name, d.op === "ratio" ? a / b : a - b];
    }),
  );
}
