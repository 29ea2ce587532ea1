/**
 * The metrics a protocol records each epoch, by name, with which side is better. Claims,
 * early stopping and charts cite these names; nothing guesses a direction from a suffix.
 * @module
 */
import type { Better, LayersProtocol, Output, OutputMetric, Protocol } from "./spec.ts";

/** The parameter count, recorded once per run. */
export const PARAMS_METRIC = "params";

const _SHORT: Record<OutputMetric, string> = {
  accuracy: "acc",
  binaryAccuracy: "binary_acc",
  categoricalAccuracy: "categorical_acc",
  meanAbsoluteError: "mae",
};

/** Which side of an output metric is better. */
const _BETTER: Record<OutputMetric, Better> = {
  accuracy: "higher",
  binaryAccuracy: "higher",
  categoricalAccuracy: "higher",
  meanAbsoluteError: "lower",
};

/** The short name of an output metric in metric names (`accuracy` → `acc`). */
export function metricShortName(m: OutputMetric): string {
  return _SHORT[m];
}

/** A layers protocol's outputs; one unnamed output (name "") when it gives `loss`. */
export function outputsOf(p: LayersProtocol): Output[] {
  return p.outputs ?? [{ name: "", loss: p.loss!, metrics: p.metrics ?? ["accuracy"] }];
}

/** The data splits a layers protocol evaluates every epoch. */
export function splitsOf(p: LayersProtocol): ("train" | "val" | "test")[] {
  return p.validationSplit === undefined ? ["train", "test"] : ["train", "val", "test"];
}

/** `<split>_<metric>` for one output, `<split>_<metric>.<output>` for named ones. */
export function metricName(split: string, metric: string, output = ""): string {
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
    out.set(metricName(split, "loss"), "lower");
    for (const o of outputs) {
      if (o.name) out.set(metricName(split, "loss", o.name), "lower");
      for (const m of o.metrics) out.set(metricName(split, _SHORT[m], o.name), _BETTER[m]);
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
