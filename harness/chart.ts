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
  const claimed = results.claims.filter((c) => c.metric === "test_acc").map((c) => ({
    claim: c.id,
    protocol: c.protocol,
    epoch: c.epoch ?? _lastEpoch(results, c.protocol),
    claimed: c.claimed,
    compare: c.compare,
  }));
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
      {
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
          },
          tooltip: [
            { field: "claim", type: "nominal" },
            { field: "protocol", type: "nominal" },
            { field: "epoch", type: "quantitative" },
            { field: "claimed", type: "quantitative" },
            { field: "compare", type: "nominal" },
          ],
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
