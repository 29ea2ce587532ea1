/**
 * claimcheck's own WebAssembly SIMD kernels, run inside tfjs-backend-wasm's heap: each binary
 * imports the backend's memory, so kernels read and write tensors in place. The binaries are
 * assembled from the `.wat` sources beside them (see build.ts and README.md).
 * @module
 */
import type * as tf from "@tensorflow/tfjs";

/** A kernel: pointers (byte offsets into the backend's heap), then sizes; see its `.wat`. */
export type SimdKernel = (...args: number[]) => void;

/** The kernels, by their export names. */
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
  /** `(x, dy, out, col, n, h, w, ci, oh, ow, co, fh, fw, sh, sw, pt, pl, block)`; co % 8 = 0. */
  conv2dBackpropFilter: SimdKernel;
  /**
   * `(a, b, bias, c, m, k, n, transposeA, transposeB, hasBias, relu, scratch, lo, hi)`: rows
   * [lo, hi) of C = op(A)·op(B) (+ bias, ReLU); scratch 32·(k + 1) bytes where transposeB or
   * n % 8 ≠ 0.
   */
  matmul: SimdKernel;
  /** `(x, dy, dx, n, h, w, c, oh, ow, fh, fw, sh, sw, pt, pl)`; c % 4 = 0. */
  maxPoolGrad: SimdKernel;
  /** `(w, a, g, outW, outA, size, momentum, −lr)`. */
  momentum: SimdKernel;
}

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
 * The kernels bound to `backend`'s heap (a tfjs-backend-wasm backend, single-threaded or
 * threaded), or null where its memory cannot be found.
 */
export function simdKernels(backend: tf.KernelBackend): SimdKernels | null {
  if (_instances.has(backend)) return _instances.get(backend)!;
  const wasm = (backend as unknown as { wasm?: _Emscripten }).wasm;
  // The threaded build imports a shared memory (wasmMemory); the other exports its own.
  const memory = wasm?.wasmMemory ?? wasm?.asm?.memory;
  let kernels: SimdKernels | null = null;
  if (memory instanceof WebAssembly.Memory) {
    const suffix = memory.buffer instanceof SharedArrayBuffer ? ".shared.wasm" : ".wasm";
    const exports = (source: string) =>
      new WebAssembly.Instance(_compiled(`${source}${suffix}`), { env: { memory } }).exports;
    const conv = exports("conv2d");
    kernels = {
      adam: exports("adam").adam as SimdKernel,
      conv2d: conv.conv2d as SimdKernel,
      conv2dBackpropInput: conv.conv2dBackpropInput as SimdKernel,
      conv2dBackpropFilter: exports("conv2d_backprop_filter").conv2dBackpropFilter as SimdKernel,
      matmul: exports("matmul").matmul as SimdKernel,
      maxPoolGrad: exports("max_pool_grad").maxPoolGrad as SimdKernel,
      momentum: exports("momentum").momentum as SimdKernel,
    };
  }
  _instances.set(backend, kernels);
  return kernels;
}
