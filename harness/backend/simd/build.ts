/**
 * Assembles the WebAssembly SIMD kernels in this folder from their WebAssembly text (`*.wat`)
 * with wabt (npm `wabt`, pinned in deno.lock), for both tfjs-backend-wasm builds: `<name>.wasm`
 * imports an unshared memory (the single-threaded build's), `<name>.shared.wasm` a shared one
 * (the threaded build's). `deno task build-simd` rewrites the binaries; tests/simd_kernels_test.ts
 * checks that the committed ones are exactly what this produces and match SHA256SUMS.
 * @module
 */
import wabtInit from "wabt";
import { fileURLToPath } from "node:url";
import { sha256Hex } from "../../util/sha256_hex.ts";
import { writeFileAtomic } from "../../util/write_file_atomic.ts";

/** The kernels' sources, by name (without `.wat`). */
const _SIMD_KERNEL_SOURCES: readonly string[] = [
  "adam",
  "conv2d",
  "conv2d_backprop_filter",
  "matmul",
  "max_pool_grad",
  "momentum",
];

const _UNSHARED = '(import "env" "memory" (memory 1))';
const _SHARED = '(import "env" "memory" (memory 1 65536 shared))';

const _FEATURES = { simd: true, threads: true };

/** Every binary this folder should hold, by file name, assembled from the `.wat` sources. */
export async function assembleSimdKernels(): Promise<Map<string, Uint8Array>> {
  const wabt = await wabtInit();
  const out = new Map<string, Uint8Array>();
  for (const name of _SIMD_KERNEL_SOURCES) {
    const wat = await Deno.readTextFile(new URL(`${name}.wat`, import.meta.url));
    if (!wat.includes(_UNSHARED)) throw new Error(`${name}.wat must import ${_UNSHARED}`);
    const variants = [[`${name}.wasm`, wat], [
      `${name}.shared.wasm`,
      wat.replace(_UNSHARED, _SHARED),
    ]];
    for (const [file, text] of variants) {
      const module = wabt.parseWat(`${name}.wat`, text, _FEATURES);
      try {
        // wabt's typings omit validate's features argument (without it, shared memory fails).
        (module as unknown as { validate(features: object): void }).validate(_FEATURES);
        out.set(file, new Uint8Array(module.toBinary({}).buffer));
      } finally {
        module.destroy();
      }
    }
  }
  return out;
}

/** `sha256sum`-style lines for these binaries, as SHA256SUMS holds them. */
export async function simdSha256Sums(binaries: Map<string, Uint8Array>): Promise<string> {
  const lines = [];
  for (const [file, bytes] of [...binaries].sort(([a], [b]) => a < b ? -1 : 1)) {
    lines.push(`${await sha256Hex(bytes)}  ${file}\n`);
  }
  return lines.join("");
}

if (import.meta.main) {
  const binaries = await assembleSimdKernels();
  for (const [file, bytes] of binaries) {
    await writeFileAtomic(fileURLToPath(new URL(file, import.meta.url)), bytes);
    console.log(`${file}: ${bytes.length} bytes`);
  }
  const sums = await simdSha256Sums(binaries);
  await writeFileAtomic(fileURLToPath(new URL("SHA256SUMS", import.meta.url)), sums);
  console.log(sums.trimEnd());
}
