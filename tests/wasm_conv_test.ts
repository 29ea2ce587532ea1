/**
 * claimcheck's SIMD Conv2D, FusedConv2D and Conv2DBackpropInput (harness/backend/simd/conv2d.wat)
 * against the paths they replace, on the single-threaded and the threaded wasm build: the same
 * bits as XNNPACK's convolution, the phase-filter rewrite (it runs on that convolution) and the
 * backend's own Conv2DBackpropInput loop (where the rewrite does not apply), with
 * ReLU, bias, zeros and −0 in the data, whether a call computes everything or is split into
 * several; within 1e-4 of the largest magnitude of the cpu backend's result on the small shapes
 * (the cases are in _conv_bits.ts, which runs in a subprocess per build). And end to end: the
 * same weights after three training steps of each bench model as with the paths they replace.
 */
import assert from "assert";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BENCH_MODELS } from "../bench/models.ts";

const SCRIPT = fileURLToPath(new URL("./_conv_bits.ts", import.meta.url));
const STEPS = fileURLToPath(new URL("./_threads_step.ts", import.meta.url));

async function check(threads: number): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SCRIPT, String(threads)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const report = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    threads: number;
    checks: number;
    failures: string[];
  };
  assert.equal(report.threads, threads, "the build runs the threads asked for");
  assert.deepEqual(
    report.failures,
    [],
    `${report.failures.length} of ${report.checks} checks fail`,
  );
  // 21 convolutions × 3 forms × 3 comparisons, 17 input gradients × 3, and the cpu checks.
  assert.ok(report.checks >= 21 * 9 + 17 * 3, `only ${report.checks} checks ran`);
}

Deno.test("SIMD convolutions: the replaced bits, split or not, single-threaded build", async () => {
  await check(1);
});

Deno.test("SIMD convolutions: the replaced bits, split or not, threaded build (2 threads)", async () => {
  await check(2);
});

Deno.test("three training steps of each bench model: the weights of the replaced paths", async () => {
  const dir = await Deno.makeTempDir();
  for (const [prefix, mode] of [["simd", "auto"], ["replaced", "replaced"]]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", STEPS, "1", join(dir, prefix), mode],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  }
  for (const bm of BENCH_MODELS) {
    const [simd, replaced] = await Promise.all(
      ["simd", "replaced"].map((p) => Deno.readFile(join(dir, `${p}.${bm.name}`))),
    );
    assert.equal(simd.length, replaced.length);
    const differing = simd.filter((byte, i) => byte !== replaced[i]).length;
    assert.equal(differing, 0, `${bm.name}: ${differing} bytes of the weights differ`);
  }
  await Deno.remove(dir, { recursive: true });
});
