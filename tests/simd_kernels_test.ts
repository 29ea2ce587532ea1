/**
 * claimcheck's own WebAssembly SIMD kernels (harness/backend/simd/): the committed binaries are
 * exactly what `deno task build-simd` assembles from the committed `.wat` sources, and their
 * SHA-256 sums are the ones SHA256SUMS records; the kernels that follow the split convention
 * give the same bits split into any calls (scratch, lo, hi) as in one, in both builds. (What
 * they compute is checked against the cpu backend in wasm_kernels_test.ts and
 * matmul_kernel_test.ts, against the paths they replace in matmul_kernel_test.ts and
 * wasm_conv_test.ts, across threads in simd_pool_test.ts and wasm_threads_test.ts.)
 */
import * as tf from "@tensorflow/tfjs";
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

/** [x shape, filter h × w, co, strides, padding] */
const SPLIT_FILTER_CASES: [number[], [number, number], number, [number, number], Pad][] = [
  [[4, 28, 28, 1], [5, 5], 32, [1, 1], "valid"], // cnn-sgd
  [[4, 8, 8, 32], [2, 2], 64, [1, 1], "valid"], // cnn-sgd
  [[2, 28, 28, 1], [3, 3], 32, [2, 2], "same"], // the autoencoder (R = 9)
  [[2, 14, 14, 32], [3, 3], 64, [1, 1], "same"], // the autoencoder
  [[3, 7, 9, 3], [3, 3], 8, [2, 2], "same"],
  [[2, 6, 7, 5], [3, 2], 24, [2, 1], 1],
];

/** [x shape, pool h × w, strides, padding] */
const SPLIT_POOL_CASES: [number[], [number, number], [number, number], Pad][] = [
  [[4, 24, 24, 32], [3, 3], [3, 3], "valid"], // cnn-sgd
  [[4, 7, 7, 64], [2, 2], [2, 2], "valid"], // cnn-sgd
  [[3, 9, 7, 8], [3, 3], [2, 2], "same"],
  [[2, 10, 11, 4], [3, 2], [1, 2], "same"],
  [[2, 5, 5, 4], [3, 3], [1, 1], "same"],
];

type Pad = "same" | "valid" | number;

/** Cuts of [0, total): whole, one unit off, halves, thirds, every unit. */
function splits(total: number): number[][] {
  const cuts = (points: number[]) => [0, ...points.filter((p) => p > 0 && p < total), total];
  return [
    [0, total],
    cuts([1]),
    cuts([total >> 1]),
    cuts([Math.floor(total / 3), Math.floor(2 * total / 3)]),
    Array.from({ length: total + 1 }, (_, i) => i),
  ];
}

Deno.test("split calls (scratch, lo, hi) give the same bits as one call, on both builds", () => {
  for (const shared of [false, true]) {
    const memory = new WebAssembly.Memory({ initial: 256, maximum: 256, shared });
    const kernel = (file: string, name: string) =>
      new WebAssembly.Instance(
        new WebAssembly.Module(
          Deno.readFileSync(new URL(`${file}${shared ? ".shared" : ""}.wasm`, DIR)),
        ),
        { env: { memory } },
      ).exports[name] as (...args: number[]) => void;
    const dW = kernel("conv2d_backprop_filter", "conv2dBackpropFilter");
    const maxPoolGrad = kernel("max_pool_grad", "maxPoolGrad");
    const f32 = new Float32Array(memory.buffer), bits = new Uint32Array(memory.buffer);
    const [X, DY, ONE, SPLIT, SCRATCH] = [0, 4, 8, 10, 12].map((mib) => mib << 20);
    let seed = 1;
    const fill = (at: number, size: number, map = (v: number) => v) => {
      for (let i = 0; i < size; i++) {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        f32[at / 4 + i] = map(seed / 2 ** 31 - 1);
      }
    };
    /** `run(lo, hi, out)` once over [0, total) and split every way, compared bit for bit. */
    const check = (what: string, size: number, total: number, run: (...a: number[]) => void) => {
      run(0, total, ONE);
      for (const cut of splits(total)) {
        f32.fill(NaN, SPLIT / 4, SPLIT / 4 + size);
        for (let i = 0; i + 1 < cut.length; i++) run(cut[i], cut[i + 1], SPLIT);
        const one = bits.subarray(ONE / 4, ONE / 4 + size);
        assert.deepEqual(bits.subarray(SPLIT / 4, SPLIT / 4 + size), one, `${what} cut ${cut}`);
      }
    };
    const build = shared ? "shared" : "unshared";
    for (const [shape, f, co, strides, pad] of SPLIT_FILTER_CASES) {
      const [n, h, w, ci] = shape;
      const info = tf.backend_util.computeConv2DInfo(
        shape as [number, number, number, number],
        [...f, ci, co],
        strides,
        1,
        pad,
      );
      const { outHeight: oh, outWidth: ow } = info;
      fill(X, n * h * w * ci);
      fill(DY, n * oh * ow * co);
      const rows = f[0] * f[1] * ci, tiles = Math.ceil(rows / 4) * co / 8, block = 64;
      check(
        `${build} dW x[${shape}] f${f} co${co}`,
        rows * co,
        tiles,
        (lo, hi, out) =>
          dW(
            X,
            DY,
            out,
            ...[n, h, w, ci, oh, ow, co, ...f, ...strides, info.padInfo.top, info.padInfo.left],
            block,
            SCRATCH,
            lo,
            hi,
          ),
      );
    }
    for (const [shape, f, strides, pad] of SPLIT_POOL_CASES) {
      const [n, h, w, c] = shape;
      const info = tf.backend_util.computePool2DInfo(
        shape as [number, number, number, number],
        f,
        strides,
        1,
        pad,
      );
      const { outHeight: oh, outWidth: ow } = info;
      fill(X, n * h * w * c, (v) => Math.round(v * 2)); // ties
      fill(DY, n * oh * ow * c);
      check(
        `${build} maxPoolGrad x[${shape}] f${f}`,
        n * h * w * c,
        n * h,
        (lo, hi, out) =>
          maxPoolGrad(
            X,
            DY,
            out,
            ...[n, h, w, c, oh, ow, ...f, ...strides, info.padInfo.top, info.padInfo.left],
            0,
            lo,
            hi,
          ),
      );
    }
  }
});
