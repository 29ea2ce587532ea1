/**
 * `deno task explain`'s scoring (harness/score/explain.ts) on keras-dense's real spec with
 * made-up runs: the perturbations it derives, which protocols explain which, the ranking by
 * distance to the logged curve, and the notes on the claims table (closest variant for a miss,
 * robust / fragile for a hit), also as the page shows them.
 */
import assert from "assert";
import { join } from "node:path";
import { loadReplication } from "../harness/replications.ts";
import { parseSpec } from "../harness/spec/load_spec.ts";
import type { Run } from "../harness/results/result.ts";
import { claimResults } from "../harness/score/claims.ts";
import { claimNotes, rankingText, rankVariants } from "../harness/score/explain.ts";
import {
  perturbationOf,
  PERTURBATIONS,
  variantsOf,
  withPerturbations,
} from "../harness/spec/perturbations.ts";
import { renderReplicationPage } from "../harness/report/report.ts";
import { REPLICATIONS_DIR } from "../harness/util/paths.ts";
import { fixtureResults, fixtureSpec } from "./_fixtures.ts";

const rep = await loadReplication("keras-dense");
const spec = withPerturbations(rep.spec);

/** A run of `protocol` whose test accuracy per epoch is `acc` (loss and params as claimed). */
function run(protocol: string, seed: number, acc: number[]): Run {
  return {
    protocol,
    seed,
    params: 50890,
    epochsPlanned: acc.length,
    epochs: acc.map((a, i) => ({
      epoch: i + 1,
      metrics: { test_acc: a, test_loss: 0.0953, loss: 0.1 },
      seconds: 1,
      evalSeconds: 0.1,
    })),
    finalEpoch: acc.length,
    earlyStop: null,
    warmupSeconds: 0,
    trainSeconds: acc.length,
    samplesPerSecond: 1000,
    diverged: null,
    events: [],
  };
}

const LOGGED = [0.4633, 0.6967, 0.7888, 0.8283, 0.8573];
const STATED = [0.95, 0.962, 0.966, 0.968, 0.969, 0.97, 0.971, 0.971, 0.9714, 0.9716];

Deno.test("explain derives four perturbations of each stated layers protocol, once", () => {
  const ids = spec.protocols.map((p) => p.id);
  for (const x of PERTURBATIONS) {
    assert.ok(ids.includes(`slides.${x.suffix}`) && ids.includes(`blog.${x.suffix}`), x.suffix);
  }
  assert.ok(!ids.some((id) => id.startsWith("sweep-sgd-0.01.")), "no perturbations of sweeps");
  assert.deepEqual(withPerturbations(spec).protocols.length, spec.protocols.length);
  const slides = spec.protocols.find((p) => p.id === "slides")!;
  const lr2 = spec.protocols.find((p) => p.id === "slides.lr-x2")!;
  const half = spec.protocols.find((p) => p.id === "slides.batch-x0.5")!;
  assert.ok(slides.kind === "layers" && lr2.kind === "layers" && half.kind === "layers");
  assert.equal(lr2.optimizer.learningRate, 2 * slides.optimizer.learningRate);
  assert.equal(half.batchSize, slides.batchSize / 2);
  assert.equal(perturbationOf("slides.lr-x0.5")?.label, "lr ×½");
  assert.equal(perturbationOf("sweep-raw-pixels"), undefined);
  // The sweeps extend slides: they explain it (and not blog).
  const ofSlides = variantsOf(spec, "slides").map((p) => p.id);
  assert.ok(ofSlides.includes("sweep-pixels-scaled-twice") && ofSlides.includes("slides.lr-x2"));
  assert.ok(!ofSlides.includes("blog.lr-x2") && !ofSlides.includes("slides"));
  assert.deepEqual(
    variantsOf(spec, "blog").map((p) => p.id).sort(),
    PERTURBATIONS.map((x) => `blog.${x.suffix}`).sort(),
  );
});

Deno.test("explain ranks by distance to the logged curve and notes the claims", () => {
  const runs: Run[] = [1, 2].flatMap((seed) => [
    run("slides", seed, STATED),
    run("sweep-pixels-scaled-twice", seed, LOGGED.map((v) => v + 0.01 * seed)),
    run("sweep-raw-pixels", seed, [0.8, 0.85, 0.87, 0.88, 0.89]),
    run("slides.lr-x2", seed, STATED.map((v) => v - 0.001)),
    run("slides.lr-x0.5", seed, STATED.map((v) => v - 0.02)), // misses the test-acc claim
    run("slides.batch-x2", seed, STATED),
    run("slides.batch-x0.5", seed, STATED),
  ]);
  const ranked = rankVariants(spec, "slides", runs);
  assert.equal(ranked[0].protocol, "sweep-pixels-scaled-twice");
  assert.equal(ranked[0].curves[0].points, 5);
  assert.ok(Math.abs(ranked[0].curves[0].rms - 0.015) < 1e-6, `${ranked[0].curves[0].rms}`);
  const stated = ranked.find((s) => s.protocol === "slides")!;
  assert.ok(stated.curves[0].rms > 0.1 && stated.label === "as stated");
  assert.equal(ranked.length, 7); // variants without runs are not ranked
  const text = rankingText("slides", ranked);
  assert.match(text, /^slides: 6 variant\(s\) beside the protocol as stated, ranked by RMS/);
  assert.match(text, /\n1 +sweep-pixels-scaled-twice +exploratory +2 +0\.0150 \(5 ep\.\)/);

  const main = claimResults(spec, runs.filter((r) => r.protocol === "slides"));
  const notes = claimNotes(spec, main, runs);
  assert.equal(main.find((c) => c.id === "curve-epoch-1")!.verdict, "not reproduced");
  assert.match(
    notes.get("curve-epoch-1")!,
    /^closest: sweep-pixels-scaled-twice, RMS 0\.015 over 5 epochs, n = 2$/,
  );
  assert.equal(main.find((c) => c.id === "test-acc")!.verdict, "reproduced");
  assert.equal(notes.get("test-acc"), "fragile: fails at lr ×½");
  assert.match(notes.get("params")!, /^robust to lr ×½, lr ×2, batch ×½, batch ×2$/);
  assert.equal(notes.has("blog-acc"), false); // blog has no variant runs here
});

Deno.test("the claims table shows explain's notes; without explain results, none", async () => {
  const results = fixtureResults();
  const page = (explained?: typeof results) =>
    renderReplicationPage(results, fixtureSpec(), { explained });
  assert.doesNotMatch(await page(), /data-explain/);
  const target = results.claims[0];
  const runs = results.runs.filter((r) => r.protocol === target.protocol).flatMap((r) =>
    PERTURBATIONS.map((x) => ({ ...r, protocol: `${target.protocol}.${x.suffix}` }))
  );
  const html = await page({ ...results, runs });
  assert.match(html, /data-explain>(robust to|fragile: fails at|closest: )/);
});

Deno.test("a protocol explains the one it extends unless it names another; unknown ones fail", async () => {
  const raw = JSON.parse(
    await Deno.readTextFile(join(REPLICATIONS_DIR, "keras-dense", "spec.json")),
  );
  const loaded = parseSpec(raw, "spec.json");
  assert.equal(loaded.protocols.find((p) => p.id === "sweep-raw-pixels")!.explains, "slides");
  assert.equal(loaded.protocols.find((p) => p.id === "slides")!.explains, undefined);
  raw.protocols.find((p: { id: string }) => p.id === "sweep-raw-pixels").explains = "blog";
  const named = parseSpec(structuredClone(raw), "spec.json");
  assert.equal(named.protocols.find((p) => p.id === "sweep-raw-pixels")!.explains, "blog");
  assert.ok(!variantsOf(named, "slides").some((p) => p.id === "sweep-raw-pixels"));
  raw.protocols.find((p: { id: string }) => p.id === "sweep-raw-pixels").explains = "slidez";
  assert.throws(
    () => parseSpec(raw, "spec.json"),
    /protocols\.\d+\.explains: "slidez" is not another protocol/,
  );
});
