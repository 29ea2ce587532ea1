/**
 * The threaded wasm build (harness/backend/wasm_threads.ts) against the single-threaded one:
 * after three training steps of each bench model (Adam, SGD + momentum), every weight agrees
 * within 1e-6 of the tensor's largest magnitude (XNNPACK splits work across threads, not sums,
 * so they are expected bit-identical; the tolerance allows for a summation split).
 */
import assert from "assert";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BENCH_MODELS } from "../bench/models.ts";

const SCRIPT = fileURLToPath(new URL("./_threads_step.ts", import.meta.url));

async function weightsWith(threads: number, dir: string): Promise<number> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SCRIPT, String(threads), join(dir, `t${threads}`)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return Number(new TextDecoder().decode(out.stdout).trim());
}

Deno.test("threaded and single-threaded wasm give the same weights after 3 steps", async () => {
  const dir = await Deno.makeTempDir();
  assert.equal(await weightsWith(1, dir), 1);
  assert.equal(
    await weightsWith(2, dir),
    2,
    "the threaded build runs the SIMD kernels on 2 threads",
  );
  for (const bm of BENCH_MODELS) {
    const read = async (t: number) =>
      new Float32Array((await Deno.readFile(join(dir, `t${t}.${bm.name}`))).buffer);
    const [one, two] = [await read(1), await read(2)];
    assert.equal(one.length, two.length);
    let maxRef = 0, maxErr = 0, differing = 0;
    for (let i = 0; i < one.length; i++) {
      maxRef = Math.max(maxRef, Math.abs(one[i]));
      maxErr = Math.max(maxErr, Math.abs(one[i] - two[i]));
      if (one[i] !== two[i]) differing++;
    }
    console.log(`${bm.name}: ${one.length} weights, ${differing} differ, max |Δ| ${maxErr}`);
    assert.ok(maxErr <= 1e-6 * maxRef, `${bm.name}: max |Δ| ${maxErr} > 1e-6 × ${maxRef}`);
  }
  await Deno.remove(dir, { recursive: true });
});
