/**
 * The augmentation section of a replication page: for each protocol that declares Keras
 * augmentation, the first training digits of its first batch as read and as augmented for that
 * step, with the transform each got (the run's `augmented` artifact).
 * @module
 */
import type { AugmentedDigit, AugmentedSample } from "../data/augment.ts";
import type { Results } from "../results/result.ts";
import { escapeHtml as _e } from "../util/escape_html.ts";
import { grayBmpDataUri, pixelsFromBase64 } from "../util/digit_image.ts";

/** The section for every protocol whose runs kept augmented digits (its lowest seed's). */
export function augmentationSection(results: Results): string {
  const out: string[] = [];
  for (const protocol of new Set(results.runs.map((r) => r.protocol))) {
    const run = results.runs.filter((r) => r.protocol === protocol && r.artifacts?.augmented)
      .sort((a, b) => a.seed - b.seed)[0];
    if (!run) continue;
    const a = run.artifacts!.augmented as AugmentedSample;
    const img = (d: AugmentedDigit, which: "original" | "augmented") =>
      `<img alt="training image ${d.index}, ${which}" width="${d.cols * 2}" height="${
        d.rows * 2
      }" src="${grayBmpDataUri(pixelsFromBase64(d[which]), d.rows, d.cols)}">`;
    const cells = a.shown.map((d) => {
      const t = d.transform;
      const draw = [
        `θ ${t.theta.toFixed(1)}°`,
        `tx ${t.tx.toFixed(1)} ty ${t.ty.toFixed(1)}`,
        `shear ${t.shear.toFixed(1)}°`,
        `zoom ${t.zx.toFixed(2)}/${t.zy.toFixed(2)}`,
      ].map((line) => `<span class="sub">${_e(line)}</span>`).join("");
      return `<figure class="digit aug" data-index="${d.index}">${img(d, "original")}${
        img(d, "augmented")
      }<figcaption>#${d.index}${draw}</figcaption></figure>`;
    }).join("");
    out.push(`<h3><code class="id">${_e(protocol)}</code></h3>
<div class="digits" data-chart="augmented" data-protocol="${_e(protocol)}" data-seed="${run.seed}">
<p>Seed ${_e(run.seed)}, the first ${a.shown.length} images of epoch 1's first batch: each as read
(top) and as augmented for that step (below) the way Keras ${_e(a.keras)}'s ImageDataGenerator does
(as Keras ${_e(a.rule)} all do; fill mode ${_e(a.fillMode)}). Under each, its draw: rotation θ,
Keras' tx and ty shifts (pixels, drawn from the height and width shift ranges), shear and the
zoom per axis. Test and validation images are never augmented.</p>
${cells}
</div>`);
  }
  return out.length ? `<h2>Augmented training digits</h2>\n${out.join("\n")}` : "";
}
