/**
 * The plugin contract end to end: fixture replications under tests/fixtures/replications/
 * declare their protocols as data (reconstruction targets, derived datasets with several
 * outputs, a frozen stage, a diverging protocol) and are rerun with `replicate` on wasm (the
 * diverging one on cpu too), on a few hundred training images and 1–2 epochs; `deno task new`'s
 * template is rerun the same way; and the new spec forms (`extends`, curves, `uses`, unknown
 * keys) are validated by `parseSpec`.
 */
import assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { fileURLToPath } from "node:url";
import { type BackendInfo, setupBackend } from "../harness/backend/backend.ts";
import { newReplication } from "../harness/commands/new.ts";
import { loadReplication } from "../harness/replications.ts";
import { renderReplicationPage } from "../harness/report/report.ts";
import { parseResults, type Results } from "../harness/results/result.ts";
import { parseSpec } from "../harness/spec/load_spec.ts";
import { type ReplicationSpec, SpecError } from "../harness/spec/spec.ts";
import { replicate, type ReplicateOptions } from "../harness/pipeline/replicate.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/replications", import.meta.url));

let _backend: BackendInfo | undefined;
async function backend(): Promise<BackendInfo> {
  return _backend ??= await setupBackend("wasm");
}

/** Reruns a replication of `dir` with one seed on 512 training images, 1 epoch, in this process. */
async function rerun(
  name: string,
  opts: Partial<ReplicateOptions> = {},
  dir = FIXTURES,
): Promise<Results> {
  const rep = await loadReplication(name, dir);
  const t0 = performance.now();
  const results = await replicate(rep, {
    seeds: [1],
    backend: opts.backend ?? await backend(),
    command: "test",
    trainLimit: 512,
    epochs: 1,
    jobs: 1,
    ...opts,
  });
  assert.equal(tf.getBackend(), results.backend.name, "trained on another backend than recorded");
  console.log(`${name}: replicate took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return results;
}

function finite(x: number | null | undefined, what: string): number {
  assert.ok(typeof x === "number" && Number.isFinite(x), `${what}: ${x} is not a finite number`);
  return x;
}

Deno.test("plugin: reconstruction targets (input) record losses on every split and no accuracy", async () => {
  const results = await rerun("recon", { epochs: 2 });
  assert.deepEqual(results.datasets.map((d) => d.name), ["mnist"]);
  assert.equal(results.runs.length, 1);
  const run = results.runs[0];
  assert.equal(run.protocol, "ae");
  assert.equal(run.diverged, null);
  // 784·32 + 32 + 32·784 + 784 parameters.
  assert.equal(run.params, 784 * 32 + 32 + 32 * 784 + 784);
  assert.ok(run.epochs.length >= 1 && run.epochs.length <= 2);
  for (const e of run.epochs) {
    assert.deepEqual(Object.keys(e.metrics).sort(), ["test_loss", "train_loss", "val_loss"]);
    for (const k of ["train_loss", "val_loss", "test_loss"]) {
      const v = finite(e.metrics[k], `epoch ${e.epoch} ${k}`);
      // Per-pixel binary cross-entropy, averaged: a sigmoid output starts near ln 2 ≈ 0.69.
      assert.ok(v > 0 && v < 1, `epoch ${e.epoch} ${k} = ${v}`);
    }
    assert.ok(!("test_acc" in e.metrics));
  }
  // Early stopping on val_loss (patience 1) either ran both epochs or stopped at epoch 2.
  if (run.earlyStop) {
    assert.equal(run.earlyStop.monitor, "val_loss");
    assert.equal(run.earlyStop.epoch, 2);
  } else assert.equal(run.epochs.length, 2);
  // Training on 80 % of 512 images moves the loss off its starting point (≈ 0.69).
  assert.ok(run.epochs.at(-1)!.metrics.test_loss! < 0.6, "the autoencoder did not learn");
  const claim = results.claims.find((c) => c.id === "recon-loss");
  assert.ok(claim, "claim recon-loss has no result");
  assert.equal(claim.better, "lower");
  assert.equal(
    claim.values[0],
    run.epochs.find((e) => e.epoch === run.finalEpoch)!.metrics.test_loss,
  );
});

Deno.test("plugin: derived pairs with two outputs of different losses", async () => {
  const results = await rerun("pairs");
  const run = results.runs[0];
  assert.equal(run.protocol, "two-heads");
  assert.equal(run.diverged, null);
  const m = run.epochs.at(-1)!.metrics;
  for (
    const k of [
      "train_loss",
      "train_loss.sum_units",
      "train_loss.same",
      "train_acc.sum_units",
      "train_acc.same",
      "test_loss",
      "test_loss.sum_units",
      "test_loss.same",
      "test_acc.sum_units",
      "test_acc.same",
    ]
  ) finite(m[k], k);
  assert.ok(!("test_acc" in m), "a model with named outputs has no unnamed test_acc");
  // Keras' summed loss: the total is the sum of the outputs' losses.
  for (const split of ["train", "test"]) {
    const total = m[`${split}_loss`]!,
      parts = m[`${split}_loss.sum_units`]! + m[`${split}_loss.same`]!;
    assert.ok(Math.abs(total - parts) < 1e-5, `${split}_loss ${total} ≠ ${parts}`);
  }
  // Categorical cross-entropy over 10 classes starts near ln 10; binary near ln 2.
  assert.ok(m["train_loss.sum_units"]! > m["train_loss.same"]!);
  for (const k of ["test_acc.sum_units", "test_acc.same"]) {
    assert.ok(m[k]! >= 0 && m[k]! <= 1, `${k} = ${m[k]}`);
  }
  const claim = results.claims.find((c) => c.id === "same-acc");
  assert.ok(claim, "claim same-acc has no result");
  assert.equal(claim.better, "higher");
  assert.equal(claim.metric, "test_acc.same");
  assert.equal(claim.values[0], m["test_acc.same"]);
});

Deno.test("plugin: a stage's trained encoder, frozen in a later protocol", async () => {
  const results = await rerun("frozen-probe", { protocols: ["probe"] });
  // Asking for "probe" brings the stage it uses, trained once for the seed, before it.
  assert.deepEqual(results.grid, [{ protocol: "ae", seed: 1 }, { protocol: "probe", seed: 1 }]);
  assert.deepEqual(results.runs.map((r) => [r.protocol, r.seed]), [["ae", 1], ["probe", 1]]);
  const [ae, probe] = results.runs;
  const a = ae.artifacts as { encoderChecksum: number; initialChecksum: number };
  const p = probe.artifacts as {
    encoderChecksum: number;
    trainable: number[][];
    nonTrainable: number[][];
  };
  assert.ok(a && p, "the fixture's artifact recorders did not run");
  // ae trained its encoder; probe ends with exactly those weights, untouched by its training.
  assert.notEqual(a.encoderChecksum, a.initialChecksum);
  assert.equal(p.encoderChecksum, a.encoderChecksum);
  assert.deepEqual(p.trainable, [[32, 10], [10]]);
  assert.deepEqual(p.nonTrainable, [[784, 32], [32]]);
  assert.equal(probe.params, 784 * 32 + 32 + 32 * 10 + 10);
  finite(probe.epochs.at(-1)!.metrics.test_acc, "probe test_acc");
  assert.ok(results.claims.some((c) => c.id === "probe-acc"));
});

// Divergence. The fixture scales pixels to ~2.55e38, so a logit's weighted sum overflows
// float32 and the softmax gives NaN in the first batch.
//
// Three ways a diverged run used to be lost or misjudged, each tested below: a NaN event value
// broke the results schema; an accuracy of NaN predictions is finite (argMax of NaN is 0); and
// the wasm backend's clipByValue maps NaN into range, hiding NaN behind a finite clipped loss.

/** The diverge fixture rerun on `name`'s backend, then back to wasm for the other tests. */
async function rerunDiverge(name: "cpu" | "wasm"): Promise<Results> {
  try {
    return await rerun("diverge", { epochs: 2, backend: await setupBackend(name) });
  } finally {
    await tf.setBackend((await backend()).name);
  }
}

let _diverged: Promise<Results> | undefined;
/** The diverge fixture rerun on cpu (once for the tests that read it). */
function divergedOnCpu(): Promise<Results> {
  return _diverged ??= rerunDiverge("cpu");
}

Deno.test("plugin: a diverging protocol gives valid results, a diverged run and page", async () => {
  const rep = await loadReplication("diverge", FIXTURES);
  const results = await divergedOnCpu();
  assert.equal(results.backend.name, "cpu");
  // What replicate returns survives JSON (NaN stored as null) and the schema on read.
  const reread = parseResults(JSON.stringify(results), "results.json");
  assert.deepEqual(reread, JSON.parse(JSON.stringify(results)));
  const run = reread.runs[0];
  assert.ok(run.diverged, "the run did not diverge");
  assert.equal(run.diverged.epoch, 1);
  // A diverged run stops at the epoch it diverged, with why the metric is missing.
  assert.equal(run.epochs.length, 1);
  const last = run.epochs[0];
  assert.equal(last.metrics[run.diverged.metric], null);
  assert.equal(last.nonFinite?.[run.diverged.metric], "NaN");
  assert.ok(run.events.some((e) => e.key === "run_stop" && e.value === "diverged"));
  // A claim on a loss (NaN) is diverged, and its evidence says where.
  const loss = reread.claims.find((c) => c.id === "loss");
  assert.ok(loss, "claim loss has no result");
  assert.equal(loss.verdict, "diverged", `${loss.verdict} (${loss.evidence})`);
  assert.deepEqual(loss.values, [null]);
  assert.equal(loss.stats, null);
  assert.match(loss.evidence, /seed 1 diverged at epoch 1/);
  const html = await renderReplicationPage(reread, rep.spec);
  assert.match(html, /diverged/);
  assert.match(html, /at epoch 1/);
});

Deno.test("plugin: every claim on a diverged run is diverged, even a finite accuracy", async () => {
  const results = await divergedOnCpu();
  const acc = results.claims.find((c) => c.id === "acc");
  assert.ok(acc, "claim acc has no result");
  assert.equal(acc.verdict, "diverged", `${acc.verdict} (${acc.evidence})`);
});

Deno.test("plugin: a run whose outputs are NaN diverges on wasm too", async () => {
  const results = await rerunDiverge("wasm");
  assert.equal(results.backend.name, "wasm");
  assert.equal(results.runs[0].diverged?.epoch, 1, JSON.stringify(results.runs[0].epochs));
  assert.equal(results.claims.find((c) => c.id === "loss")?.verdict, "diverged");
});

Deno.test("plugin: deno task new makes a replication that reruns as it is", async () => {
  const dir = await Deno.makeTempDir({ prefix: "claimcheck-new-" });
  try {
    const folder = await newReplication("demo-claim", dir);
    const spec = JSON.parse(await Deno.readTextFile(`${folder}/spec.json`));
    assert.equal(spec.name, "demo-claim");
    // The harness by its import-map name, not a path into the checkout: the folder may move.
    const model = await Deno.readTextFile(`${folder}/model.ts`);
    assert.match(model, /^import \{[^}]*\} from "claimcheck\/plugin";$/m);
    assert.doesNotMatch(model, /harness\/plugin\.ts/);
    const results = await rerun("demo-claim", { trainLimit: 1024 }, dir);
    assert.equal(results.replication, "demo-claim");
    const claim = results.claims.find((c) => c.id === "test-acc");
    assert.ok(claim, "the template's claim has no result");
    assert.equal(claim.metric, "test_acc");
    assert.equal(claim.better, "higher");
    // 1024 images, one epoch of a 64-unit dense net: far above chance (0.1).
    assert.ok(finite(claim.values[0], "test_acc") > 0.5, `test_acc ${claim.values[0]}`);
    await assert.rejects(newReplication("demo-claim", dir), /exists already/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- spec validation of the new forms ----------------------------------------------------------

type _Json = Record<string, unknown>;

function baseSpec(): _Json {
  return {
    version: 2,
    name: "forms",
    title: "spec forms",
    sources: [{ id: "src", url: "https://example.com/", title: "source" }],
    protocols: [{
      id: "base",
      source: "src",
      description: "base protocol",
      model: "dense",
      dataset: "mnist",
      loss: "categoricalCrossentropy",
      optimizer: { name: "adam" },
      batchSize: 32,
      epochs: 5,
    }],
    claims: [{
      id: "acc",
      source: "src",
      where: "here",
      statement: "97 %",
      protocol: "base",
      metric: "test_acc",
      claimed: 0.97,
      compare: "atLeast",
      epsilon: 0.005,
    }],
    defaultSeeds: 3,
  };
}

function withProtocols(...extra: _Json[]): _Json {
  const spec = baseSpec();
  spec.protocols = [...spec.protocols as _Json[], ...extra];
  return spec;
}

/** parseSpec, awaited (it may check asynchronously). */
async function parse(data: unknown): Promise<ReplicationSpec> {
  return await parseSpec(data, "spec.json");
}

/** Asserts that parsing `data` throws a SpecError with an issue matching `re`. */
async function rejectsWith(data: unknown, re: RegExp): Promise<void> {
  await assert.rejects(async () => await parse(data), (e: unknown) => {
    assert.ok(e instanceof SpecError, `not a SpecError: ${e}`);
    assert.ok(e.issues.some((i) => re.test(i)), `no issue matches ${re}: ${e.issues.join(" | ")}`);
    return true;
  });
}

Deno.test("spec: extends inherits every field but the id and overrides what it gives", async () => {
  const spec = await parse(withProtocols(
    { id: "sgd", extends: "base", description: "with SGD", optimizer: { name: "sgd" } },
    { id: "sgd-b128", extends: "sgd", batchSize: 128, exploratory: true },
  ));
  const [base, sgd, b128] = spec.protocols;
  assert.equal(sgd.id, "sgd");
  assert.ok(sgd.kind === "layers" && b128.kind === "layers" && base.kind === "layers");
  assert.equal(sgd.description, "with SGD");
  assert.deepEqual(sgd.optimizer, {
    name: "sgd",
    learningRate: 0.01,
    momentum: 0,
    nesterov: false,
  });
  assert.equal(sgd.model, "dense");
  assert.equal(sgd.batchSize, 32);
  assert.equal(sgd.epochs, 5);
  // A chain: sgd-b128 ← sgd ← base.
  assert.equal(b128.id, "sgd-b128");
  assert.equal(b128.description, "with SGD");
  assert.equal(b128.optimizer.name, "sgd");
  assert.equal(b128.batchSize, 128);
  assert.equal(b128.exploratory, true);
  assert.equal(sgd.exploratory, false);
  // The base is unchanged.
  assert.deepEqual([base.optimizer.name, base.optimizer.learningRate], ["adam", 0.001]);
  assert.ok(!("extends" in sgd));
});

Deno.test("spec: an unknown or cyclic extends names protocols.N.extends", async () => {
  await rejectsWith(
    withProtocols({ id: "v", extends: "nope", description: "variant" }),
    /^protocols\.1\.extends: .*"nope".*\bbase\b/,
  );
  await rejectsWith(
    withProtocols({ id: "x", extends: "y" }, { id: "y", extends: "x" }),
    /^protocols\.\d\.extends: cycle/,
  );
});

Deno.test("spec: a curve claim becomes one claim per point, <id>-epoch-<n>", async () => {
  const data = baseSpec();
  const { claimed: _, ...claim } = (data.claims as _Json[])[0];
  data.claims = [{ ...claim, id: "curve", curve: { "1": 0.9, "3": 0.95, "5": 0.97 } }];
  const spec = await parse(data);
  assert.deepEqual(
    spec.claims.map((c) => [c.id, c.epoch, c.claimed]),
    [["curve-epoch-1", 1, 0.9], ["curve-epoch-3", 3, 0.95], ["curve-epoch-5", 5, 0.97]],
  );
  assert.ok(spec.claims.every((c) => c.metric === "test_acc" && c.protocol === "base"));
  // A point past the protocol's epochs names the expanded claim.
  data.claims = [{ ...claim, id: "curve", curve: { "6": 0.98 } }];
  await rejectsWith(data, /^claims\.0\.epoch: .*\b6\b.*"base"/);
});

Deno.test("spec: a claim metric the protocol does not record names claims.N.metric", async () => {
  const data = baseSpec();
  const claim = (data.claims as _Json[])[0];
  data.claims = [claim, { ...claim, id: "val", metric: "val_loss" }];
  await rejectsWith(data, /^claims\.1\.metric: .*"val_loss"/);
  // With a validation split it does; a named output's metric needs that output.
  const ok = baseSpec();
  (ok.protocols as _Json[])[0].validationSplit = 0.1;
  ok.claims = [{ ...claim, id: "val", metric: "val_loss" }];
  assert.equal((await parse(ok)).claims[0].metric, "val_loss");
  data.claims = [{ ...claim, metric: "test_acc.same" }];
  await rejectsWith(data, /^claims\.0\.metric: .*"test_acc\.same"/);
});

Deno.test("spec: uses must name an earlier protocol", async () => {
  const data = withProtocols({ id: "later", extends: "base", description: "a stage" });
  (data.protocols as _Json[])[0].uses = ["later"];
  await rejectsWith(data, /^protocols\.0\.uses: .*"later"/);
  (data.protocols as _Json[])[0].uses = ["missing"];
  await rejectsWith(data, /^protocols\.0\.uses: .*"missing"/);
  // The other way round is fine.
  const ok = withProtocols({
    id: "later",
    extends: "base",
    description: "a stage",
    uses: ["base"],
  });
  assert.deepEqual((await parse(ok)).protocols[1].uses, ["base"]);
});

Deno.test("spec: an unknown key is rejected", async () => {
  const data = baseSpec();
  (data.protocols as _Json[])[0].exploritory = true;
  await rejectsWith(data, /^protocols\.0.*"exploritory"/);
  const top = { ...baseSpec(), gate: [] };
  await rejectsWith(top, /"gate"/);
});
