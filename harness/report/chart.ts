/**
 * Static charts for report pages: Vega-Lite specs rendered to SVG strings without a DOM or a
 * canvas, so a page can inline them and still work offline from file://.
 * @module
 */
import { compile, type TopLevelSpec } from "vega-lite";
import { parse, View } from "vega";
import { epochValue, type Results } from "../results/result.ts";

/** Readable defaults; a spec's own `config` entries win over these. */
const _CONFIG = {
  font: "Helvetica, Arial, sans-serif",
  background: "white",
  view: { continuousWidth: 560, continuousHeight: 300, stroke: "#cccccc" },
  axis: {
    labelFontSize: 13,
    titleFontSize: 14,
    titleFontWeight: "normal",
    titleColor: "#333333",
    labelColor: "#333333",
    gridColor: "#eeeeee",
  },
  legend: {
    labelFontSize: 13,
    titleFontSize: 13,
    titleFontWeight: "bold",
    // Text widths are estimated without a canvas, so leave generous room before truncating.
    labelLimit: 320,
    titleLimit: 320,
    symbolSize: 90,
  },
  title: { fontSize: 15, fontWeight: "normal" },
} as const;

/** Shapes for claimed points: none is the circle the reproduced curves use. */
const _CLAIM_SHAPES = ["diamond", "cross", "triangle-up", "square", "triangle-down"];

/**
 * Compiles a Vega-Lite spec and renders it headless to an SVG string.
 *
 * The "none" renderer needs no DOM; text widths are estimated because Deno has no canvas, so
 * labels are laid out slightly less tightly than in a browser.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const config = { ..._CONFIG, ...(spec.config ?? {}) } as TopLevelSpec["config"];
  const vgSpec = compile({ ...spec, config } as TopLevelSpec).spec;
  const view = new View(parse(vgSpec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Claims on `protocol` whose metric is one of `metrics`, at their epoch or the protocol's last. */
function _claimedPoints(results: Results, protocol: string, metrics: string[]) {
  return results.claims
    .filter((c) => metrics.includes(c.metric) && c.protocol === protocol)
    .map((c) => ({
      claim: c.id,
      protocol: c.protocol,
      metric: c.metric,
      epoch: c.epoch ?? _lastEpoch(results, c.protocol),
      claimed: c.claimed,
      compare: c.compare,
    }));
}

/** The claimed values as black shapes, one shape per claim id, named in a legend. */
function _claimedLayer(
  claimed: ReturnType<typeof _claimedPoints>,
  x: object,
  y: object,
  legend?: object,
) {
  return {
    name: "claimed",
    data: { values: claimed },
    mark: {
      type: "point",
      filled: true,
      color: "black",
      stroke: "white",
      strokeWidth: 1,
      size: 130,
      opacity: 1,
    },
    encoding: {
      x,
      y: { ...y, field: "claimed" },
      shape: {
        field: "claim",
        type: "nominal",
        title: "claimed",
        scale: { range: _CLAIM_SHAPES },
        ...(legend ? { legend } : {}),
      },
      tooltip: [
        { field: "claim", type: "nominal" },
        { field: "metric", type: "nominal" },
        { field: "epoch", type: "quantitative" },
        { field: "claimed", type: "quantitative" },
        { field: "compare", type: "nominal" },
      ],
    },
  };
}

/** One epoch of a metric's curve across seeds: how many seeds, their mean, min and max. */
export interface SeedBandPoint {
  protocol: string;
  metric: string;
  epoch: number;
  n: number;
  mean: number;
  min: number;
  max: number;
}

/**
 * Per (protocol, epoch): mean, min and max of `metric` over the seeds that reached that epoch,
 * ignoring non-finite values (a diverged run leaves a gap rather than breaking the chart).
 * Protocols in first-run order, epochs ascending.
 */
export function seedBands(results: Results, metric: string, protocol?: string): SeedBandPoint[] {
  const groups = new Map<string, Map<number, number[]>>();
  for (const run of results.runs) {
    if (protocol !== undefined && run.protocol !== protocol) continue;
    const byEpoch = groups.get(run.protocol) ?? new Map<number, number[]>();
    groups.set(run.protocol, byEpoch);
    for (const e of run.epochs) {
      const v = epochValue(e, metric);
      if (v === undefined || !Number.isFinite(v)) continue;
      byEpoch.set(e.epoch, [...byEpoch.get(e.epoch) ?? [], v]);
    }
  }
  return [...groups].flatMap(([p, byEpoch]) =>
    [...byEpoch].sort(([a], [b]) => a - b).map(([epoch, vs]) => ({
      protocol: p,
      metric,
      epoch,
      n: vs.length,
      mean: vs.reduce((a, b) => a + b, 0) / vs.length,
      min: Math.min(...vs),
      max: Math.max(...vs),
    }))
  );
}

const _EPOCH_X = {
  field: "epoch",
  type: "quantitative",
  title: "epoch",
  // Epochs are counts: integer ticks only, never 1.5.
  axis: { tickMinStep: 1, format: "d" },
  // A little room at both ends so first- and last-epoch marks do not sit on the frame.
  scale: { padding: 12 },
} as const;

/**
 * Metrics per epoch of one protocol: per metric a band from the lowest to the highest seed and
 * the mean over seeds as a line with points, and the protocol's claims on those metrics as
 * black shapes at their epochs (the protocol's last epoch when a claim names none). Null when no
 * run of the protocol recorded any of them.
 */
export function protocolCurvesSpec(
  results: Results,
  protocol: string,
  metrics: string[],
  yTitle: string,
): TopLevelSpec | null {
  const bands = metrics.flatMap((m) => seedBands(results, m, protocol));
  if (!bands.length) return null;
  const shown = metrics.filter((m) => bands.some((b) => b.metric === m));
  const claimed = _claimedPoints(results, protocol, shown);
  const y = { type: "quantitative", title: yTitle, scale: { zero: false } } as const;
  const color = {
    field: "metric",
    type: "nominal",
    title: "mean over seeds (line), min–max (band)",
    sort: shown,
    legend: { symbolType: "stroke", symbolStrokeWidth: 3, orient: "bottom", direction: "vertical" },
  } as const;
  const layers: unknown[] = [
    {
      name: "band",
      data: { values: bands },
      mark: { type: "area", opacity: 0.25 },
      encoding: { x: _EPOCH_X, y: { ...y, field: "min" }, y2: { field: "max" }, color },
    },
    {
      name: "mean",
      data: { values: bands },
      mark: { type: "line", strokeWidth: 2, point: { filled: true, size: 36 } },
      encoding: {
        x: _EPOCH_X,
        y: { ...y, field: "mean" },
        color,
        tooltip: [
          { field: "metric", type: "nominal" },
          { field: "epoch", type: "quantitative" },
          { field: "n", type: "quantitative", title: "seeds" },
          { field: "mean", type: "quantitative", format: ".4f" },
          { field: "min", type: "quantitative", format: ".4f" },
          { field: "max", type: "quantitative", format: ".4f" },
        ],
      },
    },
  ];
  if (claimed.length) {
    layers.push(_claimedLayer(claimed, _EPOCH_X, y, { orient: "bottom", direction: "vertical" }));
  }
  return { width: 340, height: 220, layer: layers } as TopLevelSpec;
}

/**
 * Training loss per epoch, all protocols in one chart: per protocol a band from the lowest to
 * the highest seed and the mean over seeds as a line. Null when there are no epochs.
 */
export function trainLossSpec(results: Results): TopLevelSpec | null {
  const bands = seedBands(results, "train_loss");
  if (!bands.length) return null;
  const y = { type: "quantitative", title: "train loss (mean over seeds)" } as const;
  const color = {
    field: "protocol",
    type: "nominal",
    title: "protocol",
    sort: [...new Set(bands.map((b) => b.protocol))],
    legend: { symbolType: "stroke", symbolStrokeWidth: 3, symbolOpacity: 1 },
  } as const;
  return {
    width: 560,
    height: 280,
    layer: [
      {
        name: "band",
        data: { values: bands },
        mark: { type: "area", opacity: 0.22 },
        encoding: {
          x: _EPOCH_X,
          y: { ...y, field: "min" },
          y2: { field: "max" },
          color,
          detail: { field: "protocol", type: "nominal" },
        },
      },
      {
        name: "mean",
        data: { values: bands },
        mark: { type: "line", strokeWidth: 2, point: { filled: true, size: 30 } },
        encoding: { x: _EPOCH_X, y: { ...y, field: "mean" }, color },
      },
    ],
  } as TopLevelSpec;
}

/** One point of a run's learning-rate line: at `position` epochs into training. */
interface _LearningRatePoint {
  protocol: string;
  seed: number;
  epoch: number;
  position: number;
  learningRate: number;
  order: number;
}

/**
 * The learning rate through training, all layers runs in one chart: per run a line from each
 * epoch's first step (at epoch − 1) to its last (at epoch), so a per-epoch change is a step and
 * a per-step schedule a slope; colour by protocol, one line per seed (ReduceLROnPlateau may
 * differ between seeds). Log scale where the rates span a factor of 10 or more. Null when no run
 * recorded its learning rates.
 */
export function learningRateSpec(results: Results): TopLevelSpec | null {
  const points: _LearningRatePoint[] = results.runs.flatMap((run) =>
    (run.learningRates ?? []).flatMap((r, i) =>
      [[r.epoch - 1, r.first], [r.epoch, r.last]].map(([position, learningRate], j) => ({
        protocol: run.protocol,
        seed: run.seed,
        epoch: r.epoch,
        position,
        learningRate,
        order: 2 * i + j,
      }))
    )
  );
  if (!points.length) return null;
  const rates = points.map((p) => p.learningRate);
  const log = Math.max(...rates) >= 10 * Math.min(...rates);
  return {
    width: 560,
    height: 240,
    data: { values: points },
    mark: { type: "line", strokeWidth: 2, point: { filled: true, size: 24 } },
    encoding: {
      x: { ..._EPOCH_X, field: "position", title: "epochs trained" },
      y: {
        field: "learningRate",
        type: "quantitative",
        title: "learning rate",
        scale: log ? { type: "log" } : { zero: false },
        axis: { format: log ? "~e" : "~g" },
      },
      color: {
        field: "protocol",
        type: "nominal",
        title: "protocol",
        sort: [...new Set(points.map((p) => p.protocol))],
        legend: { symbolType: "stroke", symbolStrokeWidth: 3 },
      },
      detail: { field: "seed", type: "nominal" },
      order: { field: "order", type: "quantitative" },
      tooltip: [
        { field: "protocol", type: "nominal" },
        { field: "seed", type: "quantitative" },
        { field: "epoch", type: "quantitative" },
        { field: "learningRate", type: "quantitative", title: "learning rate", format: ".3~e" },
      ],
    },
  } as TopLevelSpec;
}

/**
 * A confusion matrix as a heatmap: true class down, predicted class across, counts summed over
 * seeds, each cell labelled.
 */
export function confusionSpec(matrix: number[][], title: string): TopLevelSpec {
  const cells = matrix.flatMap((row, t) =>
    row.map((count, p) => ({ truth: t, predicted: p, count }))
  );
  const max = Math.max(1, ...cells.filter((c) => c.truth !== c.predicted).map((c) => c.count));
  const axis = (title: string) => ({ type: "ordinal", title, axis: { labelAngle: 0 } }) as const;
  return {
    width: 360,
    height: 360,
    data: { values: cells },
    encoding: {
      x: { field: "predicted", ...axis("predicted class") },
      y: { field: "truth", ...axis("true class") },
    },
    layer: [
      {
        name: "cells",
        mark: { type: "rect", stroke: "white" },
        encoding: {
          // Off-diagonal counts carry the information; the diagonal would swamp the scale.
          color: {
            condition: { test: "datum.truth === datum.predicted", value: "#d9ead3" },
            field: "count",
            type: "quantitative",
            title,
            scale: { scheme: "oranges", domain: [0, max] },
          },
          tooltip: [
            { field: "truth", type: "ordinal" },
            { field: "predicted", type: "ordinal" },
            { field: "count", type: "quantitative" },
          ],
        },
      },
      {
        name: "counts",
        mark: { type: "text", fontSize: 11 },
        encoding: {
          text: { field: "count", type: "quantitative" },
          // Light text on the darkest cells.
          color: {
            condition: {
              test: `datum.truth !== datum.predicted && datum.count > ${max / 2}`,
              value: "white",
            },
            value: "black",
          },
        },
      },
    ],
  } as TopLevelSpec;
}

/** The last epoch any run of `protocol` reached; the last epoch of any run if it has none. */
function _lastEpoch(results: Results, protocol: string): number {
  const last = (runs: Results["runs"]) =>
    Math.max(0, ...runs.flatMap((r) => r.epochs.map((e) => e.epoch)));
  return last(results.runs.filter((r) => r.protocol === protocol)) || last(results.runs) || 1;
}
