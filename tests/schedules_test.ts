/**
 * Keras' learning-rate schedules and callbacks as spec data: ExponentialDecay and
 * PiecewiseConstantDecay per step against values computed by hand from Keras' formulas,
 * ReduceLROnPlateau on scripted metric sequences under each Keras version's rule, the learning
 * rate reaching each kind of optimizer, validation, and a short rerun that records the learning
 * rate of every epoch.
 */
import assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { fileURLToPath } from "node:url";
import { setupBackend } from "../harness/backend/backend.ts";
import {
  type PlateauRule,
  plateauRule,
  type ReduceLROnPlateau,
  scheduledLearningRate,
} from "../harness/spec/schedules.ts";
import type { LayersProtocol } from "../harness/spec/spec.ts";
import { parseSpec } from "../harness/spec/load_spec.ts";
import { withPerturbations } from "../harness/spec/perturbations.ts";
import { layersProtocol, specIssues, specWith } from "./_specs.ts";
import { makeOptimizer } from "../harness/train/keras_optimizers.ts";
import { LearningRates, PlateauReducer } from "../harness/train/learning_rates.ts";
import { loadReplication } from "../harness/replications.ts";
import { replicate } from "../harness/pipeline/replicate.ts";
import { learningRateSpec, renderSvg } from "../harness/report/chart.ts";
import { renderReplicationPage } from "../harness/report/report.ts";

await setupBackend("wasm");

/** A protocol with a validation split, trained `epochs` epochs, with `fields`. */
function protocol(fields: Record<string, unknown>, epochs = 3): LayersProtocol {
  return layersProtocol({ validationSplit: 0.1, epochs, ...fields });
}

Deno.test("ExponentialDecay per step: lr₀·rate^(step/decaySteps), floored with staircase", () => {
  const s = {
    name: "exponentialDecay" as const,
    initialLearningRate: 0.1,
    decaySteps: 10,
    decayRate: 0.96,
    staircase: false,
  };
  // Keras: initial_learning_rate * decay_rate ^ (step / decay_steps), step = iterations from 0.
  assert.equal(scheduledLearningRate(s, 0), 0.1);
  assert.ok(Math.abs(scheduledLearningRate(s, 5) - 0.09797958971132712) < 1e-16);
  assert.ok(Math.abs(scheduledLearningRate(s, 25) - 0.1 * 0.96 ** 2.5) < 1e-16);
  const stair = { ...s, staircase: true };
  assert.equal(scheduledLearningRate(stair, 9), 0.1);
  assert.ok(Math.abs(scheduledLearningRate(stair, 10) - 0.096) < 1e-16);
  assert.ok(Math.abs(scheduledLearningRate(stair, 29) - 0.09216) < 1e-16);
  assert.ok(Math.abs(scheduledLearningRate(stair, 30) - 0.0884736) < 1e-16);
});

Deno.test("PiecewiseConstantDecay per step: values[i] while boundaries[i−1] < step ≤ boundaries[i]", () => {
  // Keras' docstring example: 1.0 for the first 100001 steps, 0.5 for the next 10000, then 0.1.
  const s = {
    name: "piecewiseConstantDecay" as const,
    boundaries: [100000, 110000],
    values: [1.0, 0.5, 0.1],
  };
  const at = (step: number) => scheduledLearningRate(s, step);
  assert.deepEqual([0, 100000, 100001, 110000, 110001, 10 ** 9].map(at), [
    1.0,
    1.0,
    0.5,
    0.5,
    0.1,
    0.1,
  ]);
});

/** ReduceLROnPlateau's defaults in Keras' signature (monitor="val_loss", factor=0.1, …). */
const KERAS_PLATEAU: ReduceLROnPlateau = {
  monitor: "val_loss",
  factor: 0.1,
  patience: 10,
  minDelta: 1e-4,
  cooldown: 0,
  minLr: 0,
  mode: "auto",
};

/** The learning rates after each epoch of a scripted sequence of monitored values. */
function plateau(
  r: Partial<ReduceLROnPlateau>,
  values: number[],
  rule: PlateauRule = "tf",
  lr0 = 0.1,
  lower = true,
): number[] {
  const reducer = new PlateauReducer({ ...KERAS_PLATEAU, ...r }, lower, rule);
  let lr = lr0;
  return values.map((v) => lr = reducer.next(v, lr));
}

Deno.test("ReduceLROnPlateau follows Keras 3 on a scripted metric: patience, min_delta, cooldown, min_lr", () => {
  // Traced by hand through keras/src/callbacks/reduce_lr_on_plateau.py (monitor_op
  // a < best − min_delta; the cooldown counted down first; wait += 1, then wait ≥ patience;
  // old_lr > float32(min_lr); new_lr = max(old_lr·factor, min_lr) into a float32 variable).
  const values = [1.0, 0.995, 0.993, 0.95, 0.945, 0.944, 0.943, 0.942, 0.941, 0.5, 0.6, 0.6, 0.6];
  const f32 = Math.fround;
  const [a, b, c, floor] = [f32(0.05), f32(0.025), f32(0.0125), f32(0.01)];
  assert.deepEqual(
    plateau({ factor: 0.5, patience: 2, minDelta: 0.01, cooldown: 1, minLr: 0.01 }, values),
    [
      0.1, // 1.0: the first value improves on +∞
      0.1, // 0.995 is not below 1.0 − 0.01: wait 1
      a, // 0.993: wait 2 = patience: 0.1 → 0.05 (float32), cooldown 1
      a, // in cooldown (counted down to 0); 0.95 improves: best 0.95
      a, // 0.945 is not below 0.94: wait 1
      b, // wait 2: 0.05 → 0.025, cooldown 1
      b, // cooldown counted down to 0 first, so this epoch counts: wait 1
      c, // wait 2: 0.025 → 0.0125
      c, // wait 1
      c, // 0.5 improves
      c, // wait 1
      floor, // wait 2: 0.0125·0.5 = 0.00625, held at min_lr 0.01
      floor, // wait 1 (after the cooldown)
    ],
  );
  // At min_lr (float32(0.01) is not above float32(0.01)) nothing more happens.
  const more = plateau(
    { factor: 0.5, patience: 2, minDelta: 0.01, cooldown: 1, minLr: 0.01 },
    [...values, 0.6, 0.6, 0.6],
  );
  assert.deepEqual(more.slice(-4), [floor, floor, floor, floor]);
  // mode max (an accuracy): a rise by more than min_delta is an improvement.
  assert.deepEqual(
    plateau(
      { factor: 0.5, patience: 1, minDelta: 0.01 },
      [0.5, 0.6, 0.605, 0.7, 0.7],
      "tf",
      0.1,
      false,
    ),
    [0.1, 0.1, f32(0.05), f32(0.05), f32(0.025)],
  );
});

Deno.test("ReduceLROnPlateau before Keras 2.1.6 reduces one epoch later; before 2.1.3 above min_lr·(1 + 1e-4)", () => {
  assert.deepEqual(
    [plateauRule("2.0.8"), plateauRule("2.1.5"), plateauRule("2.1.6"), plateauRule("2.2.4")],
    ["2.0", "2.1.3", "2.1.6", "2.1.6"],
  );
  assert.deepEqual([plateauRule("2.6"), plateauRule("2.15"), plateauRule(undefined)], [
    "tf",
    "tf",
    "tf",
  ]);
  const flat = [1, 1, 1, 1, 1, 1];
  const r = { factor: 0.5, patience: 2, minDelta: 0 };
  const f32 = Math.fround;
  // Keras 2.1.6 on: wait += 1, then wait ≥ patience.
  for (const rule of ["tf", "2.1.6"] as const) {
    assert.deepEqual(plateau(r, flat, rule), [
      0.1,
      0.1,
      f32(0.05),
      f32(0.05),
      f32(0.025),
      f32(0.025),
    ]);
  }
  // Keras 2.0–2.1.5 (keras/callbacks.py): wait ≥ patience checked first, then wait += 1.
  for (const rule of ["2.0", "2.1.3"] as const) {
    assert.deepEqual(plateau(r, flat, rule), [0.1, 0.1, 0.1, f32(0.05), f32(0.05), f32(0.025)]);
  }
  // min_lr 0.05 and a learning rate just above it: 2.0–2.1.2 also want it above
  // min_lr + min_lr·1e-4 = 0.050005; 2.1.3 on reduce it to min_lr (tf.keras comparing in float32).
  const near = { factor: 0.5, patience: 0, minDelta: 0, minLr: 0.05 };
  assert.deepEqual(plateau(near, [1, 1], "2.0", 0.0500001), [0.0500001, 0.0500001]);
  assert.deepEqual(plateau(near, [1, 1], "2.1.3", 0.0500001), [0.0500001, f32(0.05)]);
  assert.deepEqual(plateau(near, [1, 1], "tf", 0.0500001), [0.0500001, f32(0.05)]);
});

/** Weights after `epochs` × `steps` steps with gradient 1 on one weight from 0, and the run's records. */
function drive(p: LayersProtocol, epochs: number, steps: number, losses: number[] = []) {
  const w = tf.variable(tf.zeros([1]));
  const optimizer = makeOptimizer(p.optimizer, p.keras);
  const rates = new LearningRates(p, optimizer);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    rates.beginEpoch(epoch);
    for (let s = 0; s < steps; s++) {
      rates.beforeStep(epoch);
      optimizer.applyGradients({ [w.name]: tf.ones([1]) });
    }
    rates.endEpoch({ train_loss: losses[epoch - 1] ?? 1 });
  }
  const out = w.dataSync()[0];
  tf.dispose(w);
  optimizer.dispose();
  return { w: out, records: rates.records };
}

Deno.test("the learning rate reaches each kind of optimizer, step by step, and is recorded", () => {
  // Keras' SGD with a per-step schedule: w = −Σ lr(step).
  const exp = {
    learningRateSchedule: {
      name: "exponentialDecay",
      initialLearningRate: 0.1,
      decaySteps: 2,
      decayRate: 0.5,
    },
  };
  const sgd = drive(protocol({ ...exp, keras: "3" }), 2, 3);
  const lrs = [0, 1, 2, 3, 4, 5].map((s) => 0.1 * 0.5 ** (s / 2));
  assert.ok(Math.abs(sgd.w + lrs.reduce((a, b) => a + b)) < 1e-6, `${sgd.w}`);
  assert.deepEqual(sgd.records, [
    { epoch: 1, first: lrs[0], last: lrs[2] },
    { epoch: 2, first: lrs[3], last: lrs[5] },
  ]);
  // tfjs' momentum (no Keras version): a ← μa + g; w ← w − lr·a, lr from the schedule.
  const mom = drive(protocol({ ...exp, optimizer: { name: "sgd", momentum: 0.9 } }), 2, 3);
  let a = 0, w = 0;
  for (const lr of lrs) (a = 0.9 * a + 1, w -= lr * a);
  assert.ok(Math.abs(mom.w - w) < 1e-5, `${mom.w} ${w}`);
  // tfjs' Adam: with g = 1 every step, m̂ = v̂ = 1, so each step moves by lr/(1 + ε).
  const adam = drive(protocol({ ...exp, optimizer: { name: "adam" } }), 2, 3);
  assert.ok(Math.abs(adam.w + lrs.reduce((x, y) => x + y) / (1 + 1e-7)) < 1e-5, `${adam.w}`);
  // Keras 2.2.4's SGD: the table sets the base rate at epochs 1 and 3, ReduceLROnPlateau halves
  // it after epoch 2 (train_loss not improving), and the legacy decay divides each step's.
  const legacy = drive(
    protocol({
      keras: "2.2.4",
      optimizer: { name: "sgd", decay: 0.5 },
      learningRateScheduler: { "1": 0.2, "4": 0.01 },
      reduceLROnPlateau: { monitor: "train_loss", factor: 0.5, patience: 1 },
    }, 4),
    4,
    2,
    [1, 1, 1, 1],
  );
  const base = [0.2, 0.2, Math.fround(0.2) * 0.5, 0.01];
  const expected = base.flatMap((b, e) => [b / (1 + 0.5 * 2 * e), b / (1 + 0.5 * (2 * e + 1))]);
  assert.deepEqual(
    legacy.records,
    base.map((_, e) => ({ epoch: e + 1, first: expected[2 * e], last: expected[2 * e + 1] })),
  );
  assert.ok(Math.abs(legacy.w + expected.reduce((x, y) => x + y)) < 1e-6, `${legacy.w}`);
});

Deno.test("a protocol without schedules never sets its optimizer's learning rate", () => {
  const p = protocol({ optimizer: { name: "adam" } });
  const optimizer = makeOptimizer(p.optimizer, p.keras);
  let set = 0;
  (optimizer as unknown as { setLearningRate(lr: number): void }).setLearningRate = () =>
    void set++;
  const rates = new LearningRates(p, optimizer);
  for (let epoch = 1; epoch <= 3; epoch++) {
    rates.beginEpoch(epoch);
    rates.beforeStep(epoch);
    rates.endEpoch({ val_loss: 1 });
  }
  assert.equal(set, 0);
  assert.deepEqual(rates.records.map((r) => r.first), [0.001, 0.001, 0.001]);
  optimizer.dispose();
});

Deno.test("schedule and callback fields: every error at once, each naming its field", () => {
  const found = specIssues(specWith(
    { reduceLROnPlateau: { monitr: "val_loss" } },
    {
      learningRateSchedule: {
        name: "exponentialDecay",
        initialLearningRate: 0.1,
        decaySteps: 0,
        decayRate: 0.9,
      },
    },
    {
      learningRateSchedule: {
        name: "piecewiseConstantDecay",
        boundaries: [10, 10],
        values: [0.1, 0.01],
      },
    },
    {
      keras: "2.2.4",
      optimizer: { name: "sgd", learningRate: 0.1 },
      learningRateSchedule: { name: "piecewiseConstantDecay", boundaries: [10], values: [1, 2] },
      learningRateScheduler: { "1": 0.1 },
      reduceLROnPlateau: {},
    },
    { learningRateScheduler: { "0": 0.1, "2": -1 } },
    {
      reduceLROnPlateau: { factor: 1, mode: "best" },
      learningRateSchedule: { name: "cosineDecay" },
    },
  ));
  const expected = [
    'protocols.0.reduceLROnPlateau: unknown key "monitr" (did you mean "monitor"?)',
    "protocols.1.learningRateSchedule.decaySteps: Too small: expected number to be >0",
    "protocols.2.learningRateSchedule.boundaries: boundaries must increase strictly",
    "protocols.2.learningRateSchedule.values: give one value more than boundaries (3, not 2)",
    "protocols.3.learningRateSchedule: Keras 2.2.4 has no learning-rate schedules (tf.keras' " +
    "keras.optimizers.schedules, Keras 2.4 on in claimcheck's versions); use the optimizer's " +
    'decay, or name the Keras version the source ran in "keras"',
    "protocols.3.optimizer.learningRate: with learningRateSchedule the schedule is the " +
    "optimizer's learning rate (Keras' learning_rate=ExponentialDecay(…)); drop " +
    "optimizer.learningRate",
    "protocols.3.learningRateScheduler: learningRateScheduler cannot change a learning rate " +
    "that is a schedule (Keras raises an error): drop one of them",
    "protocols.3.reduceLROnPlateau: reduceLROnPlateau cannot change a learning rate that is a " +
    "schedule (Keras raises an error): drop one of them",
    'protocols.4.learningRateScheduler.0: "0" is not an epoch number (epochs count from 1)',
    "protocols.4.learningRateScheduler.2: Too small: expected number to be >0",
    "protocols.5.reduceLROnPlateau.factor: Too big: expected number to be <1",
  ];
  for (const line of expected) {
    assert.ok(found.includes(line), `missing: ${line}\n${found.join("\n")}`);
  }
  assert.ok(
    found.some((i) => i.startsWith("protocols.5.reduceLROnPlateau.mode: ")),
    found.join("\n"),
  );
  assert.ok(
    found.some((i) => i.startsWith("protocols.5.learningRateSchedule.name: ")),
    found.join("\n"),
  );
  assert.equal(found.length, expected.length + 2, found.join("\n"));
  // Cross-references, checked once the fields parse.
  const withVal = (fields: Record<string, unknown>) =>
    specIssues(specWith({ validationSplit: 0.1, epochs: 3, ...fields }));
  assert.deepEqual(
    withVal({
      reduceLROnPlateau: { monitor: "val_acc.digit" },
      learningRateScheduler: { "1": 0.1, "4": 0.01 },
    }),
    [
      'protocols.0.reduceLROnPlateau.monitor: "val_acc.digit" is not recorded by this protocol ' +
      "(it records params, train_loss, train_acc, val_loss, val_acc, test_loss, test_acc)",
      "protocols.0.learningRateScheduler.4: epoch 4 is past the protocol's 3 epochs",
    ],
  );
  const derived = {
    derivedMetrics: {
      gap: { of: ["val_loss", "train_loss"], op: "difference", better: "neither" },
    },
  };
  assert.deepEqual(withVal({ ...derived, reduceLROnPlateau: { monitor: "gap" } }), [
    'protocols.0.reduceLROnPlateau.mode: "gap" is declared neither higher- nor lower-better: ' +
    'give "mode": "min" or "max"',
  ]);
  assert.deepEqual(withVal({ ...derived, reduceLROnPlateau: { monitor: "gap", mode: "min" } }), []);
});

Deno.test("parsed, a schedule's step-0 rate is the optimizer's, and ReduceLROnPlateau has Keras' defaults", () => {
  const p = protocol({
    learningRateSchedule: { name: "piecewiseConstantDecay", boundaries: [5], values: [0.3, 0.03] },
  });
  assert.equal(p.optimizer.learningRate, 0.3);
  assert.deepEqual(protocol({ reduceLROnPlateau: {} }).reduceLROnPlateau, KERAS_PLATEAU);
});

Deno.test("explain's lr ×2 perturbation doubles every learning rate a protocol declares", () => {
  const spec = parseSpec(
    specWith(
      {
        learningRateSchedule: {
          name: "exponentialDecay",
          initialLearningRate: 0.1,
          decaySteps: 10,
          decayRate: 0.5,
        },
      },
      { learningRateScheduler: { "1": 0.05 }, reduceLROnPlateau: { monitor: "train_loss" } },
    ),
    "spec.json",
  );
  const doubled = (id: string) => {
    const p = withPerturbations(spec).protocols.find((q) => q.id === id);
    assert.ok(p?.kind === "layers");
    return p;
  };
  const exp = doubled("p0.lr-x2");
  assert.equal(exp.optimizer.learningRate, 0.2);
  assert.equal(
    exp.learningRateSchedule?.name === "exponentialDecay" &&
      exp.learningRateSchedule.initialLearningRate,
    0.2,
  );
  const table = doubled("p1.lr-x2");
  assert.deepEqual(table.learningRateScheduler, { "1": 0.1 });
  assert.deepEqual(
    table.reduceLROnPlateau,
    spec.protocols[1].kind === "layers" && spec.protocols[1].reduceLROnPlateau,
  );
});

Deno.test("a rerun records each epoch's learning rate, the page charts it; sparse labels train as one-hot", async () => {
  const rep = await loadReplication(
    "schedules",
    fileURLToPath(new URL("./fixtures/replications", import.meta.url)),
  );
  const results = await replicate(rep, {
    seeds: [1],
    protocols: ["exp-sparse", "exp-onehot", "table-plateau"],
    trainLimit: 512,
    backend: await setupBackend("wasm"),
    command: "test",
  });
  assert.equal(results.failures, undefined, JSON.stringify(results.failures));
  const run = (id: string) => results.runs.find((r) => r.protocol === id)!;
  // 512 images in batches of 64: 8 steps an epoch. Staircase 0.1·0.5^⌊step/4⌋.
  assert.deepEqual(run("exp-sparse").learningRates, [
    { epoch: 1, first: 0.1, last: 0.05 },
    { epoch: 2, first: 0.025, last: 0.0125 },
  ]);
  // Keras 2.2.4: the table's 0.05 from epoch 1, halved by ReduceLROnPlateau after epoch 2
  // (minDelta 100: only the first epoch improves; patience 1), the table's 0.02 from epoch 4,
  // each step divided by 1 + 0.1·step (the legacy decay).
  const base = [0.05, 0.05, Math.fround(0.05) * 0.5, 0.02];
  assert.deepEqual(
    run("table-plateau").learningRates,
    base.map((b, e) => ({
      epoch: e + 1,
      first: b / (1 + 0.1 * 8 * e),
      last: b / (1 + 0.1 * (8 * e + 7)),
    })),
  );
  // Sparse cross-entropy on integer labels trains exactly as categorical on one-hot ones.
  const metrics = (id: string) =>
    run(id).epochs.map((e) =>
      Object.fromEntries(Object.entries(e.metrics).map(([k, v]) => [k.replace("sparse_", ""), v]))
    );
  assert.deepEqual(metrics("exp-sparse"), metrics("exp-onehot"));
  assert.deepEqual(Object.keys(run("exp-sparse").epochs[0].metrics), [
    "train_loss",
    "train_acc",
    "train_sparse_top3_acc",
    "test_loss",
    "test_acc",
    "test_sparse_top3_acc",
  ]);
  const chart = learningRateSpec(results);
  assert.ok(chart);
  const svg = await renderSvg(chart);
  assert.match(svg, /^<svg/);
  const page = await renderReplicationPage(results, rep.spec);
  assert.match(
    page,
    /<h2>Learning rate per epoch<\/h2>\n<figure class="chart" data-chart="learning-rate">/,
  );
  // Older results have no learning rates: no chart.
  const old = { ...results, runs: results.runs.map(({ learningRates: _, ...r }) => r) };
  assert.equal(learningRateSpec(old), null);
  assert.doesNotMatch(await renderReplicationPage(old, rep.spec), /Learning rate per epoch/);
});
