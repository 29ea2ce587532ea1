/**
 * Keras ImageDataGenerator augmentation as spec data: the harness's transforms against Keras' own
 * apply_affine_transform (tests/fixtures/keras_affine.json) and cases worked by hand, each Keras
 * version's reading of the ranges, seeded draws, validation, and a short run of the augment
 * fixture whose page shows the augmented digits and whose test images stay as loaded.
 */
import assert from "assert";
import { fileURLToPath } from "node:url";
import {
  type AffineTransform,
  applyAffine,
  augmentBatch,
  type AugmentedSample,
  drawTransform,
  kerasAffineMatrix,
} from "../harness/data/augment.ts";
import { loadImageDataset, loadManifest } from "../harness/data/datasets.ts";
import { setupBackend } from "../harness/backend/backend.ts";
import { pixelsFromBase64, pixelsToBase64 } from "../harness/util/digit_image.ts";
import { renderReplicationPage } from "../harness/report/report.ts";
import { loadReplication } from "../harness/replications.ts";
import { type Augmentation, augmentationRule } from "../harness/spec/augmentation.ts";
import { parseSpec } from "../harness/spec/load_spec.ts";
import { deriveSeed, mulberry32 } from "../harness/util/random.ts";
import { replicate } from "../harness/pipeline/replicate.ts";
import { specIssues, specWith as layersSpec } from "./_specs.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/replications", import.meta.url));

const NONE: AffineTransform = { theta: 0, tx: 0, ty: 0, shear: 0, zx: 1, zy: 1 };

/** `image` (rows of values) transformed by `t` as Keras `keras` does it, with this fill. */
function transformed(
  image: number[][],
  t: Partial<AffineTransform>,
  keras: string,
  fill: Pick<Augmentation, "fillMode" | "cval"> = { fillMode: "nearest" },
  order?: 0 | 1,
): number[][] {
  const [rows, cols] = [image.length, image[0].length];
  const rule = augmentationRule(keras);
  const out = new Float32Array(rows * cols);
  const m = kerasAffineMatrix({ ...NONE, ...t }, rows, cols, rule);
  applyAffine(image.flat(), 0, rows, cols, m, fill, order ?? rule.order, out, 0);
  return Array.from({ length: rows }, (_, r) => Array.from(out.subarray(r * cols, (r + 1) * cols)));
}

const GRID = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]];

Deno.test("Keras' own apply_affine_transform: the same images, each fill mode and order", async () => {
  const ref = JSON.parse(
    await Deno.readTextFile(new URL("./fixtures/keras_affine.json", import.meta.url)),
  );
  assert.equal(ref.cases.length, 8);
  for (const c of ref.cases) {
    const fill = { fillMode: c.fillMode, cval: c.cval };
    const got = transformed(ref.image, ref.transform, c.keras, fill, c.order);
    const where = `Keras ${c.keras}, order ${c.order}, ${c.fillMode}`;
    got.flat().forEach((v, i) => {
      const expected = c.expected.flat()[i];
      assert.ok(Math.abs(v - expected) < 1e-6, `${where}: pixel ${i} is ${v}, Keras ${expected}`);
    });
  }
});

Deno.test("worked by hand: a pure shift moves a pixel exactly; a quarter turn permutes", () => {
  const dot = Array.from(
    { length: 5 },
    (_, r) => Array.from({ length: 6 }, (_, c) => +(r === 2 && c === 3)),
  );
  const at = (img: number[][]) =>
    img.flatMap((row, r) => row.flatMap((v, c) => v ? [[r, c, v]] : []));
  // Keras' tx samples the input one row further down: the dot moves up a row (to column 2
  // from Keras 2.9, whose matrix reads tx along x).
  assert.deepEqual(at(transformed(dot, { tx: 1 }, "2.8")), [[1, 3, 1]]);
  assert.deepEqual(at(transformed(dot, { tx: 1 }, "3")), [[2, 2, 1]]);
  assert.deepEqual(at(transformed(dot, { ty: -2 }, "2.8")), [[2, 5, 1]]);
  // A quarter of a pixel along a row: 4r + c + 0.25 (the last column is its own edge).
  assert.deepEqual(transformed(GRID, { ty: 0.25 }, "2.8")[1], [4.25, 5.25, 6.25, 7]);
  // Outside the image: the edge (nearest), or cval (constant).
  assert.deepEqual(transformed(GRID, { ty: -2 }, "2.8")[0], [0, 0, 0, 1]);
  assert.deepEqual(
    transformed(GRID, { ty: -2 }, "2.8", { fillMode: "constant", cval: -1 })[0],
    [-1, -1, 0, 1],
  );
  // 90°: from Keras 2.9 about the grid's centre (1.5, 1.5), out(r, c) = in(c, 3 − r); before,
  // about (2.5, 2.5), out(r, c) = in(5 − c, r), rows past the edge taking the last one.
  const turned = (keras: string) =>
    transformed(GRID, { theta: 90 }, keras).map((row) => row.map((v) => Math.round(v * 1e5) / 1e5));
  assert.deepEqual(turned("3"), [[3, 7, 11, 15], [2, 6, 10, 14], [1, 5, 9, 13], [0, 4, 8, 12]]);
  assert.deepEqual(turned("2.8"), [[12, 12, 12, 8], [13, 13, 13, 9], [14, 14, 14, 10], [
    15,
    15,
    15,
    11,
  ]]);
  // No transform at all: Keras returns the image as it was.
  assert.deepEqual(transformed(GRID, {}, "3"), GRID);
});

Deno.test("each Keras version's reading: shear unit, shift ranges, spline order, matrix axes", () => {
  const rules = ["2.0.8", "2.1.3", "2.1.5", "2.1.6", "2.2.4", "2.8", "2.9.0", "2.15", "3"].map((
    v,
  ) => [v, augmentationRule(v)]);
  assert.deepEqual(Object.fromEntries(rules.map(([v, r]) => [v, Object.values(r).join(" ")])), {
    "2.0.8": "2.0–2.1.2 true fraction 0 false",
    "2.1.3": "2.1.3 false pixels 0 false",
    "2.1.5": "2.1.4–2.1.5 false pixels 1 false",
    "2.1.6": "2.1.6–2.8 false whole 1 false",
    "2.2.4": "2.1.6–2.8 false whole 1 false",
    "2.8": "2.1.6–2.8 false whole 1 false",
    "2.9.0": "2.9–3 false whole 1 true",
    "2.15": "2.9–3 false whole 1 true",
    "3": "2.9–3 false whole 1 true",
  });
  assert.deepEqual(augmentationRule(undefined), augmentationRule("3"));
});

/** `n` transforms drawn for a 28×28 image from one seeded stream. */
function draws(a: Partial<Augmentation>, keras: string, n = 2000): AffineTransform[] {
  const aug = {
    rotationRange: 0,
    widthShiftRange: 0,
    heightShiftRange: 0,
    shearRange: 0,
    zoomRange: 0,
    fillMode: "nearest" as const,
    ...a,
  };
  const rng = mulberry32(7);
  return Array.from({ length: n }, () => drawTransform(aug, augmentationRule(keras), rng, 28, 28));
}

const span = (xs: number[]) => [Math.min(...xs), Math.max(...xs)];

Deno.test("draws: Keras' ranges in its units, per image and per axis", () => {
  const d = draws({
    rotationRange: 10,
    widthShiftRange: 0.1,
    heightShiftRange: 0.2,
    shearRange: 5,
    zoomRange: 0.1,
  }, "3");
  const within = (xs: number[], r: number) => {
    const [lo, hi] = span(xs);
    assert.ok(lo >= -r && hi <= r && lo < -0.95 * r && hi > 0.95 * r, `${lo}…${hi} in ±${r}`);
  };
  within(d.map((t) => t.theta), 10);
  within(d.map((t) => t.tx), 0.2 * 28);
  within(d.map((t) => t.ty), 0.1 * 28);
  within(d.map((t) => t.shear), 5);
  within(d.map((t) => t.zx - 1), 0.1);
  within(d.map((t) => t.zy - 1), 0.1);
  assert.ok(d.every((t) => t.zx !== t.zy), "each axis draws its own zoom");
  assert.ok(new Set(d.map((t) => t.theta)).size === d.length, "each image draws its own");
  // A zoom range [lower, upper] as given; only the set ranges are drawn.
  assert.deepEqual(
    span(draws({ zoomRange: [0.5, 0.75] }, "3").map((t) => t.zx)).map((v) =>
      Math.round(v * 100) / 100
    ),
    [0.5, 0.75],
  );
  assert.deepEqual(
    new Set(draws({ rotationRange: 3 }, "3").map((t) => t.tx + t.ty + t.shear + t.zx + t.zy)),
    new Set([2]),
  );
});

Deno.test("draws: a whole shift range is whole pixels from 2.1.6, degrees or radians of shear", () => {
  // Python's int 3: np.random.choice(3) times ±1, so −2 … 2 pixels.
  const whole = draws({ widthShiftRange: 3 }, "2.2.4").map((t) => t.ty);
  assert.deepEqual([...new Set(whole)].sort((x, y) => x - y), [-2, -1, 0, 1, 2]);
  // Keras 2.1.3–2.1.5: uniform in ±3 pixels.
  const uniform = draws({ widthShiftRange: 3 }, "2.1.4").map((t) => t.ty);
  assert.ok(uniform.some((v) => !Number.isInteger(v)) && span(uniform)[1] > 2.9);
  assert.ok(span(uniform)[1] <= 3);
  // Keras 2.0–2.1.2 multiplied every range by the size: ±3 × 28 pixels.
  assert.ok(span(draws({ widthShiftRange: 3 }, "2.0.8").map((t) => t.ty))[1] > 80);
  // A shear range of 0.5: radians before 2.1.3 (±28.6°), degrees after.
  assert.ok(span(draws({ shearRange: 0.5 }, "2.0.8").map((t) => t.shear))[1] > 28);
  assert.ok(span(draws({ shearRange: 0.5 }, "2.2.4").map((t) => t.shear))[1] <= 0.5);
});

Deno.test("a batch: the same stream gives the same images, another step other ones", () => {
  const a: Augmentation = {
    rotationRange: 15,
    widthShiftRange: 0.1,
    heightShiftRange: 0.1,
    shearRange: 10,
    zoomRange: 0.1,
    fillMode: "nearest",
  };
  const rule = augmentationRule("3");
  const noise = mulberry32(3);
  const source = Float32Array.from({ length: 4 * 28 * 28 }, () => noise());
  const before = source.slice();
  const batch = (step: number) =>
    augmentBatch(a, rule, source, 28, 28, [2, 0, 3], mulberry32(deriveSeed(1, "augment", 1, step)));
  const [first, again, next] = [batch(0), batch(0), batch(1)];
  assert.deepEqual(again, first);
  assert.notDeepEqual(next.pixels, first.pixels);
  assert.notDeepEqual(next.transforms, first.transforms);
  assert.deepEqual(source, before, "the training images are left as they were");
  // Each image is its source image under its own transform.
  const image = new Float32Array(28 * 28);
  const m = kerasAffineMatrix(first.transforms[1], 28, 28, rule);
  applyAffine(source, 0, 28, 28, m, a, rule.order, image, 0);
  assert.deepEqual(first.pixels.subarray(28 * 28, 2 * 28 * 28), image);
});

/** The problems of a spec whose protocols p0, p1, … have these fields. */
const issues = (...protocols: Record<string, unknown>[]) => specIssues(layersSpec(...protocols));

Deno.test("augmentation in a spec: defaults, and every problem at once naming its field", () => {
  assert.deepEqual(issues({ augmentation: { rotationRange: 10 } }), []);
  assert.deepEqual(
    issues(
      { augmentation: { rotatoinRange: 10 } },
      { augmentation: { rotationRange: 10, cval: 0.5 } },
      { augmentation: { zoomRange: [1.2, 0.8] } },
      { augmentation: { zoomRange: 0 } },
      { augmentation: { widthShiftRange: -0.1, fillMode: "mirror" } },
      { augmentation: { rotationRange: 5 }, inputs: { derived: "pairs" } },
      { augmentation: { rotationRange: 5 }, validationSplit: 0.1 },
    ),
    [
      'protocols.0.augmentation: unknown key "rotatoinRange" (did you mean "rotationRange"?)',
      // As read, that augmentation is empty too.
      "protocols.0.augmentation: this augmentation transforms nothing: give a rotationRange, " +
      "widthShiftRange, heightShiftRange, shearRange or zoomRange, or drop it",
      "protocols.1.augmentation.cval: cval fills points outside the image only with fillMode " +
      '"constant" (this one is "nearest"): drop it, or set fillMode "constant"',
      "protocols.2.augmentation.zoomRange: [1.2, 0.8] is not [lower, upper]",
      "protocols.3.augmentation: this augmentation transforms nothing: give a rotationRange, " +
      "widthShiftRange, heightShiftRange, shearRange or zoomRange, or drop it",
      "protocols.4.augmentation.widthShiftRange: Too small: expected number to be >=0",
      'protocols.4.augmentation.fillMode: Invalid option: expected one of "nearest"|"constant"|' +
      '"reflect"|"wrap"',
      "protocols.5.augmentation: augmentation transforms the dataset's images: it needs " +
      '`inputs: "images"`',
      "protocols.6.validationSplit: Keras' fit takes no validation_split with an " +
      "ImageDataGenerator: drop it (the test set is evaluated every epoch), or drop the " +
      "augmentation",
    ],
  );
  const spec = parseSpec(layersSpec({ augmentation: { zoomRange: 0.2 } }), "spec.json");
  const p = spec.protocols[0];
  assert.ok(p.kind === "layers");
  assert.deepEqual(p.augmentation, {
    rotationRange: 0,
    widthShiftRange: 0,
    heightShiftRange: 0,
    shearRange: 0,
    zoomRange: 0.2,
    fillMode: "nearest",
  });
});

Deno.test("a short augmented run: seeded, test images untouched, digits on the page", async () => {
  const rep = await loadReplication("augment", FIXTURES);
  const backend = await setupBackend("wasm");
  const rerun = () =>
    replicate(rep, {
      seeds: [1],
      protocols: ["augmented"],
      trainLimit: 300,
      backend,
      command: "test",
    });
  const [results, again] = [await rerun(), await rerun()];
  assert.equal(results.failures, undefined, JSON.stringify(results.failures));
  const [run, rerunRun] = [results.runs[0], again.runs[0]];
  assert.deepEqual(rerunRun.epochs.map((e) => e.metrics), run.epochs.map((e) => e.metrics));
  assert.deepEqual(rerunRun.artifacts, run.artifacts, "the same seed augments the same way");
  // The final model's accuracy on the test images as loaded (normalised, not augmented).
  assert.equal(run.artifacts!.plainTestAccuracy, run.epochs[0].metrics.test_acc);

  const augmented = run.artifacts!.augmented as AugmentedSample;
  assert.equal(augmented.keras, "3");
  assert.equal(augmented.rule, "2.9–3");
  assert.equal(augmented.shown.length, 8);
  const data = await loadImageDataset(await loadManifest("mnist"));
  const size = 28 * 28;
  for (const d of augmented.shown) {
    // The original is the training image as loaded (its normalisation undone for drawing).
    const image = data.train.images.subarray(d.index * size, (d.index + 1) * size);
    assert.equal(d.original, pixelsToBase64(image), `image ${d.index}`);
    assert.notEqual(d.augmented, d.original);
    assert.equal(pixelsFromBase64(d.augmented).length, size);
    assert.ok(Math.abs(d.transform.theta) <= 10 && Math.abs(d.transform.tx) <= 2.8);
  }

  const page = await renderReplicationPage(results, rep.spec);
  const section = page.slice(page.indexOf('data-chart="augmented"'));
  assert.ok(page.includes("<h2>Augmented training digits</h2>"));
  const images = [
    ...section.slice(0, section.indexOf("</div>")).matchAll(
      /src="data:image\/bmp;base64,([^"]+)"/g,
    ),
  ];
  assert.equal(images.length, 16, "8 originals, each above its augmented self");
  for (const [, b64] of images) assert.equal(atob(b64).slice(0, 2), "BM");
  assert.match(section, /#\d+<span class="sub">θ -?\d+\.\d°<\/span>/);
});
