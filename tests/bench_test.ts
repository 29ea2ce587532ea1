import assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { formatSummary, main, parseBenchArgs, runBench } from "../bench/bench.ts";
import { median } from "../bench/cell.ts";
import { BENCH_MODELS, benchSettings } from "../bench/models.ts";
import { join } from "node:path";
import { REPLICATIONS_DIR } from "../harness/util/paths.ts";
import type { ReplicationModule } from "../harness/plugin.ts";
import { loadSpec } from "../harness/spec/load_spec.ts";
import { autoencoder as convAutoencoder } from "../replications/medium-autoencoder/model.ts";
import { cnn as cnnSgd } from "../replications/cnn-sgd/model.ts";
import { renderBenchPage } from "../bench/page.ts";
import { trainingRatios } from "../bench/pytorch.ts";
import { BenchSchema, type Cell, type KernelProfile } from "../bench/schema.ts";
import { profileStep } from "../bench/kernel_profile.ts";

Deno.test("bench: the dense model on cpu, tiny budget, gives a valid bench.json and page", async () => {
  // Other test modules set their backend up themselves; leave the one found (if any) active.
  const previous: string | undefined = tf.getBackend();
  try {
    await tf.setBackend("cpu");
    const tensors = tf.memory().numTensors;
    const bench = await runBench({
      backends: ["cpu"],
      models: ["keras-dense"],
      timing: { seconds: 0.05, repeats: 3, warmupSteps: 1, maxStepSeconds: 30, seed: 1 },
      vsPytorch: false,
      out: "unused",
      quiet: true,
    }, () => {});
    assert.equal(tf.memory().numTensors, tensors, "the cell frees its tensors");
    // What main() writes, read back through the schema.
    const parsed = BenchSchema.parse(JSON.parse(JSON.stringify(bench)));
    assert.equal(parsed.cells.length, 1);
    const cell = parsed.cells[0];
    assert.equal(cell.model, "keras-dense");
    assert.equal(cell.backend, "cpu");
    assert.equal(cell.params, 50890);
    for (const m of [cell.train, cell.fit, cell.inference]) {
      assert.equal(m.status, "ok", JSON.stringify(m));
      if (m.status !== "ok") continue;
      assert.equal(m.repeats.length, 3);
      assert.ok(m.repeats.every((r) => r.steps >= 2 && r.samples === r.steps * 32));
      assert.ok(m.samplesPerSecond > 0);
    }
    assert.ok(cell.fitVsStep !== null && cell.fitVsStep > 0);
    // The step's profile: the dense layers' matrix products are among its kernels.
    const profile = cell.profile!;
    assert.ok(profile.calls > 10 && profile.kernelMs > 0, JSON.stringify(profile));
    assert.ok(profile.top.some((k) => /MatMul/.test(k.kernel)), JSON.stringify(profile.top));
    assert.ok(profile.top.every((k, i) => i === 0 || k.ms <= profile.top[i - 1].ms));
    assertShares(profile, 10);
    assert.equal(parsed.pytorch, null);
    assert.deepEqual(parsed.ratios, []);

    const html = await renderBenchPage(parsed);
    assert.ok(html.includes("<svg"), "the chart is inline SVG");
    assert.ok(!/<script|https?:\/\/(?!www\.w3\.org)/i.test(html), "no script, no external URL");
    assert.match(formatSummary(parsed), /keras-dense\s+cpu/);
    assert.match(formatSummary(parsed), /keras-dense on cpu: \d+ kernel calls/);
  } finally {
    if (previous) await tf.setBackend(previous);
  }
});

/**
 * A profile's shares are each listed kernel's part of the kernel time: all of them sum to 1
 * where the list holds every kernel (fewer than `top`), the first `top` to at most 1.
 */
function assertShares(profile: KernelProfile, top: number) {
  const what = JSON.stringify(profile);
  for (const k of profile.top) {
    assert.ok(Math.abs(k.share * profile.kernelMs - k.ms) <= 1e-9 * profile.kernelMs, what);
  }
  const sum = profile.top.reduce((a, k) => a + k.share, 0);
  assert.ok(profile.top.length <= top, what);
  if (profile.top.length < top) assert.ok(Math.abs(sum - 1) < 1e-9, `Σ shares ${sum}: ${what}`);
  else assert.ok(sum <= 1 + 1e-9, `Σ shares ${sum}: ${what}`);
}

Deno.test("bench: a step's profile shares its kernel time out among its kernels", async () => {
  const previous: string | undefined = tf.getBackend();
  try {
    await tf.setBackend("cpu");
    const x = tf.randomUniform([64, 64], 0, 1, "float32", 1);
    const step = () => tf.tidy(() => x.matMul(x).relu().mul(2).sum());
    const all = await profileStep(step, 100);
    assert.ok(all.kernelMs > 0 && all.top.length >= 3, JSON.stringify(all));
    assertShares(all, 100);
    const two = await profileStep(step, 2);
    assert.equal(two.top.length, 2);
    assertShares(two, 2);
    x.dispose();
  } finally {
    if (previous) await tf.setBackend(previous);
  }
});

Deno.test("bench: model builders have the issue's shapes", () => {
  const cnn = cnnSgd(1), ae = convAutoencoder(1);
  try {
    assert.deepEqual(cnn.outputs[0].shape, [null, 10]);
    // 28 -5-> 24 -pool 3-> 8 -2-> 7 -pool 2-> 3: 3·3·64 = 576 inputs to Dense(500)
    assert.equal(cnn.countParams(), 832 + 8256 + 576 * 500 + 500 + 50100 + 1010);
    assert.deepEqual(ae.outputs[0].shape, [null, 28, 28, 1]);
  } finally {
    cnn.dispose();
    ae.dispose();
  }
  assert.deepEqual(BENCH_MODELS.map((m) => [m.name, m.batchSize]), [
    ["keras-dense", 32],
    ["cnn-sgd", 32],
    ["conv-autoencoder", 128],
  ]);
});

Deno.test("bench: each model trains as its replication's protocol does (spec.json's settings)", async () => {
  for (const m of BENCH_MODELS) {
    const { replication, id } = m.protocol;
    const dir = join(REPLICATIONS_DIR, replication);
    const p = (await loadSpec(join(dir, "spec.json"))).protocols.find((q) => q.id === id);
    assert.ok(p?.kind === "layers", `${replication}: ${id}`);
    const module = await import(join(dir, "model.ts")) as ReplicationModule;
    assert.equal(m.build, module.models?.[p.model], `${m.name}: the protocol's model`);
    assert.equal(m.batchSize, p.batchSize, `${m.name}: batch size`);
    assert.equal(m.loss, p.loss, `${m.name}: loss`);
    const o = m.optimizer();
    assert.equal(o.getConfig().learningRate, p.optimizer.learningRate, `${m.name}: learning rate`);
    o.dispose();
  }
  // Another protocol's settings are taken as they are.
  const slides = (await loadSpec(join(REPLICATIONS_DIR, "keras-dense", "spec.json"))).protocols[0];
  assert.ok(slides.kind === "layers");
  const s = benchSettings({
    ...slides,
    optimizer: { name: "sgd", learningRate: 0.05, momentum: 0.5, nesterov: false },
    loss: "binaryCrossentropy",
    batchSize: 64,
  });
  assert.deepEqual([s.optimizerName, s.loss, s.batchSize], [
    "SGD (lr 0.05, momentum 0.5)",
    "binaryCrossentropy",
    64,
  ]);
  const o = s.optimizer();
  assert.deepEqual(o.getConfig(), { learningRate: 0.05, momentum: 0.5, useNesterov: false });
  o.dispose();
  assert.throws(() => benchSettings({ ...slides, loss: "meanSquaredError" }), /cross-entropy/);
});

Deno.test("bench: command line and ratios", () => {
  const o = parseBenchArgs(["--backends", "cpu,wasm", "--seconds", "1.5", "--vs-pytorch"]);
  assert.ok(o !== "help");
  assert.deepEqual(o.backends, ["cpu", "wasm"]);
  assert.equal(o.timing.seconds, 1.5);
  assert.equal(o.timing.repeats, 3);
  assert.equal(o.vsPytorch, true);
  assert.throws(() => parseBenchArgs(["--backends", "webgl"]), /unknown webgl/);
  assert.throws(() => parseBenchArgs(["--repeats", "0"]), /positive integer/);
  assert.equal(median([3, 1, 2]), 2);

  const ok = (sps: number) => ({
    status: "ok" as const,
    warmupSeconds: 0,
    warmupSteps: 1,
    repeats: [{ steps: 2, samples: 64, seconds: 64 / sps, samplesPerSecond: sps }],
    samplesPerSecond: sps,
  });
  const cell = (backend: Cell["backend"], sps: number): Cell => ({
    model: "m",
    backend,
    adapter: null,
    softwareAdapter: null,
    batchSize: 32,
    params: 1,
    train: ok(sps),
    fit: { status: "error", error: "x" },
    inference: ok(sps),
    fitVsStep: null,
    profile: null,
    loadAverage: null,
    seconds: 1,
  });
  const ratios = trainingRatios([cell("cpu", 100), cell("wasm", 400)], {
    status: "ok",
    python: "3",
    torch: "1",
    threads: 2,
    blas: { buildInfo: null, loadedLibraries: [], alternative: null, summary: "" },
    models: [{ model: "m", batchSize: 32, params: 1, train: ok(200), inference: ok(1) }],
  });
  assert.deepEqual(ratios.map((r) => [r.tfjsBackend, r.ratio]), [["wasm", 2]]);
  assert.deepEqual(trainingRatios([cell("cpu", 1)], { status: "unavailable", reason: "no" }), []);
});

Deno.test("bench: an --out it cannot write stops it before measuring (exit 2)", async () => {
  const file = await Deno.makeTempFile();
  try {
    // A folder inside a plain file cannot be created.
    assert.equal(await main(["--out", `${file}/bench`, "--quiet", "--backends", "cpu"]), 2);
  } finally {
    await Deno.remove(file);
  }
});
