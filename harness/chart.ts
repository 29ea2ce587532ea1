/**
 * Static charts for report pages: Vega-Lite specs rendered to SVG strings without a DOM or a
 * canvas, so a page can inline them and still work offline from file://.
 * @module
 */
import { compile, type TopLevelSpec } from "vega-lite";
import { parse, View } from "vega";
import type { Results } from "./result.ts";

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

/** Every `test_acc` claim (of one protocol, if given) at its epoch, or its protocol's last. */
function _claimedPoints(results: Results, protocol?: string) {
  return results.claims
    .filter((c) => c.metric === "test_acc" && (protocol === undefined || c.protocol === protocol))
    .map((c) => ({
      claim: c.id,
      protocol: c.protocol,
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
        { field: "protocol", type: "nominal" },
        { field: "epoch", type: "quantitative" },
        { field: "claimed", type: "quantitative" },
        { field: "compare", type: "nominal" },
      ],
    },
  };
}

/**
 * Test accuracy per epoch: one line per (protocol, seed) of the rerun, and every `test_acc`
 * claim as a black shape at its epoch (its protocol's last epoch when the claim names none),
 * with a legend naming the claim ids.
 */
export function accuracyCurveSpec(results: Results): TopLevelSpec {
  const curves = results.runs.flatMap((run) =>
    run.epochs.map((e) => ({
      protocol: run.protocol,
      seed: run.seed,
      epoch: e.epoch,
      testAcc: e.testAcc,
    }))
  );
  const claimed = _claimedPoints(results);
  const x = {
    field: "epoch",
    type: "quantitative",
    title: "epoch",
    // Epochs are counts: integer ticks only, never 1.5.
    axis: { tickMinStep: 1, format: "d" },
    // A little room at both ends so first- and last-epoch marks do not sit on the frame.
    scale: { padding: 12 },
  } as const;
  const y = { type: "quantitative", title: "test accuracy", scale: { zero: false } } as const;
  return {
    width: 560,
    height: 300,
    layer: [
      {
        name: "reproduced",
        data: { values: curves },
        mark: { type: "line", strokeWidth: 1.5, point: { filled: true, size: 36 } },
        encoding: {
          x,
          y: { ...y, field: "testAcc" },
          color: { field: "protocol", type: "nominal", title: "protocol (rerun)" },
          detail: { field: "seed", type: "nominal" },
          tooltip: [
            { field: "protocol", type: "nominal" },
            { field: "seed", type: "nominal" },
            { field: "epoch", type: "quantitative" },
            { field: "testAcc", type: "quantitative", format: ".4f", title: "test accuracy" },
          ],
        },
      },
      _claimedLayer(claimed, x, y),
    ],
  } as TopLevelSpec;
}

/** One epoch of a protocol's curve across seeds: how many seeds, their mean, min and max. */
export interface SeedBandPoint {
  protocol: string;
  epoch: number;
  n: number;
  mean: number;
  min: number;
  max: number;
}

/**
 * Per (protocol, epoch): mean, min and max of `field` over the seeds that reached that epoch,
 * ignoring non-finite values (a diverged run leaves a gap rather than breaking the chart).
 * Protocols in first-run order, epochs ascending.
 */
export function seedBands(
  results: Results,
  field: "testAcc" | "trainLoss" | "testLoss" | "trainAcc",
  protocol?: string,
): SeedBandPoint[] {
  const groups = new Map<string, Map<number, number[]>>();
  for (const run of results.runs) {
    if (protocol !== undefined && run.protocol !== protocol) continue;
    const byEpoch = groups.get(run.protocol) ?? new Map<number, number[]>();
    groups.set(run.protocol, byEpoch);
    for (const e of run.epochs) {
      if (!Number.isFinite(e[field])) continue;
      byEpoch.set(e.epoch, [...byEpoch.get(e.epoch) ?? [], e[field]]);
    }
  }
  return [...groups].flatMap(([p, byEpoch]) =>
    [...byEpoch].sort(([a], [b]) => a - b).map(([epoch, vs]) => ({
      protocol: p,
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
  axis: { tickMinStep: 1, format: "d" },
  scale: { padding: 12 },
} as const;

/** Band fill and mean line of the per-protocol accuracy charts. */
const _BAND = "#9ecae1", _MEAN = "#1f5fa8";

/**
 * Test accuracy per epoch of one protocol: a band from the lowest to the highest seed, the
 * mean over seeds as a line with points, and the protocol's `test_acc` claims as black shapes
 * at their epochs (the protocol's last epoch when a claim names none). Null when no run of the
 * protocol has an epoch.
 */
export function protocolAccuracySpec(results: Results, protocol: string): TopLevelSpec | null {
  const bands = seedBands(results, "testAcc", protocol);
  if (!bands.length) return null;
  const seeds = new Set(results.runs.filter((r) => r.protocol === protocol).map((r) => r.seed));
  const bandLabel = `min–max, ${seeds.size} seed${seeds.size === 1 ? "" : "s"}`;
  const meanLabel = "mean over seeds";
  const claimed = _claimedPoints(results, protocol);
  const y = { type: "quantitative", title: "test accuracy", scale: { zero: false } } as const;
  const color = {
    type: "nominal",
    title: "rerun",
    scale: { domain: [meanLabel, bandLabel], range: [_MEAN, _BAND] },
    legend: { symbolType: "square", symbolOpacity: 1, orient: "bottom", direction: "vertical" },
  } as const;
  const layers: unknown[] = [
    {
      name: "band",
      data: { values: bands },
      mark: { type: "area", opacity: 0.6, line: { strokeWidth: 0.75, color: _BAND } },
      encoding: {
        x: _EPOCH_X,
        y: { ...y, field: "min" },
        y2: { field: "max" },
        color: { ...color, datum: bandLabel },
      },
    },
    {
      name: "mean",
      data: { values: bands },
      mark: { type: "line", strokeWidth: 2, point: { filled: true, size: 40 } },
      encoding: {
        x: _EPOCH_X,
        y: { ...y, field: "mean" },
        color: { ...color, datum: meanLabel },
      },
    },
  ];
  if (claimed.length) {
    layers.push(_claimedLayer(claimed, _EPOCH_X, y, { orient: "bottom", direction: "vertical" }));
  }
  return {
    width: 340,
    height: 220,
    layer: layers,
  } as TopLevelSpec;
}

/**
 * Training loss per epoch, all protocols in one chart: per protocol a band from the lowest to
 * the highest seed and the mean over seeds as a line. Null when there are no epochs.
 */
export function trainLossSpec(results: Results): TopLevelSpec | null {
  const bands = seedBands(results, "trainLoss");
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

/** The last epoch any run of `protocol` reached; the last epoch of any run if it has none. */
function _lastEpoch(results: Results, protocol: string): number {
  const last = (runs: Results["runs"]) =>
    Math.max(0, ...runs.flatMap((r) => r.epochs.map((e) => e.epoch)));
  return last(results.runs.filter((r) => r.protocol === protocol)) || last(results.runs) || 1;
}
