/**
 * Input scaling as spec data: `scaling` ({divide}, a fixed mean and std, the training set's own)
 * beside the older `pixelDivisor`, their contradictions as errors, and the inputs a model gets
 * under each, against values computed by hand (tests/fixtures/replications/augment).
 */
import assert from "assert";
import { fileURLToPath } from "node:url";
import { setupBackend } from "../harness/backend/backend.ts";
import { loadImageDataset, loadManifest } from "../harness/data/datasets.ts";
import { parseSpec } from "../harness/spec/load_spec.ts";
import type { ScalingRun } from "../harness/spec/scaling.ts";
import type { LayersProtocol } from "../harness/spec/spec.ts";
import { specIssues, specWith as layersSpec } from "./_specs.ts";
import { loadReplication } from "../harness/replications.ts";
import { replicate } from "../harness/pipeline/replicate.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/replications", import.meta.url));

const scalingOf = (data: Record<string, unknown>) =>
  parseSpec(data, "spec.json").protocols.map((p) => (p as LayersProtocol).scaling);

Deno.test("pixelDivisor d is scaling {divide: d}; neither divides by 255", () => {
  assert.deepEqual(
    scalingOf(layersSpec({}, { pixelDivisor: 1 }, { scaling: { divide: 1 } }, { scaling: {} })),
    [{ divide: 255 }, { divide: 1 }, { divide: 1 }, { divide: 255 }],
  );
  assert.deepEqual(
    scalingOf(layersSpec(
      { scaling: { mean: 0.1307, std: 0.3081 } },
      { scaling: { standardize: "dataset", divide: 1 } },
    )),
    [{ divide: 255, mean: 0.1307, std: 0.3081 }, { divide: 1, standardize: "dataset" }],
  );
});

Deno.test("a variant's scaling replaces the pixelDivisor it inherits, and the other way", () => {
  assert.deepEqual(
    scalingOf(layersSpec(
      { pixelDivisor: 1 },
      { extends: "p0", scaling: { mean: 0.5, std: 2 } },
      { extends: "p1", pixelDivisor: 65025 },
    )),
    [{ divide: 1 }, { divide: 255, mean: 0.5, std: 2 }, { divide: 65025 }],
  );
});

Deno.test("contradictory or misspelt scaling: every problem at once, each naming its field", () => {
  assert.deepEqual(
    specIssues(layersSpec(
      { scaling: { divide: 255 }, pixelDivisor: 255 },
      { scaling: { mean: 0.1307 } },
      { scaling: { std: 0.3081 } },
      { scaling: { standardize: "dataset", mean: 0.1, std: 0.3 } },
      { scaling: { divde: 255 } },
      { scaling: { standardize: "train" } },
      { scaling: { divide: 0 } },
    )),
    [
      'protocols.0.pixelDivisor: give `scaling` or `pixelDivisor`, not both (`"pixelDivisor": ' +
      '255` is `"scaling": {"divide": 255}`)',
      "protocols.1.scaling.std: give `mean` and `std` together: the inputs are " +
      "(x / divide − mean) / std",
      "protocols.2.scaling.mean: give `mean` and `std` together: the inputs are " +
      "(x / divide − mean) / std",
      'protocols.3.scaling.standardize: give `standardize: "dataset"` (mean and std computed ' +
      "from the training images) or a fixed `mean` and `std`, not both",
      'protocols.4.scaling: unknown key "divde" (did you mean "divide"?)',
      'protocols.5.scaling.standardize: Invalid option: expected one of "dataset"|"pixel"',
      "protocols.6.scaling.divide: Too small: expected number to be >0",
    ],
  );
});

/** Each protocol's run of the augment fixture: 300 training images, one epoch, seed 1. */
async function _train() {
  const rep = await loadReplication("augment", FIXTURES);
  const results = await replicate(rep, {
    seeds: [1],
    protocols: ["augmented", "standardized", "raw"],
    trainLimit: 300,
    backend: await setupBackend("wasm"),
    command: "test",
  });
  assert.equal(results.failures, undefined, JSON.stringify(results.failures));
  return (id: string) => results.runs.find((r) => r.protocol === id)!;
}

let _trained: ReturnType<typeof _train> | undefined;
const runs = () => _trained ??= _train();

Deno.test("the inputs a model gets under each scaling, against values computed by hand", async () => {
  const run = await runs();
  const pixels = (id: string) => run(id).artifacts!.testPixels as [number, number][];
  // Test image 0 of MNIST (a 7): its first pixel is 0, its first bright ones as below.
  assert.deepEqual(pixels("raw").map(([b]) => b), [0, 185, 159, 151]);
  // Raw bytes 0..255 (divide 1: the loader's b/255 times 255, in float32).
  for (const [b, v] of pixels("raw")) assert.ok(Math.abs(v - b) < 2e-5, `${b}: ${v}`);
  // (b/255 − 0.1307) / 0.3081: 0 → −0.1307/0.3081 = −0.424213; 185 → (0.725490 − 0.1307) /
  // 0.3081 = 1.930510; 159 → 0.493830/0.3081 = 1.599576; 151 → 0.461457/0.3081 = 1.497750.
  const normalised = [-0.424213, 1.93051, 1.599576, 1.49775];
  pixels("augmented").forEach(([b, v], i) => {
    assert.ok(Math.abs(v - normalised[i]) < 1e-6, `${b}: ${v} is not ${normalised[i]}`);
  });
  assert.equal(run("raw").scaling, undefined, "a division alone is not recorded");
  assert.deepEqual(run("augmented").scaling, { divide: 255, mean: 0.1307, std: 0.3081 });
});

Deno.test("standardize: the training images' mean and std, recorded and applied", async () => {
  const run = await runs();
  const scaling = run("standardized").scaling as ScalingRun;
  // The first 300 training images (the run's --train-limit), as E[x²] − E[x]² in float64.
  const data = await loadImageDataset(await loadManifest("mnist"));
  const x = data.train.images.subarray(0, 300 * 28 * 28);
  const mean = x.reduce((a, v) => a + v, 0) / x.length;
  const std = Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length - mean * mean);
  assert.equal(scaling.standardize, "dataset");
  assert.equal(scaling.divide, 255);
  assert.ok(Math.abs(scaling.mean - mean) < 1e-12 && Math.abs(scaling.std - std) < 1e-9);
  assert.ok(Math.abs(scaling.mean - 0.127524) < 1e-6, `mean ${scaling.mean}`);
  assert.ok(Math.abs(scaling.std - 0.304358) < 1e-6, `std ${scaling.std}`);
  // The test images take the training set's mean and std: (b/255 − mean) / std.
  for (const [b, v] of run("standardized").artifacts!.testPixels as [number, number][]) {
    const expected = (b / 255 - scaling.mean) / scaling.std;
    assert.ok(Math.abs(v - expected) < 1e-5, `${b}: ${v} is not ${expected}`);
  }
});
