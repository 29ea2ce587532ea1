/**
 * The seeded kernel initializers model.ts files use (harness/util/seeded_initializers.ts, re-exported by
 * claimcheck/plugin): each draws from the distribution its Keras version defines (the standard
 * deviation of a large kernel within five standard errors of Keras' formula), the same numbers
 * for the same seed and new ones for each layer; seededGlorot draws what it always drew.
 */
import assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { setupBackend } from "../harness/backend/backend.ts";
import {
  KERNEL_INITIALIZERS,
  type KernelInitializerName,
  seededGlorot,
  seededInitializers,
} from "../harness/util/seeded_initializers.ts";
import { deriveSeed } from "../harness/util/random.ts";

await setupBackend("cpu");

/** A Dense kernel of 300 inputs and 500 units: fan_in 300, fan_out 500, fan_avg 400. */
const SHAPE = [300, 500];
const FAN = { fanIn: 300, fanOut: 500, fanAvg: 400 };

/** The kernel an initializer draws for SHAPE, as float64 numbers. */
function drawn(init: ReturnType<typeof tf.initializers.glorotUniform>): number[] {
  return tf.tidy(() => [...init.apply(SHAPE).dataSync()]);
}

/** The sample standard deviation of `xs` and its standard error (from the fourth moment). */
function stdWithError(xs: number[]): { std: number; error: number; max: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  let m2 = 0, m4 = 0, max = 0;
  for (const x of xs) {
    const d2 = (x - mean) ** 2;
    m2 += d2;
    m4 += d2 * d2;
    max = Math.max(max, Math.abs(x));
  }
  m2 /= n;
  m4 /= n;
  const std = Math.sqrt(m2);
  // Var(s²) ≈ (m4 − m2²)/n; s = √s², so SE(s) ≈ SE(s²) / 2s.
  return { std, error: Math.sqrt((m4 - m2 * m2) / n) / (2 * std), max };
}

/** Keras' std of the drawn values, and the σ the normal is truncated at 2 of (uniform: none). */
function kerasStd(name: KernelInitializerName, rescaled: boolean): { std: number; sigma?: number } {
  const { scale, mode, distribution } = KERNEL_INITIALIZERS[name];
  const target = Math.sqrt(scale / FAN[mode]);
  if (distribution === "uniform") return { std: target }; // limit √(3·scale/fan): std √(scale/fan)
  // scipy.stats.truncnorm.std(a=-2, b=2): a normal truncated at ±2σ has standard deviation 0.8796σ.
  const truncated = 0.87962566103423978;
  const sigma = rescaled ? target / truncated : target;
  return { std: sigma * truncated, sigma };
}

Deno.test("seededInitializers: each kernel's standard deviation is its Keras version's", () => {
  const versions: [string, boolean][] = [
    ["3", true],
    ["2.6", true],
    ["2.2.4", true],
    ["2.1.6", false],
    ["tfjs", false],
  ];
  for (const [rules, rescaled] of versions) {
    const init = seededInitializers(7, rules);
    for (const name of Object.keys(KERNEL_INITIALIZERS) as KernelInitializerName[]) {
      const { std, error, max } = stdWithError(drawn(init(name)));
      const want = kerasStd(name, rescaled);
      assert.ok(
        Math.abs(std - want.std) < 5 * error,
        `${rules} ${name}: std ${std}, Keras' ${want.std} (± ${5 * error})`,
      );
      // The normal ones are truncated at 2σ, Keras' σ; the uniform ones reach √3 std.
      const bound = want.sigma ? 2 * want.sigma : Math.sqrt(3) * want.std;
      assert.ok(max <= bound * (1 + 1e-6) && max > bound * 0.99, `${rules} ${name}: max ${max}`);
    }
  }
  // Keras 2.2 on and 2.0–2.1 differ by 12 %: far more than five standard errors.
  const newer = stdWithError(drawn(seededInitializers(7, "2.2.0")("he_normal")));
  const older = stdWithError(drawn(seededInitializers(7, "2.1.6")("he_normal")));
  assert.ok(older.std < 0.9 * newer.std, `${older.std} vs ${newer.std}`);
});

Deno.test("seededInitializers: the same seed draws the same kernels, each layer new ones", () => {
  const a = seededInitializers(3, "2.6"), b = seededInitializers(3, "2.6");
  const first = drawn(a("lecun_normal")), second = drawn(a("lecun_normal"));
  assert.deepEqual(drawn(b("lecun_normal")), first, "seed 3 drew other numbers the second time");
  assert.deepEqual(drawn(b("lecun_normal")), second);
  assert.notDeepEqual(second, first, "the second layer drew the first one's kernel");
  assert.notDeepEqual(drawn(seededInitializers(4, "2.6")("lecun_normal")), first, "seed 4");
});

Deno.test("seededGlorot: the Glorot-uniform kernels it always drew, the same as seededInitializers'", () => {
  const glorot = seededGlorot(11), named = seededInitializers(11, "2.1.6");
  for (let layer = 0; layer < 3; layer++) {
    const kernel = drawn(glorot());
    const before = tf.initializers.glorotUniform({ seed: deriveSeed(11, "glorot", layer) });
    assert.deepEqual(kernel, drawn(before), `layer ${layer}`);
    assert.deepEqual(drawn(named("glorot_uniform")), kernel, `layer ${layer}`);
  }
});

Deno.test("seededInitializers: an unknown version or name is an error naming it", () => {
  for (const rules of ["2", "1.2.0", "keras"]) {
    assert.throws(() => seededInitializers(1, rules), new RegExp(`"${rules}" is neither`));
  }
  const init = seededInitializers(1) as (name: string) => unknown;
  assert.throws(() => init("orthogonal"), /unknown initializer "orthogonal"/);
});
