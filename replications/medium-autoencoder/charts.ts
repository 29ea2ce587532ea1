/**
 * The medium-autoencoder page's own charts: reconstructions beside their originals, accuracy
 * per head on training and test pairs with the claimed 95 % and 97 % lines, test accuracy
 * against the number of training pairs, and a grid of test pairs with the model's answers.
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import {
  epochValue,
  escapeHtml as _e,
  grayBmpDataUri,
  pixelsFromBase64,
  type ReplicationChart,
  type Results,
  type Run,
} from "claimcheck/plugin";
import spec from "./spec.json" with { type: "json" };

/** The arithmetic network's heads: its protocol's outputs in spec.json, in order. */
const _HEADS = spec.protocols.flatMap((p) =>
  p.id === "arithmetic" && "outputs" in p ? (p.outputs ?? []).map((o) => o.name) : []
);
const _COMPARE = ["<", "=", ">"];

interface _Reconstruction {
  index: number;
  label: number;
  original: string;
  reconstruction: string;
}

interface _Pair {
  a: number;
  b: number;
  imageA: string;
  imageB: string;
  predicted: { sum: number; product: number; compare: number };
}

const _img = (b64: string, alt: string) =>
  `<img alt="${_e(alt)}" width="56" height="56" src="${
    grayBmpDataUri(pixelsFromBase64(b64), 28, 28)
  }">`;

/** The final epoch's record of a run (the restored best one after an early stop). */
const _final = (r: Run) => r.epochs.find((e) => e.epoch === r.finalEpoch);

function _reconstructions(runs: Run[]): ReplicationChart | null {
  const run = runs.find((r) => r.protocol === "autoencoder" && r.artifacts?.reconstructions);
  if (!run) return null;
  const items = run.artifacts!.reconstructions as _Reconstruction[];
  const cells = items.map((d) =>
    `<figure class="digit">${_img(d.original, `test image ${d.index}`)}${
      _img(d.reconstruction, `its reconstruction`)
    }<figcaption>#${d.index}</figcaption></figure>`
  ).join("");
  return {
    title: "Reconstructions of test digits",
    caption: `The first ${items.length} test images (top of each pair) and the autoencoder's ` +
      `reconstruction from their 100-element codes (below), seed ${run.seed}, final model.`,
    html: `<div class="digits" data-chart="reconstructions">${cells}</div>`,
  };
}

function _headAccuracy(runs: Run[]): ReplicationChart | null {
  const mine = runs.filter((r) => r.protocol === "arithmetic" && _final(r));
  if (!mine.length) return null;
  const values = mine.flatMap((r) =>
    _HEADS.flatMap((h) =>
      (["train", "test"] as const).map((split) => ({
        head: h,
        split: `${split} pairs`,
        seed: r.seed,
        accuracy: epochValue(_final(r)!, `${split}_acc.${h}`) ?? null,
      }))
    )
  );
  const chart = {
    width: 420,
    height: 240,
    layer: [
      {
        data: { values },
        mark: { type: "bar", opacity: 0.85 },
        encoding: {
          x: { field: "head", type: "nominal", sort: _HEADS, title: null, axis: { labelAngle: 0 } },
          xOffset: { field: "split" },
          y: {
            aggregate: "mean",
            field: "accuracy",
            type: "quantitative",
            title: "accuracy (mean over seeds)",
            scale: { domain: [0.8, 1] },
          },
          color: { field: "split", type: "nominal", title: null, legend: { orient: "bottom" } },
        },
      },
      {
        data: {
          values: [{ y: 0.95, claim: "95 % (conclusion)" }, { y: 0.97, claim: "97 % (intro)" }],
        },
        mark: { type: "rule", strokeDash: [5, 3], color: "black" },
        encoding: { y: { field: "y", type: "quantitative" } },
      },
      {
        data: { values: [{ y: 0.95, claim: "95 %" }, { y: 0.97, claim: "97 %" }] },
        mark: { type: "text", align: "left", dx: 4, dy: -6, x: 0 },
        encoding: { y: { field: "y", type: "quantitative" }, text: { field: "claim" } },
      },
    ],
  } as TopLevelSpec;
  return {
    title: "Accuracy per head: training pairs beside test pairs",
    caption: `Final accuracy of each head on the training pairs (running mean over the last ` +
      `epoch, as Keras logs it) and on the unseen test pairs, mean over seeds ` +
      `${mine.map((r) => r.seed).join(", ")}; the dashed lines are the source's 95 % ` +
      `(conclusion) and 97 % (introduction).`,
    spec: chart,
  };
}

function _pairCount(runs: Run[]): ReplicationChart | null {
  const pairs = new Map(
    spec.protocols.flatMap((p) =>
      "inputs" in p && typeof p.inputs === "object" && p.inputs.derived === "code-pairs"
        ? [[p.id, Number(p.inputs.params?.trainPairs)] as const]
        : []
    ),
  );
  const mine = runs.filter((r) => pairs.has(r.protocol) && _final(r));
  if (new Set(mine.map((r) => r.protocol)).size < 2) return null;
  const values = mine.flatMap((r) =>
    _HEADS.map((h) => ({
      head: h,
      pairs: pairs.get(r.protocol),
      seed: r.seed,
      accuracy: epochValue(_final(r)!, `test_acc.${h}`) ?? null,
    }))
  );
  return {
    title: "Test accuracy against the number of training pairs",
    caption: "Each head's accuracy on the test pairs after training on 60k, 150k or 300k random " +
      "training pairs (mean over seeds; the exploratory protocols).",
    spec: {
      width: 420,
      height: 240,
      data: { values },
      mark: { type: "line", point: true },
      encoding: {
        x: {
          field: "pairs",
          type: "quantitative",
          title: "training pairs",
          scale: { type: "log" },
        },
        y: { aggregate: "mean", field: "accuracy", type: "quantitative", scale: { zero: false } },
        color: { field: "head", type: "nominal", sort: _HEADS },
      },
    } as TopLevelSpec,
  };
}

function _pairGrid(runs: Run[]): ReplicationChart | null {
  const run = runs.find((r) => r.protocol === "arithmetic" && r.artifacts?.pairs);
  if (!run) return null;
  const items = run.artifacts!.pairs as _Pair[];
  const mark = (ok: boolean) => ok ? "" : ' class="wrong"';
  const cells = items.map((p) => {
    const sum = p.a + p.b, product = p.a * p.b, cmp = Math.sign(p.a - p.b) + 1;
    return `<figure class="digit pair">${_img(p.imageA, `digit ${p.a}`)}${
      _img(p.imageB, `digit ${p.b}`)
    }<figcaption><span${
      mark(p.predicted.sum === sum)
    }>+ ${p.predicted.sum} (${sum})</span><br><span${
      mark(p.predicted.product === product)
    }>× ${p.predicted.product} (${product})</span><br><span${mark(p.predicted.compare === cmp)}>a ${
      _COMPARE[p.predicted.compare]
    } b (${_COMPARE[cmp]})</span></figcaption></figure>`;
  }).join("");
  return {
    title: "Test pairs and the model's answers",
    caption: `The first ${items.length} random test pairs (unseen images), seed ${run.seed}: the ` +
      `predicted sum, product and comparison, with the truth in brackets; a wrong answer is in red.`,
    html: `<div class="digits" data-chart="pairs">${cells}</div>`,
  };
}

/** The replication's charts, from its results. */
export function charts(results: Results): ReplicationChart[] {
  return [_reconstructions, _headAccuracy, _pairCount, _pairGrid].flatMap((f) =>
    f(results.runs) ?? []
  );
}
