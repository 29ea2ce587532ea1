/**
 * A correction for tfjs-backend-webgpu 4.22: its split-K matrix product (chosen for one batch,
 * an inner dimension of 2,000 or more and few output tiles) returns wrong values when B is
 * transposed and the vec4 path is taken (seen on Mesa's llvmpipe: [4, 3136] × [100, 3136]ᵀ off
 * by more than 100 %; `tests/backend_agreement_test.ts` caught it in the conv autoencoder's
 * backward pass). We transpose B explicitly first in that case, which takes a correct path.
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Inner dimension from which tfjs-backend-webgpu may pick its split-K program. */
const _SPLIT_K_MIN_INNER = 2000;

type _Inputs = Record<string, tf.TensorInfo | undefined>;
type _Attrs = Record<string, unknown> & { transposeB: boolean };

const _ours = new Set<tf.KernelFunc>();

function _wrap(name: "BatchMatMul" | "_FusedMatMul"): void {
  const original = tf.getKernel(name, "webgpu");
  if (!original || _ours.has(original.kernelFunc)) return;
  const kernelFunc = ((args: { inputs: _Inputs; backend: tf.KernelBackend; attrs: _Attrs }) => {
    const { inputs, backend, attrs } = args;
    const b = inputs.b!;
    const batch = b.shape.length > 2 ? b.shape[0] : 1;
    const inner = b.shape[b.shape.length - 1];
    if (!attrs.transposeB || batch !== 1 || inner < _SPLIT_K_MIN_INNER) {
      return original.kernelFunc(args as never);
    }
    const perm = b.shape.map((_, i) => i);
    perm.splice(-2, 2, perm.length - 1, perm.length - 2);
    const bT = tf.getKernel("Transpose", "webgpu")!.kernelFunc({
      inputs: { x: b },
      backend,
      attrs: { perm },
    }) as tf.TensorInfo;
    const out = original.kernelFunc({
      inputs: { ...inputs, b: bT },
      backend,
      attrs: { ...attrs, transposeB: false },
    } as never);
    backend.disposeData(bT.dataId);
    return out;
  }) as unknown as tf.KernelFunc;
  _ours.add(kernelFunc);
  tf.unregisterKernel(name, "webgpu");
  tf.registerKernel({
    kernelName: name,
    backendName: "webgpu",
    kernelFunc,
    setupFunc: original.setupFunc,
  });
}

/** Registers the corrected matrix-product kernels on the webgpu backend (idempotent). */
export function registerWebGpuFixes(): void {
  _wrap("BatchMatMul");
  _wrap("_FusedMatMul");
}
