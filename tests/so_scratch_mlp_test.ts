/**
 * Unit tests of the so-scratch-mlp replication's from-scratch network: backprop against finite
 * differences, the source's momentum form, the posted code's split, engines and determinism.
 */
import assert from "assert";
import { setupBackend } from "../harness/backend/backend.ts";
import { deriveSeed, mulberry32 } from "../harness/util/random.ts";
import type { CustomProtocol } from "../harness/spec/spec.ts";
import type { Epoch } from "../harness/results/result.ts";
import { loadReplication } from "../harness/replications.ts";
import {
  backward64,
  checkpointIterations,
  crossEntropy,
  forward64,
  initWeights,
  layerSizes,
  momentumUpdate,
  oneHot,
  outputStats,
  splitDigits,
  step64,
  TfMlp,
} from "../replications/so-scratch-mlp/mlp.ts";
import { trainScratchMlp } from "../replications/so-scratch-mlp/model.ts";
import * as tf from "@tensorflow/tfjs";

/** A digits-shaped table of 1,797 rows with values 0..16 and labels 0..9 in turn. */
function fakeDigits() {
  const rng = mulberry32(99);
  const count = 1797, width = 64;
  const features = Float32Array.from({ length: count * width }, () => Math.floor(rng() * 17));
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return { name: "sklearn-digits", features, labels, count, width, files: [] };
}

function tiny(seed = 3) {
  const sizes = [6, 3, 4, 10], n = 5;
  const rng = mulberry32(seed);
  const x = Float64Array.from({ length: n * sizes[0] }, () => rng() * 2);
  const labels = Uint8Array.from({ length: n }, () => Math.floor(rng() * 10));
  return { sizes, n, x, labels, y: oneHot(labels), w: initWeights(sizes, seed) };
}

/** Central finite difference of `loss` with respect to every weight. */
function numericGrad(w: Float64Array[], loss: () => number, h = 1e-6): Float64Array[] {
  return w.map((layer) =>
    Float64Array.from(layer, (_, i) => {
      const keep = layer[i];
      layer[i] = keep + h;
      const up = loss();
      layer[i] = keep - h;
      const down = loss();
      layer[i] = keep;
      return (up - down) / (2 * h);
    })
  );
}

function maxRelError(a: Float64Array[], b: Float64Array[]): number {
  let worst = 0;
  a.forEach((layer, l) =>
    layer.forEach((v, i) => {
      worst = Math.max(
        worst,
        Math.abs(v - b[l][i]) / Math.max(1e-8, Math.abs(v) + Math.abs(b[l][i])),
      );
    })
  );
  return worst;
}

Deno.test("backprop: the source's gradients are those of the summed sigmoid cross-entropy", () => {
  const { sizes, n, x, y, w } = tiny();
  const out = () => forward64(w, sizes, x, n).at(-1)!;
  const { grads } = backward64(w, sizes, forward64(w, sizes, x, n), y, n);
  const numeric = numericGrad(w, () => crossEntropy(out(), y, n));
  assert.ok(maxRelError(grads, numeric) < 1e-6, `relative error ${maxRelError(grads, numeric)}`);
});

Deno.test("backprop: a − y is ∂(½Σ(a−y)²)/∂a, but the source uses it without σ′ at the output", () => {
  const { sizes, n, x, y, w } = tiny(5);
  const L = w.length;
  const acts = forward64(w, sizes, x, n);
  const squared = () => {
    const a = forward64(w, sizes, x, n).at(-1)!;
    return a.reduce((s, v, i) => s + 0.5 * (v - y[i]) ** 2, 0) / n;
  };
  const numeric = numericGrad(w, squared);
  // Output layer by hand: the squared error's δ_L is (a − y) ⊙ a(1 − a).
  const [hin, out] = [sizes[L - 1], sizes[L]];
  const gOut = new Float64Array(hin * out);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < hin; p++) {
      for (let k = 0; k < out; k++) {
        const a = acts[L][i * out + k];
        gOut[p * out + k] += acts[L - 1][i * hin + p] * (a - y[i * out + k]) * a * (1 - a) / n;
      }
    }
  }
  assert.ok(maxRelError([gOut], [numeric[L - 1]]) < 1e-6);
  // The source's output-layer gradient lacks the factor a(1 − a): not the squared error's.
  const { grads } = backward64(w, sizes, acts, y, n);
  assert.ok(maxRelError([grads[L - 1]], [numeric[L - 1]]) > 0.1);
});

Deno.test("backprop: summing per-image gradients and dividing by N equals the batched product", () => {
  const { sizes, n, x, y, w } = tiny(7);
  const { grads, meanError } = backward64(w, sizes, forward64(w, sizes, x, n), y, n);
  const summed = w.map((l) => new Float64Array(l.length));
  let err = 0;
  for (let i = 0; i < n; i++) {
    const xi = x.slice(i * sizes[0], (i + 1) * sizes[0]);
    const yi = y.slice(i * 10, (i + 1) * 10);
    const one = backward64(w, sizes, forward64(w, sizes, xi, 1), yi, 1);
    one.grads.forEach((g, l) => g.forEach((v, j) => summed[l][j] += v / n));
    err += one.meanError / n;
  }
  assert.ok(maxRelError(grads, summed) < 1e-12);
  assert.ok(Math.abs(err - meanError) < 1e-12);
});

Deno.test("momentum: m −= lr·g; w += m; m *= μ, i.e. heavy ball v = μv − lr·g, w += v", () => {
  const w = Float64Array.of(1), m = Float64Array.of(0.5);
  momentumUpdate(w, m, Float64Array.of(2), 0.1, 0.9);
  assert.ok(Math.abs(m[0] - 0.27) < 1e-15 && Math.abs(w[0] - 1.3) < 1e-15);
  // Over several steps it is heavy-ball momentum with the velocity kept before the decay.
  const gs = [0.3, -1.2, 0.7, 2.0], lr = 0.001, mu = 0.9;
  const w1 = Float64Array.of(0.25), m1 = Float64Array.of(0);
  let w2 = 0.25, v = 0;
  for (const g of gs) {
    momentumUpdate(w1, m1, Float64Array.of(g), lr, mu);
    v = mu * v - lr * g;
    w2 += v;
  }
  assert.ok(Math.abs(w1[0] - w2) < 1e-15);
});

Deno.test("init: weights uniform in [−1, 1), per layer from a derived seed, reproducible", () => {
  const sizes = layerSizes(64, [100, 100, 100]);
  const a = initWeights(sizes, 1), b = initWeights(sizes, 1), c = initWeights(sizes, 2);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a[0], c[0]);
  assert.deepEqual(a.map((l) => l.length), [6400, 10000, 10000, 1000]);
  const all = a.flatMap((l) => [...l]);
  assert.ok(Math.min(...all) >= -1 && Math.max(...all) < 1);
  assert.ok(Math.abs(all.reduce((s, v) => s + v, 0) / all.length) < 0.02);
  const rng = mulberry32(deriveSeed(1, "weights", 0));
  assert.equal(a[0][0], rng() * 2 - 1);
});

Deno.test("split: the posted code trains on 10 images with an empty test set; intended is 80/20", () => {
  const table = fakeDigits();
  const posted = splitDigits(table, "posted", "raw");
  assert.equal(posted.train.n, 10);
  assert.equal(posted.train.first, 0);
  assert.deepEqual([...posted.train.labels], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(posted.test.n, 0);
  assert.equal(posted.test.x.length, 0);
  assert.equal(posted.heldOut.n, 1787);
  assert.equal(posted.heldOut.first, 10);
  const intended = splitDigits(table, "intended", "raw");
  assert.deepEqual([intended.train.n, intended.test.n, intended.test.first], [1437, 360, 1437]);
  assert.equal(intended.heldOut, intended.test);
  const unit = splitDigits(table, "intended", "unit");
  assert.equal(unit.train.x[5], table.features[5] / 16);
  assert.equal(intended.train.x[5], table.features[5]);
});

function ctxFor(params: Record<string, unknown>, seed: number, epochs: number) {
  const records: Epoch[] = [];
  const protocol: CustomProtocol = {
    id: "t",
    source: "004",
    description: "test",
    kind: "custom",
    trainer: "scratch-mlp",
    dataset: "sklearn-digits",
    params,
    epochs,
    exploratory: false,
    uses: [],
  };
  return {
    records,
    ctx: {
      protocol,
      seed,
      epochs,
      data: fakeDigits(),
      checkpoint: (r: Epoch) => void records.push(r),
      loop: () => Promise.reject(new Error("this trainer does not use the epoch loop")),
      order: () => new Int32Array(0),
    },
  };
}

const _noTimes = (rs: Epoch[]) => rs.map(({ seconds: _s, evalSeconds: _e, ...m }) => m);

Deno.test("trainer: the posted variant really uses 10 training images and an empty test set", async () => {
  const { ctx, records } = ctxFor(
    { hidden: [4, 4, 4], split: "posted", scale: "raw", engine: "js-f64" },
    1,
    20,
  );
  const out = await trainScratchMlp(ctx);
  assert.equal(out.samplesPerEpoch, 10);
  assert.deepEqual((out.artifacts as { rows: unknown }).rows, {
    train: 10,
    test: 0,
    heldOut: 1787,
  });
  const last = records.at(-1)!;
  assert.equal(last.epoch, 20);
  assert.deepEqual([last.metrics.train_rows, last.metrics.test_rows], [10, 0]);
  assert.equal(out.params, 64 * 4 + 4 * 4 + 4 * 4 + 4 * 10);
});

Deno.test("trainer: same seed gives the same checkpoints on both engines; another seed does not", async () => {
  await setupBackend("wasm");
  for (const engine of ["js-f64", "tfjs-f32"]) {
    const params = { hidden: [8, 8], split: "intended", scale: "unit", engine };
    const a = ctxFor(params, 4, 30), b = ctxFor(params, 4, 30), c = ctxFor(params, 5, 30);
    await trainScratchMlp(a.ctx);
    await trainScratchMlp(b.ctx);
    await trainScratchMlp(c.ctx);
    assert.deepEqual(_noTimes(a.records), _noTimes(b.records), engine);
    assert.notDeepEqual(_noTimes(a.records), _noTimes(c.records), engine);
    assert.deepEqual(a.records.map((r) => r.epoch), checkpointIterations(30));
  }
});

Deno.test("engines: float32 tfjs iterations track the float64 reference", async () => {
  await setupBackend("wasm");
  const sizes = layerSizes(64, [20, 20]);
  const sets = splitDigits(fakeDigits(), "intended", "unit");
  const x = sets.train.x.slice(0, 200 * 64), labels = sets.train.labels.slice(0, 200);
  const y = oneHot(labels), n = 200;
  const w64 = initWeights(sizes, 8), m64 = w64.map((l) => new Float64Array(l.length));
  const net = new TfMlp(w64, sizes);
  const xt = tf.tensor2d(Float32Array.from(x), [n, 64]), xT = tf.transpose(xt) as tf.Tensor2D;
  const yt = tf.tensor2d(Float32Array.from(y), [n, 10]);
  for (let t = 0; t < 50; t++) {
    const e64 = step64(w64, m64, sizes, x, y, n);
    const e32 = net.step(xt, xT, yt, 0.001, 0.9);
    assert.ok(Math.abs(e32.dataSync()[0] - e64) < 1e-4);
    e32.dispose();
  }
  assert.ok(maxRelError(net.weights(), w64) < 1e-3);
  const o32 = net.activations(xt).at(-1)!, o64 = forward64(w64, sizes, x, n).at(-1)!;
  assert.ok(o32.every((v, i) => Math.abs(v - o64[i]) < 1e-4));
  net.dispose();
  tf.dispose([xt, xT, yt]);
});

Deno.test("metrics: correct at 0.7 means the true output > 0.7 and every other ≤ 0.7", () => {
  const row = (values: Record<number, number>, base = 0) =>
    Array.from({ length: 10 }, (_, k) => values[k] ?? base);
  const out = [
    ...row({ 3: 0.8 }), // correct: only the true class is positive
    ...row({ 3: 0.8, 5: 0.75 }), // two positives: not correct at threshold, arg-max correct
    ...row({ 3: 0.7 }), // exactly 0.7 is not positive
    ...row({ 5: 0.9 }), // wrong class
  ];
  const s = outputStats(out, Uint8Array.of(3, 3, 3, 3));
  assert.equal(s.accThreshold, 0.25);
  assert.equal(s.accTrueHit, 0.5);
  assert.equal(s.acc, 0.75);
  // All-negative outputs already score 0.9 per output.
  assert.equal(outputStats(row({}, 0), Uint8Array.of(0)).accElementwise, 0.9);
  const collapsed = outputStats(row({}, 0.1), Uint8Array.of(4));
  assert.ok(Math.abs(collapsed.meanOutput - 0.1) < 1e-12);
  assert.ok(collapsed.outputSpread < 1e-12 && collapsed.collapseError < 1e-12);
  assert.ok(Math.abs(collapsed.meanError - 1.8) < 1e-12);
});

Deno.test("spec: the replication loads and names its trainer", async () => {
  const rep = await loadReplication("so-scratch-mlp");
  assert.ok(rep.spec.protocols.every((p) => p.kind === "custom" && p.trainer === "scratch-mlp"));
  assert.equal(typeof rep.module.trainers?.["scratch-mlp"], "function");
  assert.equal(typeof rep.module.charts, "function");
});
