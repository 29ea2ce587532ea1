/**
 * The classifier section of a replication page, drawn from the artifacts a spec's `record`
 * asks for: the test confusion matrix (summed over seeds) and misclassified test digits as
 * images with their true and predicted classes.
 * @module
 */
import type { Results } from "../results/result.ts";
import { escapeHtml as _e } from "../util/escape_html.ts";
import { confusionSpec, renderSvg } from "./chart.ts";
import { grayBmpDataUri, pixelsFromBase64 } from "../util/digit_image.ts";

interface _Confusion {
  classes: number;
  matrix: number[][];
}

interface _Wrong {
  index: number;
  label: number;
  predicted: number;
  confidence: number;
  rows: number;
  cols: number;
  pixels: string;
}

/** The section for every protocol whose runs kept confusion or misclassified artifacts. */
export async function classifierSection(results: Results): Promise<string> {
  const out: string[] = [];
  for (const protocol of new Set(results.runs.map((r) => r.protocol))) {
    const runs = results.runs.filter((r) => r.protocol === protocol && r.artifacts);
    const confusions = runs.flatMap((r) =>
      r.artifacts!.confusion ? [r.artifacts!.confusion as _Confusion] : []
    );
    const wrong = runs.flatMap((r) =>
      r.artifacts!.misclassified
        ? [{ seed: r.seed, ...(r.artifacts!.misclassified as { count: number; shown: _Wrong[] }) }]
        : []
    );
    if (!confusions.length && !wrong.length) continue;
    out.push(`<h3><code class="id">${_e(protocol)}</code></h3>`);
    if (confusions.length) {
      const k = confusions[0].classes;
      const sum = Array.from(
        { length: k },
        (_, t) =>
          Array.from({ length: k }, (_, p) => confusions.reduce((a, c) => a + c.matrix[t][p], 0)),
      );
      const seeds = runs.filter((r) => r.artifacts!.confusion).map((r) => r.seed).join(", ");
      out.push(`<figure class="chart" data-chart="confusion" data-protocol="${_e(protocol)}">
${await renderSvg(confusionSpec(sum, "errors"))}
<figcaption>Test-set confusion matrix of the final model, counts summed over seeds ${_e(seeds)}:
true class down, predicted class across; off-diagonal cells (errors) coloured by count, the
diagonal (correct) in green.</figcaption>
</figure>`);
    }
    for (const w of wrong) {
      const cells = w.shown.map((d) =>
        `<figure class="digit" data-index="${d.index}"><img alt="test image ${d.index}: true ${d.label}, predicted ${d.predicted}" width="${
          d.cols * 2
        }" height="${d.rows * 2}" src="${
          grayBmpDataUri(pixelsFromBase64(d.pixels), d.rows, d.cols)
        }"><figcaption>${_e(d.label)} → <strong>${
          _e(d.predicted)
        }</strong><span class="sub">#${d.index} · ${
          _e((d.confidence * 100).toFixed(0))
        } %</span></figcaption></figure>`
      ).join("");
      out.push(
        `<div class="digits" data-chart="misclassified" data-protocol="${
          _e(protocol)
        }" data-seed="${w.seed}">
<p>Seed ${_e(w.seed)}: ${_e(w.count)} of the test images misclassified; the first ${w.shown.length}
in test-set order, each labelled true → <strong>predicted</strong> class, test index and the
model's confidence in its prediction.</p>
${cells}
</div>`,
      );
    }
  }
  return out.length
    ? `<h2>Classifier: confusion and misclassified digits</h2>\n${out.join("\n")}`
    : "";
}
