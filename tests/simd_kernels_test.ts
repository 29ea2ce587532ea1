/**
 * claimcheck's own WebAssembly SIMD kernels (harness/backend/simd/): the committed binaries are
 * exactly what `deno task build-simd` assembles from the committed `.wat` sources, and their
 * SHA-256 sums are the ones SHA256SUMS records. (What they compute is checked against the cpu
 * backend in wasm_kernels_test.ts and matmul_kernel_test.ts, and across the threaded build in
 * wasm_threads_test.ts.)
 */
import assert from "assert";
import { assembleSimdKernels, simdSha256Sums } from "../harness/backend/simd/build.ts";

const DIR = new URL("../harness/backend/simd/", import.meta.url);

Deno.test("the committed SIMD binaries are rebuilt byte for byte from their sources", async () => {
  const built = await assembleSimdKernels();
  assert.ok(built.size >= 2, "one unshared and one shared binary per kernel");
  for (const [file, bytes] of built) {
    const committed = await Deno.readFile(new URL(file, DIR));
    assert.deepEqual(committed, bytes, `${file} differs from its .wat: run deno task build-simd`);
    assert.ok(WebAssembly.validate(committed), `${file} does not validate`);
  }
});

Deno.test("the committed SIMD binaries match SHA256SUMS", async () => {
  const committed = new Map<string, Uint8Array>();
  for (const file of (await assembleSimdKernels()).keys()) {
    committed.set(file, await Deno.readFile(new URL(file, DIR)));
  }
  assert.equal(
    await simdSha256Sums(committed),
    await Deno.readTextFile(new URL("SHA256SUMS", DIR)),
  );
});
