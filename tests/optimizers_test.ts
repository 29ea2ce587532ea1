/**
 * Keras' optimizers as spec data: each optimizer of each Keras version family against a float64
 * reference of that version's update rule (written here from the Keras sources, apart from the
 * harness's code), the defaults and rules that changed between versions (Adadelta's learning
 * rate, RMSprop's ε, the legacy decay), validation, the record of a run, and the tfjs path that
 * keeps the numbers of protocols naming no Keras version bit-identical.
 */
import assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { setupBackend } from "../harness/backend/backend.ts";
import { adam, momentum } from "../harness/train/fused_optimizers.ts";
import { KerasOptimizer, makeOptimizer } from "../harness/train/keras_optimizers.ts";
import {
  type Optimizer,
  optimizerRun,
  TFJS_FORMULA_VERSION,
  withKerasDefaults,
  type WrittenOptimizer,
} from "../harness/spec/optimizers.ts";
import { parseSpec } from "../harness/spec/load_spec.ts";
import { loadReplication } from "../harness/replications.ts";
import { specIssues, specWith } from "./_specs.ts";
import { replicate } from "../harness/pipeline/replicate.ts";
import { fileURLToPath } from "node:url";

await setupBackend("wasm");

// Weights start at 0: the rules do not read them, and float32 then holds each movement, however
// small (Adadelta at 0.001 moves by about 1e-6), to its own relative precision.
const W0 = [0, 0, 0, 0, 0, 0];

/** The gradient of weight i at step t (from 1): magnitudes from 2e-4 to 1.5, signs that flip. */
function gradient(t: number, i: number): number {
  const scale = [0.3, -1.2, 1e-3, -2e-4, 0.05, 1.5][i];
  return Math.fround(scale * (1 + 0.4 * Math.sin(3 * t + i)) * (t % 3 === 0 && i % 2 ? -1 : 1));
}

/** The weights after `steps` updates by the harness's optimizer, on the wasm backend. */
function harnessSteps(o: Optimizer, keras: string | undefined, steps: number): number[] {
  const w = tf.variable(tf.tensor1d(W0));
  const opt = makeOptimizer(o, keras);
  for (let t = 1; t <= steps; t++) {
    const g = tf.tensor1d(W0.map((_, i) => gradient(t, i)));
    opt.applyGradients({ [w.name]: g });
    g.dispose();
  }
  const out = Array.from(w.dataSync());
  opt.dispose();
  w.dispose();
  return out;
}

/** Keras versions compared: "multi" 2.0–2.3, "v2" tf.keras 2.4–2.10, "new" 2.11 and 3. */
function era(keras: string | undefined): "multi" | "v2" | "new" {
  const [major, minor] = (keras ?? "3").split(".").map(Number);
  if (major === 3 || minor >= 11) return "new";
  return minor >= 4 ? "v2" : "multi";
}

/**
 * The float64 reference: the update rule of Keras version `keras` for optimizer `o`, step by
 * step as the Keras sources write it (keras/optimizers.py at 2.0.0–2.3.1; tf.keras'
 * optimizer_v2 and TensorFlow's training kernels for 2.4–2.10; keras/src/optimizers at 3.x and
 * the identical optimizer_experimental of 2.11), on the same float32 gradients.
 */
function reference(o: Optimizer, keras: string | undefined, steps: number): number[] {
  return referencePath(o, keras, steps).w;
}

/** The reference's weights and, per weight, the sum of its steps' sizes (Σ|Δw|). */
function referencePath(
  o: Optimizer,
  keras: string | undefined,
  steps: number,
): { w: number[]; path: number[] } {
  const e = era(keras);
  const n = W0.length;
  const p = [...W0];
  const zeros = () => new Array<number>(n).fill(0);
  const s = { a: zeros(), b: zeros(), c: zeros(), product: 1 };
  const path = zeros();
  if (o.name === "adagrad") s.a.fill(o.initialAccumulatorValue ?? 0);
  for (let t = 1; t <= steps; t++) {
    const iterations = t - 1;
    // Nadam's momentum schedule. Keras 2: K.pow(0.96, t * schedule_decay), m_schedule updated
    // once per step; 2.11 and Keras 3: 0.96 ** t and u_product.
    let cacheT = 0, cacheT1 = 0;
    if (o.name === "nadam") {
      const k = e === "new" ? 1 : o.scheduleDecay!;
      cacheT = o.beta1 * (1 - 0.5 * 0.96 ** (t * k));
      cacheT1 = o.beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * k));
      s.product *= cacheT;
    }
    // Multi-backend Keras: lr * (1 / (1 + decay * iterations)); tf.keras 2.4–2.10's _decayed_lr:
    // lr / (1 + decay * local_step) with local_step = iterations. 2.11 and 3 have no decay.
    const decay = e === "new" || o.name === "nadam" ? 0 : o.decay ?? 0;
    const lr = o.learningRate * (1 / (1 + decay * iterations));
    for (let i = 0; i < n; i++) {
      const g = gradient(t, i), before = p[i];
      switch (o.name) {
        case "sgd": {
          if (o.momentum === 0) {
            p[i] -= lr * g;
            break;
          }
          const v = o.momentum * s.a[i] - lr * g;
          s.a[i] = v;
          p[i] += o.nesterov ? o.momentum * v - lr * g : v;
          break;
        }
        case "rmsprop": {
          s.a[i] = o.rho * s.a[i] + (1 - o.rho) * g * g;
          let denominator = s.a[i];
          if (o.centered) {
            s.c[i] = o.rho * s.c[i] + (1 - o.rho) * g;
            denominator -= s.c[i] ** 2;
          }
          const mom = o.momentum ?? 0;
          if (e === "multi" || (e === "v2" && mom === 0)) {
            p[i] -= lr * g / (Math.sqrt(denominator) + o.epsilon);
          } else {
            // TF's ApplyRMSProp / ApplyCenteredRMSProp, and Keras 3: ε under the root.
            const increment = lr * g / Math.sqrt(denominator + o.epsilon);
            s.b[i] = mom * s.b[i] + increment;
            p[i] -= mom > 0 ? s.b[i] : increment;
          }
          break;
        }
        case "adagrad": {
          s.a[i] += g * g;
          p[i] -= e === "new"
            ? lr * g / Math.sqrt(s.a[i] + o.epsilon)
            : lr * g / (Math.sqrt(s.a[i]) + o.epsilon);
          break;
        }
        case "adadelta": {
          s.a[i] = o.rho * s.a[i] + (1 - o.rho) * g * g;
          const update = g * Math.sqrt(s.b[i] + o.epsilon) / Math.sqrt(s.a[i] + o.epsilon);
          p[i] -= lr * update;
          s.b[i] = o.rho * s.b[i] + (1 - o.rho) * update * update;
          break;
        }
        case "adam": {
          const lrT = lr * Math.sqrt(1 - o.beta2 ** t) / (1 - o.beta1 ** t);
          s.a[i] = o.beta1 * s.a[i] + (1 - o.beta1) * g;
          s.b[i] = o.beta2 * s.b[i] + (1 - o.beta2) * g * g;
          s.c[i] = Math.max(s.c[i], s.b[i]);
          p[i] -= lrT * s.a[i] / (Math.sqrt(o.amsgrad ? s.c[i] : s.b[i]) + o.epsilon);
          break;
        }
        case "adamax": {
          s.a[i] = o.beta1 * s.a[i] + (1 - o.beta1) * g;
          s.b[i] = Math.max(o.beta2 * s.b[i], Math.abs(g));
          p[i] -= lr / (1 - o.beta1 ** t) * s.a[i] / (s.b[i] + o.epsilon);
          break;
        }
        case "nadam": {
          const gPrime = g / (1 - s.product);
          s.a[i] = o.beta1 * s.a[i] + (1 - o.beta1) * g;
          const mPrime = s.a[i] / (1 - s.product * cacheT1);
          s.b[i] = o.beta2 * s.b[i] + (1 - o.beta2) * g * g;
          const vPrime = s.b[i] / (1 - o.beta2 ** t);
          const mBar = (1 - cacheT) * gPrime + cacheT1 * mPrime;
          p[i] -= o.learningRate * mBar / (Math.sqrt(vPrime) + o.epsilon);
          break;
        }
      }
      path[i] += Math.abs(p[i] - before);
    }
  }
  return { w: p, path };
}

/**
 * Float32 against float64: each weight within 1e-5 of the distance it travelled (Σ|Δw| over the
 * steps; by default its final |w|). A float32 operation errs by at most 6e-8 relative and a step
 * takes about ten, so five steps stay near 3e-6; a rule off by one term (ε placed otherwise, a
 * missing bias correction, another default) is off by far more.
 */
function assertClose(actual: number[], expected: number[], what: string, path = expected): void {
  actual.forEach((a, i) => {
    assert.ok(
      Math.abs(a - expected[i]) <= 1e-5 * Math.abs(path[i]),
      `${what}: weight ${i} is ${a}, the float64 reference ${expected[i]}`,
    );
  });
}

const VERSIONS = ["2.0.8", "2.2.4", "2.6", "2.11", "3"];
const CASES: WrittenOptimizer[] = [
  { name: "sgd" },
  { name: "sgd", momentum: 0.9 },
  { name: "sgd", momentum: 0.9, nesterov: true, decay: 0.1 },
  { name: "rmsprop" },
  { name: "rmsprop", learningRate: 0.01, decay: 0.2 },
  { name: "adagrad" },
  { name: "adadelta" },
  { name: "adam" },
  { name: "adam", learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-4, decay: 0.3 },
  { name: "adamax" },
  { name: "nadam" },
];
// Arguments only later versions take.
const LATER: [WrittenOptimizer, string[]][] = [
  [{ name: "adam", amsgrad: true }, ["2.2.4", "2.6", "2.11", "3"]],
  [{ name: "rmsprop", momentum: 0.5 }, ["2.6", "2.11", "3"]],
  [{ name: "rmsprop", centered: true }, ["2.6", "2.11", "3"]],
  [{ name: "rmsprop", momentum: 0.5, centered: true, rho: 0.8 }, ["2.6", "3"]],
  [{ name: "adagrad", initialAccumulatorValue: 0.5 }, ["2.6", "3"]],
  [{ name: "nadam", scheduleDecay: 0.05 }, ["2.2.4", "2.6"]],
];

Deno.test("each optimizer follows a float64 reference of its Keras version's rule", () => {
  const cases = [
    ...VERSIONS.flatMap((v) =>
      CASES.filter((o) => !(o.decay && era(v) === "new")).map((o) => [o, v] as const)
    ),
    ...LATER.flatMap(([o, versions]) => versions.map((v) => [o, v] as const)),
  ];
  for (const [written, keras] of cases) {
    const o = withKerasDefaults(written, keras);
    const what = `Keras ${keras} ${JSON.stringify(written)}`;
    const { w, path } = referencePath(o, keras, 5);
    assertClose(harnessSteps(o, keras, 5), w, what, path);
  }
});

Deno.test("without a Keras version, optimizers other than Adam and SGD run Keras 3's rule", () => {
  for (const name of ["rmsprop", "adagrad", "adadelta", "adamax", "nadam"] as const) {
    const o = withKerasDefaults({ name }, undefined);
    const { w, path } = referencePath(o, "3", 5);
    assertClose(harnessSteps(o, undefined, 5), w, name, path);
    assert.equal(optimizerRun(o, undefined).run.formula, "Keras 3");
  }
});

Deno.test("Adadelta's default learning rate is 1.0 up to Keras 2.3 and 0.001 from 2.4", () => {
  const lr = (keras?: string) => withKerasDefaults({ name: "adadelta" }, keras).learningRate;
  assert.deepEqual(
    ["2.0.0", "2.2.4", "2.3.1", "2.4", "2.10", "2.11", "3.5", undefined].map(lr),
    [1, 1, 1, 0.001, 0.001, 0.001, 0.001, 0.001],
  );
  // In training: the same gradients move the weights 1000 times further under Keras 2.2.4.
  const moved = (keras?: string) =>
    harnessSteps(withKerasDefaults({ name: "adadelta" }, keras), keras, 3);
  const [old, now] = [moved("2.2.4"), moved(undefined)];
  old.forEach((d, i) => assert.ok(Math.abs(d - 1000 * now[i]) <= 1e-5 * Math.abs(d), `${i}`));
  assert.equal(
    optimizerRun(withKerasDefaults({ name: "adadelta" }, "2.2.4"), "2.2.4").run
      .args.learningRate,
    1,
  );
});

Deno.test("RMSprop's ε is outside the root in Keras 2.2.4 and 2.6, inside in 2.11 and 3", () => {
  // One step on a small gradient (√a ≈ 3e-5 beside ε = 1e-7): outside, the step is lr·g/√a
  // ≈ 3.16·lr; inside, lr·g/√(a + ε) ≈ 0.3·lr.
  const step = (keras?: string) => {
    const o = withKerasDefaults({ name: "rmsprop" }, keras);
    const w = tf.variable(tf.tensor1d([0]));
    const opt = makeOptimizer(o, keras);
    opt.applyGradients({ [w.name]: tf.tensor1d([1e-4]) });
    const d = -w.dataSync()[0] / o.learningRate;
    tf.dispose([w]);
    opt.dispose();
    return d;
  };
  const a = 0.1 * 1e-8;
  const outside = 1e-4 / (Math.sqrt(a) + 1e-7), inside = 1e-4 / Math.sqrt(a + 1e-7);
  for (const keras of ["2.2.4", "2.6"]) {
    assert.ok(Math.abs(step(keras) - outside) < 1e-4 * outside, `${keras}: ${step(keras)}`);
  }
  for (const keras of ["2.11", "3", undefined]) {
    assert.ok(Math.abs(step(keras) - inside) < 1e-4 * inside, `${keras}: ${step(keras)}`);
  }
  assert.match(
    optimizerRun(withKerasDefaults({ name: "rmsprop" }, "2.2.4"), "2.2.4").run.update,
    /lr·g\/\(√\(a\) \+ ε\)/,
  );
  assert.match(
    optimizerRun(withKerasDefaults({ name: "rmsprop" }, "3"), "3").run.update,
    /lr·g\/√\(a \+ ε\)/,
  );
});

Deno.test("decay: honoured up to Keras 2.10, an error in 2.11–2.x, ignored (noted) in 3", () => {
  const sgd = { name: "sgd", learningRate: 0.1, decay: 0.5 } as const;
  // Three steps of lr/(1 + 0.5·iterations): 0.1, 0.1/1.5, 0.1/2.
  for (const keras of ["2.2.4", "2.6", "2.10"]) {
    const o = withKerasDefaults(sgd, keras);
    const moved = harnessSteps(o, keras, 3);
    const expected = W0.map((w, i) =>
      w - 0.1 * gradient(1, i) - (0.1 / 1.5) * gradient(2, i) - 0.05 * gradient(3, i)
    );
    assertClose(moved, expected, keras);
    assert.equal(optimizerRun(o, keras).run.args.decay, 0.5);
    assert.match(optimizerRun(o, keras).run.update, /^lr = lr₀\/\(1 \+ decay·\(t − 1\)\); /);
  }
  assert.deepEqual(specIssues(specWith({ keras: "2.11", optimizer: sgd })), [
    "protocols.0.optimizer.decay: Keras 2.11 rejects decay (an error since Keras 2.11); drop it, " +
    "or name the Keras version the source ran (2.10 and earlier apply it, 3 ignores it)",
  ]);
  assert.match(
    specIssues(specWith({ keras: "2.15.0", optimizer: sgd }))[0],
    /Keras 2\.15\.0 rejects/,
  );
  for (const keras of ["3", "3.6.0", undefined]) {
    const spec = parseSpec(specWith({ keras, optimizer: sgd }), "spec.json");
    const p = spec.protocols[0];
    assert.ok(p.kind === "layers");
    const { run, notes } = optimizerRun(p.optimizer, p.keras);
    assert.equal(run.args.decay, undefined, "Keras 3's SGD has no decay argument");
    assert.match(
      notes[0],
      /^optimizer\.decay 0\.5 was ignored, as Keras 3[.0-9]*'s SGD ignores it/,
    );
    assertClose(
      harnessSteps(p.optimizer, p.keras, 3),
      W0.map((w, i) => w - 0.1 * (gradient(1, i) + gradient(2, i) + gradient(3, i))),
      String(keras),
    );
  }
  // Nadam: no decay in 2.0–2.3; taken and overwritten by schedule_decay in 2.4–2.10.
  assert.match(
    specIssues(specWith({ keras: "2.2.4", optimizer: { name: "nadam", decay: 0.1 } }))[0],
    /optimizer\.decay: Keras 2\.2\.4's Nadam takes no decay/,
  );
  const nadam = withKerasDefaults({ name: "nadam", decay: 0.1 }, "2.6");
  assert.match(optimizerRun(nadam, "2.6").notes[0], /overwritten by schedule_decay/);
});

Deno.test("arguments a version lacks, unknown keys and bad versions: every error at once", () => {
  const found = specIssues(specWith(
    { keras: "2.0.8", optimizer: { name: "adam", amsgrad: true } },
    { keras: "2.2.4", optimizer: { name: "rmsprop", momentum: 0.9, centered: true } },
    { optimizer: { name: "nadam", scheduleDecay: 0.004 } },
    { keras: "2.3.1", optimizer: { name: "adagrad", initialAccumulatorValue: 0.1 } },
    { optimizer: { name: "adam", learningrate: 0.01, beta_1: 0.9, lr: 1 } },
    { keras: "2" },
    { keras: "2.1" },
    { keras: "1.2.2" },
    { keras: "2.2.4-tf" },
    { optimizer: { name: "adamw" } },
    { kerass: "2.2.4" },
  ));
  const expected = [
    "protocols.0.optimizer.amsgrad: Keras 2.0.8's Adam takes no amsgrad (Keras 2.1.3 added it)",
    "protocols.1.optimizer.momentum: Keras 2.2.4's RMSprop takes no momentum (Keras 2.4 added it)",
    "protocols.1.optimizer.centered: Keras 2.2.4's RMSprop takes no centered (Keras 2.4 added it)",
    "protocols.2.optimizer.scheduleDecay: Keras 3's Nadam takes no scheduleDecay (since Keras " +
    "2.11 its momentum schedule is fixed, β₁(1 − ½·0.96ᵗ)); name the source's Keras version in " +
    '"keras"',
    "protocols.3.optimizer.initialAccumulatorValue: Keras 2.3.1's Adagrad takes no " +
    "initialAccumulatorValue (its accumulator starts at 0; Keras 2.4 added the argument, " +
    "default 0.1)",
    'protocols.4.optimizer: unknown key "learningrate" (did you mean "learningRate"?); ' +
    'unknown key "beta_1" (did you mean "beta1"?); unknown key "lr" (allowed here: name, ' +
    "learningRate, beta1, beta2, epsilon, amsgrad, decay)",
    'protocols.5.keras: name the minor version, e.g. "2.2.4": Keras 2 changed its optimizers ' +
    "between 2.x",
    'protocols.6.keras: name the patch version, e.g. "2.1.6": Keras 2.1.3 changed ε and added ' +
    "amsgrad",
    "protocols.7.keras: Keras 1.2.2 is not modelled (claimcheck knows Keras 2.0 to 3.x)",
    'protocols.8.keras: a Keras version such as "2.2.4" or "3"',
    'protocols.10: unknown key "kerass" (did you mean "keras"?)',
  ];
  for (const line of expected) {
    assert.ok(found.includes(line), `missing: ${line}\n${found.join("\n")}`);
  }
  assert.ok(found.some((i) => /^protocols\.9\.optimizer\.name: /.test(i)), found.join("\n"));
  assert.equal(found.length, expected.length + 1, found.join("\n"));
});

Deno.test("a run records its optimizer as run, its Keras version's defaults filled in", () => {
  assert.deepEqual(optimizerRun(withKerasDefaults({ name: "adam" }, "2.0.8"), "2.0.8").run, {
    name: "adam",
    keras: "2.0.8",
    args: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, decay: 0 },
    formula: "Keras 2.0.8",
    update: "m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; w ← w − lr·√(1−β₂ᵗ)/(1−β₁ᵗ)·m/(√v + ε)",
  });
  const table = (keras?: string) =>
    Object.fromEntries(
      (["sgd", "rmsprop", "adagrad", "adadelta", "adam", "adamax", "nadam"] as const).map((
        name,
      ) => [name, optimizerRun(withKerasDefaults({ name }, keras), keras).run.args]),
    );
  // Adam's arguments from Keras 2.1.3 on, but decay (Keras 3 dropped it).
  const adamKeras3 = {
    learningRate: 0.001,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
    amsgrad: false,
  };
  // Keras 2.2.4's keras/optimizers.py (epsilon None → K.epsilon() = 1e-7).
  assert.deepEqual(table("2.2.4"), {
    sgd: { learningRate: 0.01, momentum: 0, nesterov: false, decay: 0 },
    rmsprop: { learningRate: 0.001, rho: 0.9, epsilon: 1e-7, decay: 0 },
    adagrad: { learningRate: 0.01, epsilon: 1e-7, decay: 0 },
    adadelta: { learningRate: 1, rho: 0.95, epsilon: 1e-7, decay: 0 },
    adam: { ...adamKeras3, decay: 0 },
    adamax: { learningRate: 0.002, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, decay: 0 },
    nadam: { learningRate: 0.002, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, scheduleDecay: 0.004 },
  });
  // tf.keras 2.4–2.10's optimizer_v2 (decay: the base class's legacy argument).
  assert.deepEqual(table("2.6"), {
    sgd: { learningRate: 0.01, momentum: 0, nesterov: false, decay: 0 },
    rmsprop: {
      learningRate: 0.001,
      rho: 0.9,
      momentum: 0,
      epsilon: 1e-7,
      centered: false,
      decay: 0,
    },
    adagrad: { learningRate: 0.001, initialAccumulatorValue: 0.1, epsilon: 1e-7, decay: 0 },
    adadelta: { learningRate: 0.001, rho: 0.95, epsilon: 1e-7, decay: 0 },
    adam: { ...adamKeras3, decay: 0 },
    adamax: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, decay: 0 },
    nadam: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, scheduleDecay: 0.004 },
  });
  // Keras 3's keras/src/optimizers (2.11's new optimizers take the same).
  const three = {
    sgd: { learningRate: 0.01, momentum: 0, nesterov: false },
    rmsprop: { learningRate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false },
    adagrad: { learningRate: 0.001, initialAccumulatorValue: 0.1, epsilon: 1e-7 },
    adadelta: { learningRate: 0.001, rho: 0.95, epsilon: 1e-7 },
    adam: adamKeras3,
    adamax: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
    nadam: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
  };
  assert.deepEqual(table("2.11"), three);
  assert.deepEqual(table("3"), three);
  assert.deepEqual(table(undefined), three);
});

Deno.test("without a Keras version, Adam and momentum SGD stay tfjs' (bit-identical)", () => {
  assert.ok(tf.version_core.startsWith(`${TFJS_FORMULA_VERSION}.`), tf.version_core);
  const bits = (make: () => tf.Optimizer) => {
    const w = tf.variable(tf.tensor1d(W0));
    const opt = make();
    for (let t = 1; t <= 4; t++) {
      opt.applyGradients({ [w.name]: tf.tensor1d(W0.map((_, i) => gradient(t, i))) });
    }
    const out = Array.from(new Uint32Array(w.dataSync().buffer));
    tf.dispose(w);
    opt.dispose();
    return out;
  };
  // What claimcheck ran before Keras versions could be named: adam(lr), momentum(lr, μ), sgd(lr).
  const adamSpec = withKerasDefaults({ name: "adam" }, undefined);
  assert.deepEqual(bits(() => makeOptimizer(adamSpec, undefined)), bits(() => adam(0.001)));
  const sgdSpec = withKerasDefaults({ name: "sgd", momentum: 0.9 }, undefined);
  assert.deepEqual(bits(() => makeOptimizer(sgdSpec, undefined)), bits(() => momentum(0.01, 0.9)));
  const plain = withKerasDefaults({ name: "sgd" }, undefined);
  assert.deepEqual(bits(() => makeOptimizer(plain, undefined)), bits(() => tf.train.sgd(0.01)));
  // Plain SGD is recorded as Keras 3's rule: it is the same float32 operation.
  assert.deepEqual(bits(() => new KerasOptimizer(plain, "3")), bits(() => tf.train.sgd(0.01)));
  assert.equal(optimizerRun(plain, undefined).run.formula, "Keras 3");
  assert.deepEqual(optimizerRun(plain, undefined).notes, []);

  const { run, notes } = optimizerRun(adamSpec, undefined);
  assert.equal(run.formula, `tfjs ${TFJS_FORMULA_VERSION}`);
  assert.equal(run.keras, null);
  assert.match(notes[0], /^Adam ran tfjs 4\.22's update, which adds ε to the bias-corrected √v̂/);
  assert.match(optimizerRun(sgdSpec, undefined).notes[0], /^SGD with momentum ran tfjs 4\.22/);
  // tfjs' Adam is not Keras': on the 2e-4 gradient, where ε is not small beside √v, four steps
  // end 1 % apart (ε/√(1−β₂ᵗ) against ε beside √v̂ ≈ 2e-4).
  const [tfjsAdam, kerasAdam] = [harnessSteps(adamSpec, undefined, 4), reference(adamSpec, "3", 4)];
  assert.ok(Math.abs(tfjsAdam[3] / kerasAdam[3] - 1) > 5e-3, `${tfjsAdam[3]} ${kerasAdam[3]}`);
  // Naming a version runs Keras' rule for Adam and SGD too; Adam with amsgrad (which tfjs lacks)
  // runs Keras 3's without one.
  for (const keras of ["3", "2.2.4"]) {
    assert.ok(
      makeOptimizer(withKerasDefaults({ name: "adam" }, keras), keras) instanceof KerasOptimizer,
    );
    assert.equal(optimizerRun(withKerasDefaults({ name: "adam" }, keras), keras).notes.length, 0);
  }
  const ams = withKerasDefaults({ name: "adam", amsgrad: true }, undefined);
  assert.ok(makeOptimizer(ams, undefined) instanceof KerasOptimizer);
  assert.equal(optimizerRun(ams, undefined).run.formula, "Keras 3");
});

Deno.test("a variant that names another Keras version gets that version's defaults", () => {
  const data = specWith({ optimizer: { name: "adadelta" } }, {});
  (data.protocols as Record<string, unknown>[])[1] = { id: "p1", extends: "p0", keras: "2.2.4" };
  const spec = parseSpec(data, "spec.json");
  const [now, old] = spec.protocols;
  assert.ok(now.kind === "layers" && old.kind === "layers");
  assert.equal(now.optimizer.learningRate, 0.001);
  assert.equal(old.optimizer.learningRate, 1);
  assert.equal(old.keras, "2.2.4");
});

Deno.test("a rerun records each run's optimizer and its departures from Keras", async () => {
  const rep = await loadReplication(
    "optimizers",
    fileURLToPath(new URL("./fixtures/replications", import.meta.url)),
  );
  const results = await replicate(rep, {
    seeds: [1],
    protocols: ["adam", "adadelta-2.2.4", "rmsprop-3"],
    trainLimit: 512,
    backend: await setupBackend("wasm"),
    command: "test",
  });
  assert.equal(results.failures, undefined, JSON.stringify(results.failures));
  const run = (id: string) => results.runs.find((r) => r.protocol === id)!;
  assert.deepEqual(run("adadelta-2.2.4").optimizer, {
    name: "adadelta",
    keras: "2.2.4",
    args: { learningRate: 1, rho: 0.95, epsilon: 1e-7, decay: 0.001 },
    formula: "Keras 2.2.4",
    update: "lr = lr₀/(1 + decay·(t − 1)); a ← ρa + (1−ρ)g²; Δ = g·√(d + ε)/√(a + ε); " +
      "w ← w − lr·Δ; d ← ρd + (1−ρ)Δ²",
  });
  assert.equal(run("adadelta-2.2.4").notes, undefined);
  assert.equal(run("adam").optimizer?.formula, "tfjs 4.22");
  assert.equal(run("rmsprop-3").optimizer?.formula, "Keras 3");
  assert.equal(run("rmsprop-3").optimizer?.args.decay, undefined);
  assert.deepEqual(
    results.deviations.filter((d) => !d.startsWith("trained on")).map((d) =>
      d.slice(0, d.indexOf(","))
    ),
    ["adam: Adam ran tfjs 4.22's update", "rmsprop-3: optimizer.decay 0.001 was ignored"],
  );
});
