/**
 * claimcheck's own WebAssembly SIMD kernels, run inside tfjs-backend-wasm's heap: each binary
 * imports the backend's memory, so kernels read and write tensors in place. The binaries are
 * assembled from the `.wat` sources beside them (see build.ts and README.md).
 * @module
 */
import type * as tf from "@tensorflow/tfjs";

/** A kernel: pointers (byte offsets into the backend's heap), then sizes; see its `.wat`. */
export type SimdKernel = (...args: number[]) => void;

/**
 * The kernels, by their export names. Those ending in `(scratch, lo, hi)` compute the part
 * [lo, hi) of their split dimension (see their `.wat`); simd_pool.ts runs them across threads.
 */
export interface SimdKernels {
  /** `(w, m, v, g, outW, outM, outV, size, β1, 1 − β1, β2, 1 − β2, 1 − β1ᵗ, 1 − β2ᵗ, ε, −lr)`. */
  adam: SimdKernel;
  /**
   * `(x, w, bias, y, n, h, w, ci, oh, ow, co, fh, fw, sh, sw, pt, pl, flags, scratch, lo, hi)`
   * over output positions [lo, hi); flags 1 = bias, 2 = ReLU; co ≥ 8; scratch 16·fh·fw·ci bytes.
   */
  conv2d: SimdKernel;
  /**
   * `(dy, w, dx, n, h, w, ci, oh, ow, co, fh, fw, sh, sw, pt, pl, scratch, lo, hi)` over dx rows
   * (b, iy) in [lo, hi); ci ≥ 8; scratch bytes: see conv2d.wat.
   */
  conv2dBackpropInput: SimdKernel;
  /**
   * `(x, dy, out, n, h, w, ci, oh, ow, co, fh, fw, sh, sw, pt, pl, block, scratch, lo, hi)`;
   * co % 8 = 0; split over 4 × 8 tiles of dW, scratch block × ⌈R / 4⌉ · 16 bytes.
   */
  conv2dBackpropFilter: SimdKernel;
  /**
   * `(a, b, bias, c, m, k, n, transposeA, transposeB, hasBias, relu, scratch, lo, hi)`: rows
   * [lo, hi) of C = op(A)·op(B) (+ bias, ReLU); scratch 32·(k + 1) bytes where transposeB or
   * n % 8 ≠ 0.
   */
  matmul: SimdKernel;
  /**
   * `(x, dy, dx, n, h, w, c, oh, ow, fh, fw, sh, sw, pt, pl, scratch, lo, hi)`; c % 4 = 0;
   * split over rows (b, iy) of dx, no scratch.
   */
  maxPoolGrad: SimdKernel;
  /** `(w, a, g, outW, outA, size, momentum, −lr)`. */
  momentum: SimdKernel;
}

/**
 * The kernels that follow the split convention, ending with `(scratch, lo, hi)`; simd_pool.ts
 * runs only these.
 */
export const SPLIT_KERNELS = [
  "conv2d",
  "conv2dBackpropInput",
  "conv2dBackpropFilter",
  "matmul",
  "maxPoolGrad",
] as const;

/** A kernel that follows the split convention. */
export type SplitKernel = (typeof SPLIT_KERNELS)[number];

/** Each kernel's binary (`<name>.wasm`, `<name>.shared.wasm`), by export name. */
const _BINARIES: Record<keyof SimdKernels, string> = {
  adam: "adam",
  conv2d: "conv2d",
  conv2dBackpropInput: "conv2d",
  conv2dBackpropFilter: "conv2d_backprop_filter",
  matmul: "matmul",
  maxPoolGrad: "max_pool_grad",
  momentum: "momentum",
};

interface _Emscripten {
  wasmMemory?: WebAssembly.Memory;
  asm?: { memory?: WebAssembly.Memory };
}

const _modules = new Map<string, WebAssembly.Module>();
const _instances = new WeakMap<object, SimdKernels | null>();

function _compiled(file: string): WebAssembly.Module {
  let module = _modules.get(file);
  if (!module) {
    module = new WebAssembly.Module(Deno.readFileSync(new URL(file, import.meta.url)));
    _modules.set(file, module);
  }
  return module;
}

/**
 * The memory tfjs-backend-wasm `backend` keeps its heap in (shared in the threaded build), or
 * null where it cannot be found.
 */
export function simdMemory(backend: tf.KernelBackend): WebAssembly.Memory | null {
  const wasm = (backend as unknown as { wasm?: _Emscripten }).wasm;
  // The threaded build imports a shared memory (wasmMemory); the other exports its own.
  const memory = wasm?.wasmMemory ?? wasm?.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : null;
}

/**
 * Each kernel's compiled binary for `memory` (the `.shared.wasm` ones for a shared memory), by
 * export name; instantiate with `{ env: { memory } }`.
 */
export function simdModules(memory: WebAssembly.Memory): [keyof SimdKernels, WebAssembly.Module][] {
  const suffix = memory.buffer instanceof SharedArrayBuffer ? ".shared.wasm" : ".wasm";
  return (Object.entries(_BINARIES) as [keyof SimdKernels, string][]).map((
    [name, binary],
  ) => [name, _compiled(`${binary}${suffix}`)]);
}

/**
 * The kernels bound to `backend`'s heap (a tfjs-backend-wasm backend, single-threaded or
 * threaded), or null where its memory cannot be found.
 */
export function simdKernels(backend: tf.KernelBackend): SimdKernels | null {
  if (_instances.has(backend)) return _instances.get(backend)!;
  const memory = simdMemory(backend);
  let kernels: SimdKernels | null = null;
  if (memory) {
    kernels = Object.fromEntries(
      simdModules(memory).map(([name, module]) => [
        name,
        new WebAssembly.Instance(module, { env: { memory } }).exports[name] as SimdKernel,
      ]),
    ) as unknown as SimdKernels;
  }
  _instances.set(backend, kernels);
  return kernels;
}
