/**
 * claimcheck's SIMD GEMM (harness/backend/simd/matmul.wat), which wasm_kernels.ts runs for
 * BatchMatMul and _FusedMatMul of one float32 matrix pair:
 * - bit for bit against the path it replaced (BatchMatMul: XNNPACK over explicit transposes;
 *   _FusedMatMul: the backend's own XNNPACK kernel), and split calls against one call
 *   (_matmul_bits.ts), on the single-threaded build here and on the threaded build (2 threads)
 *   in a subprocess;
 * - against the cpu backend, within float32's error bound for dot products;
 * - the bench models' training steps run every product of their dense layers through it, with
 *   the shapes _matmul_bits.ts checks.
 */
import * as tf from "@tensorflow/tfjs";
import assert from "assert";
import { fileURLToPath } from "node:url";
import { setupBackend } from "../harness/backend/backend.ts";
import { simdKernels } from "../harness/backend/simd/simd_kernels.ts";
import { makeTrainStep, singleOutput } from "../harness/train/step.ts";
import { BENCH_MODELS } from "../bench/models.ts";
import {
  batchMatMulMismatches,
  fusedMatMulMismatches,
  type MatMulCase,
  mixedValues,
  MODEL_CASES,
  SMALL_CASES,
  splitMismatches,
} from "./_matmul_bits.ts";

await setupBackend("cpu");
await setupBackend("wasm");

const CASES = [...SMALL_CASES, ...MODEL_CASES];

Deno.test("BatchMatMul: the SIMD kernel is bit-identical to the XNNPACK way it replaced", () => {
  assert.deepEqual(batchMatMulMismatches(CASES), []);
});

Deno.test("_FusedMatMul: the SIMD kernel is bit-identical to the backend's XNNPACK kernel", () => {
  assert.deepEqual(fusedMatMulMismatches(CASES), []);
});

Deno.test("the SIMD kernel over pieces of the rows equals one call over all of them", () => {
  assert.deepEqual(splitMismatches(CASES), []);
});

Deno.test("on the threaded build (2 threads), the same checks agree bit for bit", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", fileURLToPath(new URL("./_matmul_bits.ts", import.meta.url)), "2"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const report = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.deepEqual(report, { threads: 2, cases: CASES.length, mismatches: [] });
});

/**
 * C on `backend` (the registered kernels), and on cpu the bound Σ_k |a||b| (+ |bias|) that
 * float32 dot products of k + 1 terms stay within (k + 1)·2⁻²⁴ times of.
 */
async function products(
  backend: "cpu" | "wasm",
  c: MatMulCase,
  seed: number,
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const a = tf.tensor(mixedValues(c.m * c.k, seed), c.ta ? [c.k, c.m] : [c.m, c.k]);
    const b = tf.tensor(mixedValues(c.k * c.n, seed + 1), c.tb ? [c.n, c.k] : [c.k, c.n]);
    const bias = tf.tensor(mixedValues(c.n, seed + 2), [c.n]);
    const out = [
      tf.matMul(a, b, c.ta, c.tb),
      tf.fused.matMul({ a, b, transposeA: c.ta, transposeB: c.tb, bias, activation: "relu" }),
    ];
    if (backend === "cpu") out.push(tf.matMul(a.abs(), b.abs(), c.ta, c.tb).add(bias.abs()));
    return out.map((t) => Float32Array.from(t.dataSync()));
  });
}

Deno.test("BatchMatMul and _FusedMatMul (bias, ReLU) on wasm match cpu", async () => {
  for (const [i, c] of CASES.entries()) {
    const [plain, fused, bound] = await products("cpu", c, 3000 + 10 * i);
    const got = await products("wasm", c, 3000 + 10 * i);
    const pairs: [string, Float32Array, Float32Array][] = [
      ["matMul", plain, got[0]],
      ["fused", fused, got[1]],
    ];
    for (const [what, want, actual] of pairs) {
      for (let j = 0; j < want.length; j++) {
        const err = Math.abs(actual[j] - want[j]);
        assert.ok(
          err <= 2 * (c.k + 1) * 2 ** -24 * bound[j],
          `${what} ${c.what} tA=${c.ta} tB=${c.tb} element ${j}: ${actual[j]} vs cpu ${want[j]}`,
        );
      }
    }
  }
});

Deno.test("the bench models' training steps run their dense products through the SIMD kernel", async () => {
  await tf.setBackend("wasm");
  const simd = simdKernels(tf.backend())!;
  const kernel = simd.matmul;
  const seen = new Set<string>();
  const key = (m: number, k: number, n: number, ta: number | boolean, tb: number | boolean) =>
    `m ${m} k ${k} n ${n} tA ${Number(ta)} tB ${Number(tb)}`;
  const spy = (...args: number[]) => {
    seen.add(key(args[4], args[5], args[6], args[7], args[8]));
    kernel(...args);
  };
  // The SIMD pool checks a kernel's arity (a WebAssembly export's length).
  simd.matmul = Object.defineProperty(spy, "length", { value: kernel.length });
  try {
    for (const bm of BENCH_MODELS) {
      const model = bm.build(1), optimizer = bm.optimizer();
      const step = makeTrainStep(model, optimizer, singleOutput(bm.loss));
      const { xs, ys } = bm.batches(1, 5);
      step(xs, ys).dispose();
      tf.dispose([...xs, ...ys]);
      step.dispose();
      model.dispose();
      optimizer.dispose();
      const cases = MODEL_CASES.filter((c) => c.what.startsWith(`${bm.name} `));
      assert.ok(cases.length >= 6, bm.name);
      for (const c of cases) assert.ok(seen.has(key(c.m, c.k, c.n, c.ta, c.tb)), c.what);
    }
  } finally {
    simd.matmul = kernel;
  }
});
