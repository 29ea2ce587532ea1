/**
 * Training kernels for tfjs-backend-wasm 4.22, built on its XNNPACK convolution and matmul and
 * on claimcheck's own SIMD kernels.
 *
 * The wasm backend cannot train conv nets: it has no `Conv2DBackpropFilter`, and its
 * `Conv2DBackpropInput`, `MaxPoolGrad`, transposed `BatchMatMul` and leading-axis `Sum` are
 * scalar C++ loops (10–100× slower than XNNPACK), its `MaxPoolGrad` sends ties to the last
 * maximum and windows whose maximum is ≤ FLT_MIN to position 0, its `Identity` copies, and its
 * `Slice` copies the whole input out of the heap first. Each kernel here rewrites the work as
 * XNNPACK `Conv2D` / untransposed `BatchMatMul` / elementwise / pooling over rearranged
 * operands (rearranged with the backend's `Transpose`, `PadV2`, `Reshape`), calling the
 * backend's kernel functions directly (no engine, no gradient tape), or runs claimcheck's own
 * WebAssembly SIMD kernels in the backend's heap (simd/: Conv2D and its input gradient, and the
 * GEMM of BatchMatMul and _FusedMatMul, without packing and with the bits of the paths they
 * replace, the filter gradient without packing, MaxPoolGrad, and fused Adam and momentum updates,
 * which harness/train/fused_optimizers.ts calls; in the threaded build all but the optimizer
 * updates run on all its threads, simd/simd_pool.ts). Arguments these do not cover go to the
 * backend's own kernel.
 *
 * `registerWasmTrainingKernels()` installs them (harness/backend.ts does, for `wasm`).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type SimdKernels, simdKernels, type SplitKernel } from "./simd/simd_kernels.ts";
import { runSplit, splitPieces } from "./simd/simd_pool.ts";

type Info = tf.TensorInfo;
type Backend = tf.KernelBackend;
type Attrs = Record<string, unknown>;
type Pad4 = [[number, number], [number, number], [number, number], [number, number]];

const BACKEND = "wasm";

/** A kernel call on the backend whose temporaries are freed together. */
class _Scope {
  readonly #temps: Info[] = [];
  constructor(readonly backend: Backend) {}

  /** Runs the backend's currently registered `name` kernel (or `fn`) and tracks its output. */
  run(name: string, inputs: Record<string, Info> | Info[], attrs: Attrs = {}): Info {
    const cfg = tf.getKernel(name, BACKEND);
    if (!cfg) throw new Error(`wasm kernel ${name} is not registered`);
    return this.call(cfg.kernelFunc, inputs, attrs);
  }

  call(fn: tf.KernelFunc, inputs: Record<string, Info> | Info[], attrs: Attrs = {}): Info {
    const out = fn({
      inputs: inputs as tf.NamedTensorInfoMap,
      backend: this.backend,
      attrs: attrs as tf.NamedAttrMap,
    }) as Info;
    this.#temps.push(out);
    return out;
  }

  /** A new tensor with these values. */
  tensor(values: Float32Array | Int32Array, shape: number[]): Info {
    const dtype = values instanceof Int32Array ? "int32" : "float32";
    const dataId = this.backend.write(values, shape, dtype);
    const out: Info = { dataId, shape, dtype };
    this.#temps.push(out);
    return out;
  }

  reshape(x: Info, shape: number[]): Info {
    return this.run("Reshape", { x }, { shape });
  }

  transpose(x: Info, perm: number[]): Info {
    return this.run("Transpose", { x }, { perm });
  }

  slice(x: Info, begin: number[], size: number[]): Info {
    return this.run("Slice", { x }, { begin, size });
  }

  /** The backend's own (XNNPACK) Conv2D, stride 1, as the rewrites here are built on it. */
  conv2d(x: Info, filter: Info, pad: Pad4, dilations: [number, number] = [1, 1]): Info {
    const own = _backendKernel("Conv2D");
    if (!own) throw new Error("wasm kernel Conv2D is not registered");
    return this.call(own.kernelFunc, { x, filter }, {
      strides: [1, 1],
      pad,
      dataFormat: "NHWC",
      dilations,
      dimRoundingMode: undefined,
    });
  }

  /** Frees every temporary except `result`, which is returned to the engine. */
  finish(result: Info): Info {
    for (const t of this.#temps) if (t !== result) this.backend.disposeData(t.dataId);
    return result;
  }

  /** Frees every temporary (after an error). */
  abort(): void {
    for (const t of this.#temps) this.backend.disposeData(t.dataId);
  }
}

function _scoped(
  backend: Backend,
  body: (s: _Scope) => Info,
): Info {
  const s = new _Scope(backend);
  let out: Info;
  try {
    out = body(s);
  } catch (e) {
    s.abort();
    throw e;
  }
  return s.finish(out);
}

function _convInfo(
  xShape: number[],
  filterShape: number[],
  attrs: Attrs,
): tf.backend_util.Conv2DInfo {
  if (attrs.dataFormat === "NCHW") {
    throw new Error("wasm training kernels support only dataFormat NHWC");
  }
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as "valid" | "same" | number,
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
    false,
    "channelsLast",
  );
}

/** The original (backend's own) kernel a replacement falls back to, if there was one. */
type _Original = tf.KernelConfig | undefined;

/** What the engine passes a kernel function: its inputs, the backend and the op's attributes. */
export type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: Backend; attrs?: Attrs };

function _fallback(original: _Original, name: string, args: KernelArgs): Info {
  if (!original) throw new Error(`wasm ${name}: unsupported arguments`);
  return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as Info;
}

// Rough costs (ns per element or per multiply-add) used to choose between equivalent
// formulations; measured on tfjs-backend-wasm 4.22 (SIMD, one thread). XNNPACK packs the weights
// of every new operator (a new weights tensor each step), which costs far more per element than
// a multiply-add.
const _PACK_NS = 12;
const _TRANSPOSE_NS = 2;
const _MAC_NS = 0.15;

/** [r, c] → [c, r], avoiding the cache-set conflicts of the backend's 2-D transpose. */
function _transpose2d(s: _Scope, x: Info, r: number, c: number): Info {
  const x2 = x.shape.length === 2 ? x : s.reshape(x, [r, c]);
  // Rows a multiple of 1024 make every output write land in the same cache set; go through
  // 32-row blocks instead (block transposes, then a copy of 32-float runs).
  if (r % 1024 === 0 && c > 1) {
    const b = 32;
    const t = s.transpose(s.reshape(x2, [r / b, b, c]), [0, 2, 1]);
    return s.reshape(s.transpose(t, [1, 0, 2]), [c, r]);
  }
  return s.transpose(x2, [1, 0]);
}

// ---------------------------------------------------------------------------------------------
// Conv2DBackpropFilter: dW as a forward convolution over transposed operands,
//
//   dW[kh,kw,ci,co] = Σ_{n,oh,ow} x[n, oh·s+kh−pt, ow·s+kw−pl, ci] · dy[n,oh,ow,co],
//
// in one of two ways. XNNPACK packs the filter of every new operator at ~10 ns per element,
// far more than a multiply-add, so the choice is mostly about which operand gets packed:
//
// A (filter = dy): x' = x^T [ci, h, w, n] (batch ci, channels n) convolved with
//   dy' = dy^T [oh, ow, n, co] dilated by the stride; the output [ci, kh, kw, co] is dW^T.
// B (filter = x): dy'' = dy^T [co, oh, ow, n], zero-upsampled by the stride, convolved with
//   x'' = x^T [h, w, n, ci]; the output [co, fh−1−kh, fw−1−kw, ci] is dW flipped and
//   transposed. B computes taps over all of x (≈ s² times the multiply-adds) and wastes
//   XNNPACK's 8-wide output tiles when ci < 8, but packs x instead of dy.
// ---------------------------------------------------------------------------------------------

/**
 * x [a, h, w, c] → [c, h, w, a]. The backend's 4-D transpose walks the output in order and
 * reads x with a stride of h·w·c, which thrashes the cache once x outgrows it; then three
 * transposes that each keep a contiguous inner block are faster.
 */
function _swapOuterInner(s: _Scope, x: Info): Info {
  const [a, h, w, c] = x.shape;
  if (a * h * w * c < 1 << 20 || a === 1 || c === 1) return s.transpose(x, [3, 1, 2, 0]);
  const t1 = s.transpose(s.reshape(x, [a, h * w, c]), [1, 0, 2]); // [hw, a, c]
  const t2 = s.transpose(t1, [0, 2, 1]); // [hw, c, a]
  return s.reshape(s.transpose(t2, [1, 0, 2]), [c, h, w, a]);
}

/** Cost estimate (ns) of transposes that move the innermost dimension / keep it. */
const _TRANSPOSE_SLOW_NS = 4;
const _TRANSPOSE_FAST_NS = 0.8;

/** XNNPACK's f32 GEMM tiles are 8 outputs wide: the work of c outputs, in multiply-adds. */
function _tiled(c: number): number {
  return Math.ceil(c / 8) * 8;
}

/**
 * Rows of a matrix whose transpose (by the backend, or inside XNNPACK's packing) would make
 * every column's writes hit a few cache sets: a multiple of 512.
 */
function _thrashes(rows: number): boolean {
  return rows % 512 === 0;
}

/**
 * How {@link conv2DBackpropFilter} computes dW: claimcheck's SIMD kernel, XNNPACK formulation A or
 * B (above), or "auto": the SIMD kernel where it runs, else the cheaper formulation.
 */
export type FilterGradWay = "auto" | "simd" | "A" | "B";

/**
 * The `Conv2DBackpropFilter` kernel registered on wasm, which computes dW `way` ("auto" as
 * registered; tests force each way to check they agree). Throws where `way` is "simd" and the
 * SIMD kernel cannot run (co not a multiple of 8, not float32, or no wasm heap).
 */
export function conv2DBackpropFilter(
  { inputs, backend, attrs }: KernelArgs,
  way: FilterGradWay = "auto",
): Info {
  const { x, dy } = inputs as { x: Info; dy: Info };
  const a = attrs ?? {};
  const info = _convInfo(x.shape, a.filterShape as number[], a);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci } = info;
  const { outHeight: oh, outWidth: ow, outChannels: co, filterHeight: fh, filterWidth: fw } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top, pl = info.padInfo.left;
  const xSize = n * h * w * ci, dySize = n * oh * ow * co;
  const macs = n * oh * ow * fh * fw;
  const costA = _PACK_NS * dySize + (ci > 1 ? _TRANSPOSE_SLOW_NS : _TRANSPOSE_FAST_NS) * xSize +
    _TRANSPOSE_FAST_NS * dySize + _MAC_NS * macs * ci * _tiled(co);
  const costB = _PACK_NS * xSize + _TRANSPOSE_FAST_NS * xSize +
    (_TRANSPOSE_SLOW_NS + (sh * sw > 1 ? sh * sw : 0)) * dySize +
    _MAC_NS * n * h * w * fh * fw * co * _tiled(ci);
  const heap = _heap(backend);
  const simd = heap && co % 8 === 0 && x.dtype === "float32" && dy.dtype === "float32" &&
      (way === "auto" || way === "simd")
    ? simdKernels(backend)
    : null;
  if (simd && heap) return _dwSimd(heap, x, dy, info);
  if (way === "simd") throw new Error("Conv2DBackpropFilter: the SIMD kernel cannot run here");
  const useB = (way === "auto" ? costB < costA : way === "B") && pt <= fh - 1 && pl <= fw - 1;
  return _scoped(backend, (s) => {
    // A zero sample, when the packed filter's row count (n·taps) would thrash the cache.
    const padBatch = (t: Info) =>
      s.run("PadV2", { x: t }, { paddings: [[0, 1], [0, 0], [0, 0], [0, 0]], constantValue: 0 });
    return useB
      ? _dwB(s, x, dy, info, _thrashes(n * h * w) ? padBatch : null)
      : _dwA(s, x, dy, info, _thrashes(n * oh * ow) ? padBatch : null);
  });
}

/**
 * Positions per block of the SIMD kernel: the block's im2col rows (block × R floats) and dy
 * rows (block × co) fill at most 128 KiB. Measured on the suite's shapes, 64–128 positions beat
 * 256–512 by 5–30 %.
 */
function _simdBlock(rows: number, co: number): number {
  return Math.max(16, Math.min(128, Math.floor(32768 / (rows + co))));
}

/**
 * A convolution's geometry as claimcheck's SIMD kernels take it: n, h, w, ci (x or dx), oh, ow,
 * co (y or dy), fh, fw, sh, sw, pt, pl.
 */
function _convGeometry(info: tf.backend_util.Conv2DInfo): number[] {
  return [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  ];
}

/**
 * dW by claimcheck's own SIMD kernel (simd/conv2d_backprop_filter.wat): dy is not packed. Split
 * over dW's 4 × 8 tiles, each piece with its own block of im2col rows.
 */
function _dwSimd(heap: _HeapBackend, x: Info, dy: Info, info: tf.backend_util.Conv2DInfo): Info {
  const { inChannels: ci, outChannels: co, filterHeight: fh, filterWidth: fw } = info;
  const rows = Math.ceil(fh * fw * ci / 4) * 4, block = _simdBlock(rows, co);
  return _simdCall(
    heap,
    [fh, fw, ci, co],
    [x, dy],
    "conv2dBackpropFilter",
    (offsets) => [...offsets, ..._convGeometry(info), block],
    { total: rows / 4 * (co / 8), scratchFloats: block * rows },
  );
}

function _dwA(
  s: _Scope,
  x: Info,
  dy: Info,
  info: tf.backend_util.Conv2DInfo,
  padBatch: ((t: Info) => Info) | null,
): Info {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci } = info;
  const { outHeight: oh, outWidth: ow, filterHeight: fh, filterWidth: fw } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top, pl = info.padInfo.left;
  // Bottom/right padding that makes the output exactly fh × fw; negative means rows of x
  // no window reads, which are cropped.
  const pb = fh + (oh - 1) * sh - h - pt;
  const pr = fw + (ow - 1) * sw - w - pl;
  let xx = x, dd = dy;
  if (pb < 0 || pr < 0) {
    xx = s.slice(x, [0, 0, 0, 0], [n, h + Math.min(pb, 0), w + Math.min(pr, 0), ci]);
  }
  if (padBatch) {
    xx = padBatch(xx);
    dd = padBatch(dd);
  }
  const xT = _swapOuterInner(s, xx);
  const dyT = s.transpose(dd, [1, 2, 0, 3]);
  const pad: Pad4 = [[0, 0], [pt, Math.max(pb, 0)], [pl, Math.max(pr, 0)], [0, 0]];
  const dwT = s.conv2d(xT, dyT, pad, [sh, sw]);
  return ci === 1 ? s.reshape(dwT, [fh, fw, 1, dwT.shape[3]]) : s.transpose(dwT, [1, 2, 0, 3]);
}

function _dwB(
  s: _Scope,
  x: Info,
  dy: Info,
  info: tf.backend_util.Conv2DInfo,
  padBatch: ((t: Info) => Info) | null,
): Info {
  const { inHeight: h, inWidth: w, inChannels: ci } = info;
  const { outHeight: oh, outWidth: ow, outChannels: co, filterHeight: fh, filterWidth: fw } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const top = fh - 1 - info.padInfo.top, left = fw - 1 - info.padInfo.left;
  const xx = padBatch ? padBatch(x) : x, dd = padBatch ? padBatch(dy) : dy;
  const nn = xx.shape[0];
  const filter = s.transpose(xx, [1, 2, 0, 3]); // [h, w, n, ci]
  let input = _swapOuterInner(s, dd); // [co, oh, ow, n]
  if (sh > 1 || sw > 1) {
    const six = s.reshape(input, [co, oh, 1, ow, 1, nn]);
    const up = s.run("PadV2", { x: six }, {
      paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]],
      constantValue: 0,
    });
    input = s.reshape(up, [co, oh * sh, ow * sw, nn]);
  }
  const [lh, lw] = input.shape.slice(1, 3);
  // Padding for an fh × fw output; negative: extra rows past kh < 0, cropped below.
  const bottom = fh - 1 + h - lh - top, right = fw - 1 + w - lw - left;
  const pad: Pad4 = [[0, 0], [top, Math.max(bottom, 0)], [left, Math.max(right, 0)], [0, 0]];
  let out = s.conv2d(input, filter, pad); // [co, fh−1−kh, fw−1−kw, ci]
  if (bottom < 0 || right < 0) out = s.slice(out, [0, 0, 0, 0], [co, fh, fw, ci]);
  // Flip (kh, kw), i.e. reverse their joint row-major index, with an exchange-matrix product
  // (the backend's Reverse is slow even on small tensors).
  const taps = fh * fw;
  const exchange = new Float32Array(taps * taps);
  for (let i = 0; i < taps; i++) exchange[i * taps + taps - 1 - i] = 1;
  const flipped = s.run("BatchMatMul", {
    a: s.tensor(exchange, [taps, taps]),
    b: s.reshape(s.transpose(out, [1, 2, 3, 0]), [taps, ci * co]),
  }, { transposeA: false, transposeB: false });
  return s.reshape(flipped, [fh, fw, ci, co]);
}

// ---------------------------------------------------------------------------------------------
// Conv2D and FusedConv2D: claimcheck's SIMD kernel, which reads the weights in place (XNNPACK
// packs them for every new weights tensor, i.e. every training step) and gives XNNPACK's bits
// (simd/conv2d.wat); a call computes a range of output positions, so a pool can split it.
// ---------------------------------------------------------------------------------------------

/**
 * How {@link conv2D} and {@link fusedConv2D} compute: claimcheck's SIMD kernel, the backend's own
 * (XNNPACK), or "auto": the SIMD kernel where it runs, except on the threaded build, else the
 * backend's own.
 */
export type ConvWay = "auto" | "simd" | "xnnpack";

/**
 * The `Conv2D` kernel registered on wasm: claimcheck's SIMD kernel (split across the SIMD pool's
 * threads, or given `parts`, in that many consecutive calls on this thread) where it runs, else
 * the backend's own. Throws where `way` is "simd" and it cannot run (fewer than 8 output
 * channels, dilation, NCHW, not float32).
 */
export function conv2D(args: KernelArgs, way: ConvWay = "auto", parts?: number): Info {
  return _conv2d("Conv2D", args, way, parts);
}

/**
 * The `FusedConv2D` kernel registered on wasm: as {@link conv2D}, with a bias and a linear or
 * ReLU activation (other activations and PReLU weights go to the backend's own).
 */
export function fusedConv2D(args: KernelArgs, way: ConvWay = "auto", parts?: number): Info {
  return _conv2d("FusedConv2D", args, way, parts);
}

const _ACTIVATION_FLAGS: Record<string, number> = { linear: 0, relu: 2 };

function _conv2d(name: string, args: KernelArgs, way: ConvWay, parts?: number): Info {
  const { inputs, backend, attrs } = args;
  const { x, filter, bias } = inputs as { x: Info; filter: Info; bias?: Info };
  const a = attrs ?? {};
  const activation = _ACTIVATION_FLAGS[(a.activation as string | undefined) ?? "linear"];
  const heap = _heap(backend);
  const info = a.dataFormat === "NCHW" ? null : tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    a.strides as number | [number, number],
    a.dilations as number | [number, number],
    a.pad as "valid" | "same" | number,
    a.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
  );
  const co = info?.outChannels ?? 0;
  const simd = heap && info && way !== "xnnpack" &&
      activation !== undefined &&
      !inputs.preluActivationWeights && x.dtype === "float32" && filter.dtype === "float32" &&
      (!bias || (bias.dtype === "float32" && bias.shape.length === 1 && bias.shape[0] === co)) &&
      info.dilationHeight === 1 && info.dilationWidth === 1 && co >= 8 &&
      tf.util.sizeFromShape(info.outShape) > 0 && tf.util.sizeFromShape(x.shape) > 0
    ? simdKernels(backend)
    : null;
  if (!simd || !heap || !info) {
    if (way === "simd") throw new Error(`${name}: the SIMD kernel cannot run here`);
    return _fallback(_backendKernel(name), name, args);
  }
  const { inChannels: ci, filterHeight: fh, filterWidth: fw } = info;
  const flags = (bias ? 1 : 0) | activation;
  const operands = _biasedOperands(x, filter, bias);
  return _simdCall(
    heap,
    info.outShape,
    operands.inputs,
    "conv2d",
    (offsets) => [...operands.first(offsets), ..._convGeometry(info), flags],
    {
      total: info.batchSize * info.outHeight * info.outWidth,
      grain: 4,
      // The bytes conv2d.wat documents, in floats.
      scratchFloats: 4 * fh * fw * ci + ci + 20,
      parts,
    },
  );
}

/**
 * The inputs of a kernel taking `(a, b, bias, out, …)`: `[a, b]` or `[a, b, bias]`, and from
 * their offsets and the output's (last) those first four arguments (bias 0 where there is none).
 */
function _biasedOperands(
  a: Info,
  b: Info,
  bias: Info | null | undefined,
): { inputs: Info[]; first: (offsets: number[]) => number[] } {
  return {
    inputs: bias ? [a, b, bias] : [a, b],
    first: (o) => [o[0], o[1], bias ? o[2] : 0, o[o.length - 1]],
  };
}

/** How a SIMD kernel call is split: its range, grain, scratch per piece, and pieces. */
interface _Split {
  /** The size of the split dimension. */
  total: number;
  /** Pieces are whole multiples of this (a kernel's tile). Default 1. */
  grain?: number;
  /** The floats of scratch each piece gets. */
  scratchFloats: number;
  /**
   * Given: that many consecutive calls on this thread (the split a pool makes; tests check it
   * changes no bit). Absent: split across the SIMD pool's threads (one call without a pool).
   */
  parts?: number;
}

/**
 * Runs SIMD kernel `kernel` over [0, total) into a new float32 output of `shape` and returns
 * it. `args` gets the heap offsets of `inputs` and of the output (last) and gives the kernel's
 * arguments before `(scratch, lo, hi)`.
 */
function _simdCall(
  heap: _HeapBackend,
  shape: number[],
  inputs: Info[],
  kernel: SplitKernel,
  args: (offsets: number[]) => number[],
  { total, grain = 1, scratchFloats, parts }: _Split,
): Info {
  const pieces = parts ?? splitPieces(heap, total, grain);
  const out = heap.makeOutput(shape, "float32");
  const scratch = heap.makeOutput([Math.max(1, pieces * scratchFloats)], "float32");
  try {
    // Offsets read after both allocations, which may grow (and move the views of) the heap.
    const at = (t: Info) => heap.typedArrayFromHeap(t).byteOffset;
    const before = args([...inputs, out].map(at));
    const scratchAt = at(scratch), scratchBytes = 4 * scratchFloats;
    if (parts === undefined) {
      runSplit(heap, { kernel, args: before, total, grain, scratch: scratchAt, scratchBytes });
    } else {
      const run = simdKernels(heap)![kernel];
      for (let i = 0; i < parts; i++) {
        const lo = Math.floor(total * i / parts), hi = Math.floor(total * (i + 1) / parts);
        run(...before, scratchAt + i * scratchBytes, lo, hi);
      }
    }
  } catch (e) {
    heap.disposeData(out.dataId);
    throw e;
  } finally {
    heap.disposeData(scratch.dataId);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Conv2DBackpropInput: dx as one stride-1 convolution of dy per output phase.
//
// dx[h] = Σ_{oh·s+kh−pt = h} dy[oh] · W[kh]. Writing h = s·q + r, each phase r is a stride-1
// correlation of dy with the taps kh ≡ r + pt (mod s), flipped. All s² phases run as one
// Conv2D whose output channels are (rh, rw, ci); a transpose interleaves them. (Zero-inserting
// dy instead would cost s² times the multiply-adds.)
// ---------------------------------------------------------------------------------------------

interface _PhasePlan {
  /** Output rows per phase: ceil(h / s). */
  q: number;
  /** Taps of the phase filter. */
  t: number;
  /** Padding of dy before / after. */
  before: number;
  after: number;
  /** Offset of W's taps in the phase filter (see below). */
  lead: number;
}

/**
 * One spatial dimension of dx = conv2dTranspose(dy): output row h = s·q + r reads dy rows
 * q + t − before (t < taps) through filter tap kh = s·(taps − 1 − t) + r − lead (zero when
 * out of range).
 */
function _phasePlan(
  f: number,
  pad: number,
  s: number,
  dyLen: number,
  xLen: number,
): _PhasePlan | null {
  const q = Math.ceil(xLen / s);
  // d = (kh − r − pad) / s over the (kh, r) pairs with kh ≡ r + pad (mod s).
  let dMax = -Infinity, dMin = Infinity;
  for (let r = 0; r < s; r++) {
    for (let k = 0; k < f; k++) {
      const num = k - r - pad;
      if (((num % s) + s) % s !== 0) continue;
      dMax = Math.max(dMax, num / s);
      dMin = Math.min(dMin, num / s);
    }
  }
  const before = dMax, t = dMax - dMin + 1;
  const after = q - 1 + t - dyLen - before;
  if (!(before >= 0) || after < 0) return null;
  return { q, t, before, after, lead: -s * dMin - pad };
}

/**
 * How {@link conv2DBackpropInput} computes dx: claimcheck's SIMD kernel; "xnnpack", the
 * phase-filter rewrite on XNNPACK's convolution (above) where it applies, else the backend's own
 * loop; or "auto": the SIMD kernel where it runs, except on the threaded build, else as
 * "xnnpack".
 */
export type InputGradWay = "auto" | "simd" | "xnnpack";

/**
 * The `Conv2DBackpropInput` kernel registered on wasm, which computes dx `way` ("auto" as
 * registered) with the SIMD kernel split across the SIMD pool's threads (or given `parts`, in that
 * many consecutive calls on this thread: tests check the split changes no bit). The SIMD kernel sums in the order of both the
 * rewrite and the backend's own loop, so all give the same bits (simd/conv2d.wat). Throws where
 * `way` is "simd" and the SIMD kernel cannot run (fewer than 8 input channels, not float32).
 */
export function conv2DBackpropInput(
  args: KernelArgs,
  way: InputGradWay = "auto",
  parts?: number,
): Info {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs as { dy: Info; filter: Info };
  const a = attrs ?? {};
  const info = _convInfo(a.inputShape as number[], filter.shape, a);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const heap = _heap(backend);
  // The SIMD kernel's tiles are 8 channels of dx wide (with fewer, the phase filter's s²·ci
  // output channels use XNNPACK's tiles better).
  const simd = heap && way !== "xnnpack" &&
      dy.dtype === "float32" && filter.dtype === "float32" && ci >= 8 && n * h * w > 0
    ? simdKernels(backend)
    : null;
  if (simd && heap) {
    const k = Math.ceil(fh / sh) * Math.ceil(fw / sw) * co;
    return _simdCall(
      heap,
      [n, h, w, ci],
      [dy, filter],
      "conv2dBackpropInput",
      (offsets) => [...offsets, ..._convGeometry(info)],
      {
        total: n * h,
        // The bytes conv2d.wat documents, in floats.
        scratchFloats: 8 * fh * fw * co * Math.ceil(ci / 8) + 4 * k + co,
        parts,
      },
    );
  }
  if (way === "simd") throw new Error("Conv2DBackpropInput: the SIMD kernel cannot run here");
  const s = sh;
  const ph = _phasePlan(info.filterHeight, info.padInfo.top, sh, info.outHeight, h);
  const pw = _phasePlan(info.filterWidth, info.padInfo.left, sw, info.outWidth, w);
  if (sh !== sw || !ph || !pw) {
    return _fallback(_backendKernel("Conv2DBackpropInput"), "Conv2DBackpropInput", args);
  }
  return _scoped(backend, (sc) => {
    // Phase filter G[t_h, t_w, co, (r_h·s + r_w)·ci + c] = W[kh, kw, c, co]: a 0/1 selection
    // matrix times W's taps (the backend's Gather / Reverse are slow even on small tensors),
    // then (r_h, r_w) moved next to ci.
    const rows = ph.t * pw.t * s * s, taps = fh * fw;
    const select = new Float32Array(rows * taps);
    let row = 0;
    for (let th = 0; th < ph.t; th++) {
      for (let tw = 0; tw < pw.t; tw++) {
        for (let rh = 0; rh < s; rh++) {
          for (let rw = 0; rw < s; rw++, row++) {
            const kh = s * (ph.t - 1 - th) + rh - ph.lead, kw = s * (pw.t - 1 - tw) + rw - pw.lead;
            if (kh >= 0 && kh < fh && kw >= 0 && kw < fw) select[row * taps + kh * fw + kw] = 1;
          }
        }
      }
    }
    const gathered = sc.run("BatchMatMul", {
      a: sc.tensor(select, [rows, taps]),
      b: sc.reshape(filter, [taps, ci * co]),
    }, { transposeA: false, transposeB: false });
    const moved = sc.transpose(sc.reshape(gathered, [ph.t * pw.t, s * s, ci, co]), [0, 3, 1, 2]);
    const g = sc.reshape(moved, [ph.t, pw.t, co, s * s * ci]);
    const pad: Pad4 = [[0, 0], [ph.before, ph.after], [pw.before, pw.after], [0, 0]];
    let out = sc.conv2d(dy, g, pad);
    if (s > 1) {
      // Interleave the phases (DepthToSpace, whose backend kernel is a slow generic loop):
      // [n·q_h, q_w, r_h, (r_w, ci)] → [n·q_h, r_h, q_w, (r_w, ci)].
      const [qh, qw] = [ph.q, pw.q];
      const split = sc.reshape(out, [n * qh, qw, s, s * ci]);
      out = sc.reshape(sc.transpose(split, [0, 2, 1, 3]), [n, qh * s, qw * s, ci]);
    }
    if (ph.q * s !== h || pw.q * s !== w) out = sc.slice(out, [0, 0, 0, 0], [n, h, w, ci]);
    return out;
  });
}

// ---------------------------------------------------------------------------------------------
// MaxPoolGrad: the first maximum of each window (row-major, as the cpu backend picks it) gets
// dy, found with whole-tensor Sub / Step / MaxPool / Multiply instead of the backend's
// per-element loop (which also starts its maximum at FLT_MIN and keeps the last maximum, so
// windows whose maximum is ≤ FLT_MIN, or tied, get wrong gradients).
// ---------------------------------------------------------------------------------------------

/**
 * How {@link maxPoolGrad} computes dx: claimcheck's SIMD kernel, the XNNPACK rewrite (above), or
 * "auto": the SIMD kernel where it runs, else the rewrite.
 */
export type MaxPoolGradWay = "auto" | "simd" | "xnnpack";

/**
 * The `MaxPoolGrad` kernel registered on wasm, which computes dx `way` ("auto" as registered;
 * tests force each way to check they agree). Throws where `way` is "simd" and the SIMD kernel
 * cannot run (channels not a multiple of 4, not float32, empty, or no wasm heap).
 */
export function maxPoolGrad(
  { inputs, backend, attrs }: KernelArgs,
  way: MaxPoolGradWay = "auto",
): Info {
  const { dy, input: x, output: y } = inputs as { dy: Info; input: Info; output: Info };
  const a = attrs ?? {};
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    a.filterSize as [number, number],
    a.strides as [number, number],
    1,
    a.pad as "valid" | "same" | number,
    a.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
  );
  if (info.dataFormat !== "channelsLast") throw new Error("wasm MaxPoolGrad: NHWC only");
  const heap = _heap(backend);
  const simd = heap && info.inChannels % 4 === 0 && x.dtype === "float32" &&
      tf.util.sizeFromShape(dy.shape) > 0 && way !== "xnnpack"
    ? simdKernels(backend)
    : null;
  if (simd && heap) {
    // A pool keeps its channels: the kernel takes the geometry without co.
    const [n, h, w, c, oh, ow, , ...window] = _convGeometry(info);
    // Split over dx's rows (b, iy); no scratch.
    return _simdCall(
      heap,
      x.shape,
      [x, dy],
      "maxPoolGrad",
      (offsets) => [...offsets, n, h, w, c, oh, ow, ...window],
      { total: info.batchSize * info.inHeight, scratchFloats: 0 },
    );
  }
  if (way === "simd") throw new Error("MaxPoolGrad: the SIMD kernel cannot run here");
  const nonOverlapping = info.strideHeight === info.filterHeight &&
    info.strideWidth === info.filterWidth;
  return _scoped(
    backend,
    (s) =>
      nonOverlapping
        ? _maxPoolGradTiled(s, dy, x, y, info)
        : _maxPoolGradShifted(s, dy, x, y, info),
  );
}

/** Pads x's rows/cols by `before`/`after` with `value`; negative amounts crop instead. */
function _padOrCrop(
  s: _Scope,
  x: Info,
  before: [number, number],
  after: [number, number],
  value: number,
): Info {
  const [n, h, w, c] = x.shape;
  const [ct, cl] = before.map((v) => Math.max(-v, 0)), [cb, cr] = after.map((v) => Math.max(-v, 0));
  let out = x;
  if (ct || cl || cb || cr) out = s.slice(out, [0, ct, cl, 0], [n, h - ct - cb, w - cl - cr, c]);
  const [pt, pl] = before.map((v) => Math.max(v, 0)), [pb, pr] = after.map((v) => Math.max(v, 0));
  if (pt || pl || pb || pr) {
    const paddings = [[0, 0], [pt, pb], [pl, pr], [0, 0]];
    out = s.run("PadV2", { x: out }, { paddings, constantValue: value });
  }
  return out;
}

/** Non-overlapping windows (stride = pool size, tfjs' default): reshape into tiles. */
function _maxPoolGradTiled(
  s: _Scope,
  dy: Info,
  x: Info,
  y: Info,
  info: tf.backend_util.Conv2DInfo,
): Info {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c } = info;
  const { outHeight: oh, outWidth: ow, filterHeight: fh, filterWidth: fw } = info;
  const pt = info.padInfo.top, pl = info.padInfo.left;
  const hh = oh * fh, ww = ow * fw;
  // The windows cover rows [−pt, hh − pt): pad x to that with −∞, or crop what none reads.
  const pb = hh - pt - h, pr = ww - pl - w;
  const xr = _padOrCrop(s, x, [pt, pl], [pb, pr], -Infinity);
  const tiles = [n, oh, fh, ow, fw, c], perWindow = [n, oh, 1, ow, 1, c];
  // The backend's comparison kernels are slow scalar loops (and slower still broadcasting), so
  // everything here is XNNPACK arithmetic. With BIG > fh·fw,
  //   tag = Step(y − x, α = BIG) · rank = rank at x < y, BIG·rank at the maxima (x = y),
  // where rank = fh·fw for a window's first position down to 1 for its last (−∞ padding is
  // never a maximum). A window's largest tag marks its first maximum; tags are exact integers.
  const k = fh * fw, big = 2 ** Math.ceil(Math.log2(k + 1));
  const rank = new Float32Array(k);
  for (let i = 0; i < k; i++) rank[i] = k - i;
  const diff = s.run("Sub", { a: s.reshape(y, perWindow), b: s.reshape(xr, tiles) });
  const tag = s.run("Multiply", {
    a: s.run("Step", { x: diff }, { alpha: big }),
    b: s.tensor(rank, [1, 1, fh, 1, fw, 1]),
  });
  const best = s.run("MaxPool", { x: s.reshape(tag, [n, hh, ww, c]) }, {
    filterSize: [fh, fw],
    strides: [fh, fw],
    pad: "valid",
    dimRoundingMode: undefined,
  });
  // tag − (best − ½) > 0 only at the best.
  const half = s.run("Sub", { a: best, b: s.tensor(new Float32Array([0.5]), []) });
  const first = s.run("Step", { x: s.run("Sub", { a: tag, b: s.reshape(half, perWindow) }) }, {
    alpha: 0,
  });
  const dx = s.run("Multiply", { a: first, b: s.reshape(dy, perWindow) });
  // Undo the padding / cropping: crop what was padded, pad (with 0) what was cropped.
  return _padOrCrop(s, s.reshape(dx, [n, hh, ww, c]), [-pt, -pl], [-pb, -pr], 0);
}

/**
 * Overlapping windows: one strided view of x per window offset, in row-major order; each
 * offset takes the windows whose maximum it is and that no earlier offset took, and its dy is
 * spread back to x's grid by zero-insertion.
 */
function _maxPoolGradShifted(
  s: _Scope,
  dy: Info,
  x: Info,
  y: Info,
  info: tf.backend_util.Conv2DInfo,
): Info {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c } = info;
  const { outHeight: oh, outWidth: ow, filterHeight: fh, filterWidth: fw } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top, pl = info.padInfo.left;
  // On a grid of (bh·sh) × (bw·sw) rows/cols from −pt, offset kh = ah·sh + rh of window oh is
  // row (oh + ah)·sh + rh: block oh + ah, phase rh. Strided views are then plain slices of
  // x reshaped to [n, bh, sh, bw, sw, c] (the backend's StridedSlice is a slow generic loop).
  const bh = oh + Math.ceil(fh / sh), bw = ow + Math.ceil(fw / sw);
  const xp = _padOrCrop(s, x, [pt, pl], [bh * sh - pt - h, bw * sw - pl - w], -Infinity);
  const blocks = s.reshape(xp, [n, bh, sh, bw, sw, c]);
  let free = s.run("Fill", {}, { shape: [n, oh, ow, c], value: 1, dtype: "float32" });
  const parts: Info[] = [];
  for (let kh = 0; kh < fh; kh++) {
    for (let kw = 0; kw < fw; kw++) {
      const ah = Math.floor(kh / sh), rh = kh % sh, aw = Math.floor(kw / sw), rw = kw % sw;
      const view = s.reshape(
        s.slice(blocks, [0, ah, rh, aw, rw, 0], [n, oh, 1, ow, 1, c]),
        [n, oh, ow, c],
      );
      // Windows whose maximum is here and at no earlier offset: free − [x < y]·free, without
      // the backend's slow comparison kernels.
      const below = s.run("Step", { x: s.run("Sub", { a: y, b: view }) }, { alpha: 0 });
      const stillFree = s.run("Multiply", { a: below, b: free });
      const mine = s.run("Sub", { a: free, b: stillFree });
      free = stillFree;
      const g = s.reshape(s.run("Multiply", { a: mine, b: dy }), [n, oh, 1, ow, 1, c]);
      const placed = s.run("PadV2", { x: g }, {
        paddings: [[0, 0], [ah, bh - ah - oh], [rh, sh - 1 - rh], [aw, bw - aw - ow], [
          rw,
          sw - 1 - rw,
        ], [0, 0]],
        constantValue: 0,
      });
      parts.push(placed);
    }
  }
  const sum = s.reshape(parts.length === 1 ? parts[0] : s.run("AddN", parts), [
    n,
    bh * sh,
    bw * sw,
    c,
  ]);
  return _padOrCrop(s, sum, [-pt, -pl], [h + pt - bh * sh, w + pl - bw * sw], 0);
}

// ---------------------------------------------------------------------------------------------
// BatchMatMul and _FusedMatMul of one float32 matrix pair: claimcheck's SIMD GEMM
// (simd/matmul.wat), which reads transposed operands through strides and packs nothing that is
// in place. The XNNPACK way it replaced (still used where the SIMD kernel cannot run): the
// backend runs transposed operands as a scalar loop and XNNPACK's fully-connected path only
// takes A·B with B as packed weights, so transpose explicitly and pick C = A·B or C = (Bᵀ·Aᵀ)ᵀ,
// whichever packs and transposes fewer elements. Both start each element at its bias (or 0) and
// add the products over k in order, one rounded product at a time, so they give the same bits.
// ---------------------------------------------------------------------------------------------

/**
 * How {@link batchMatMul} and {@link fusedMatMul} compute C: claimcheck's SIMD kernel, XNNPACK
 * (as above; the backend's own kernel for _FusedMatMul), or "auto": the SIMD kernel where it
 * runs, else XNNPACK.
 */
export type MatMulWay = "auto" | "simd" | "xnnpack";

/**
 * The heap of `backend` where the SIMD kernels run on it, `tensors` are float32 and none of m,
 * k, n is 0 (the kernel needs all three); else null.
 */
function _simdMatMul(
  backend: Backend,
  tensors: Info[],
  [m, k, n]: [number, number, number],
): _HeapBackend | null {
  const heap = _heap(backend);
  if (!heap || m * k * n === 0 || tensors.some((t) => t.dtype !== "float32")) return null;
  return simdKernels(backend) ? heap : null;
}

/** C = op(A)·op(B) (+ bias, ReLU), [m, n] as `outShape`, by the SIMD kernel. */
function _matMulSimd(
  heap: _HeapBackend,
  a: Info,
  b: Info,
  bias: Info | null,
  [m, k, n]: [number, number, number],
  [ta, tb, relu]: [boolean, boolean, boolean],
  outShape: number[],
): Info {
  const operands = _biasedOperands(a, b, bias);
  return _simdCall(
    heap,
    outShape,
    operands.inputs,
    "matmul",
    (offsets) => [
      ...operands.first(offsets),
      m,
      k,
      n,
      Number(ta),
      Number(tb),
      Number(bias !== null),
      Number(relu),
    ],
    // A 4-row tile per grain; the panels of B that are not in place are copied to scratch.
    { total: m, grain: 4, scratchFloats: tb || n % 8 !== 0 ? 8 * (k + 1) : 0 },
  );
}

/** The sizes (m, k, n) and output shape of a batch-1 op(A)·op(B), or null for batch > 1. */
function _matMulShape(
  a: Info,
  b: Info,
  ta: boolean,
  tb: boolean,
): { mkn: [number, number, number]; outShape: number[] } | null {
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  if (batchA !== 1 || batchB !== 1) return null;
  const [ra, ca] = a.shape.slice(-2), [rb, cb] = b.shape.slice(-2);
  const m = ta ? ca : ra, n = tb ? rb : cb;
  const outShape = [
    ...tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)),
    m,
    n,
  ];
  return { mkn: [m, ta ? ra : ca, n], outShape };
}

/** How often each tensor was the untransposed B (the packed, cached weights) of a matmul. */
const _weightUses = new WeakMap<object, number>();

/**
 * The `BatchMatMul` kernel registered on wasm, which computes C `way` ("auto" as registered;
 * tests force each way to check they agree). Batch > 1 and other dtypes go to the backend's own
 * kernel; throws where `way` is "simd" and the SIMD kernel cannot run.
 */
export function batchMatMul(args: KernelArgs, way: MatMulWay = "auto"): Info {
  const original = _backendKernel("BatchMatMul");
  const { inputs, backend, attrs } = args;
  const { a, b } = inputs as { a: Info; b: Info };
  const ta = Boolean(attrs?.transposeA), tb = Boolean(attrs?.transposeB);
  const shape = _matMulShape(a, b, ta, tb);
  const simd = shape && way !== "xnnpack" ? _simdMatMul(backend, [a, b], shape.mkn) : null;
  if (simd && shape) {
    return _matMulSimd(simd, a, b, null, shape.mkn, [ta, tb, false], shape.outShape);
  }
  if (way === "simd") throw new Error("BatchMatMul: the SIMD kernel cannot run here");
  if (!original || !shape || a.dtype !== "float32") {
    return _fallback(original, "BatchMatMul", args);
  }
  const [ra, ca] = a.shape.slice(-2), [rb, cb] = b.shape.slice(-2);
  const { mkn: [m, k, nOut], outShape } = shape;
  let reused = false;
  if (!tb) {
    const uses = _weightUses.get(b.dataId) ?? 0;
    _weightUses.set(b.dataId, uses + 1);
    reused = uses > 0;
  }
  const tr = _TRANSPOSE_NS, pk = _PACK_NS;
  const cost1 = (reused ? 0 : pk * k * nOut) + (tb ? tr * k * nOut : 0) + (ta ? tr * m * k : 0);
  const cost2 = pk * k * m + (ta ? 0 : tr * m * k) + (tb ? 0 : tr * k * nOut) + tr * m * nOut;
  if (!ta && !tb && cost1 <= cost2) return original.kernelFunc(args as never) as Info;
  const mm = (s: _Scope, x: Info, y: Info) =>
    s.call(original.kernelFunc, { a: x, b: y }, { transposeA: false, transposeB: false });
  return _scoped(backend, (s) => {
    const a2 = s.reshape(a, [ra, ca]), b2 = s.reshape(b, [rb, cb]);
    if (cost1 <= cost2) {
      const x = ta ? _transpose2d(s, a2, ra, ca) : a2;
      const y = tb ? _transpose2d(s, b2, rb, cb) : b2;
      return s.reshape(mm(s, x, y), outShape);
    }
    const x = tb ? b2 : _transpose2d(s, b2, rb, cb); // [n, k]
    const y = ta ? a2 : _transpose2d(s, a2, ra, ca); // [k, m]
    const ct = s.reshape(mm(s, x, y), [nOut, m]);
    return s.reshape(_transpose2d(s, ct, nOut, m), outShape);
  });
}

/**
 * The `_FusedMatMul` kernel registered on wasm (what tfjs-layers' Dense runs: C = A·B + bias,
 * then linear or ReLU), which computes C `way` ("auto" as registered). The SIMD kernel takes
 * batch 1, a bias of n floats or none, linear or ReLU; the rest goes to the backend's own kernel
 * ("xnnpack": XNNPACK for untransposed batch-1 operands). With transposed operands the backend's
 * own kernel is a scalar loop that adds the bias once per 48 values of k and takes it by the
 * output's flat index clamped to n − 1, not by column (wrong unless k ≤ 48 and m = 1 or n = 1);
 * the SIMD kernel adds it once, by column, as cpu does. Throws where `way` is "simd" and the SIMD
 * kernel cannot run.
 */
export function fusedMatMul(args: KernelArgs, way: MatMulWay = "auto"): Info {
  const original = _backendKernel("_FusedMatMul");
  const { inputs, backend, attrs } = args;
  const { a, b, bias, preluActivationWeights } = inputs as Record<string, Info | undefined>;
  const ta = Boolean(attrs?.transposeA), tb = Boolean(attrs?.transposeB);
  const activation = attrs?.activation ?? "linear";
  const shape = a && b ? _matMulShape(a, b, ta, tb) : null;
  const simd = shape && a && b && way !== "xnnpack" && !preluActivationWeights &&
      (activation === "linear" || activation === "relu") &&
      (!bias || (bias.shape.length === 1 && bias.shape[0] === shape.mkn[2]))
    ? _simdMatMul(backend, bias ? [a, b, bias] : [a, b], shape.mkn)
    : null;
  if (simd && shape && a && b) {
    const flags: [boolean, boolean, boolean] = [ta, tb, activation === "relu"];
    return _matMulSimd(simd, a, b, bias ?? null, shape.mkn, flags, shape.outShape);
  }
  if (way === "simd") throw new Error("_FusedMatMul: the SIMD kernel cannot run here");
  return _fallback(original, "_FusedMatMul", args);
}

// ---------------------------------------------------------------------------------------------
// Sum over leading axes (bias gradients: dy summed over batch and space). The backend
// transposes the reduced axes innermost first, which is slow for these shapes; XNNPACK's
// average pooling over an [R, 1] window does the same reduction in one pass.
// ---------------------------------------------------------------------------------------------

function sum(original: _Original, args: KernelArgs): Info {
  const { inputs, backend, attrs } = args;
  const { x } = inputs as { x: Info };
  const axes = tf.util.parseAxisParam(attrs?.axis as number | number[], x.shape).sort((p, q) =>
    p - q
  );
  const k = axes.length;
  const leading = k > 0 && k < x.shape.length && axes.every((v, i) => v === i);
  const r = tf.util.sizeFromShape(x.shape.slice(0, k));
  if (!leading || x.dtype !== "float32" || r < 2) return _fallback(original, "Sum", args);
  const kept = x.shape.slice(k);
  const c = tf.util.sizeFromShape(kept);
  return _scoped(backend, (s) => {
    const mean = s.run("AvgPool", { x: s.reshape(x, [1, r, 1, c]) }, {
      filterSize: [r, 1],
      strides: [r, 1],
      pad: "valid",
      dimRoundingMode: undefined,
    });
    const total = s.run("Multiply", { a: mean, b: s.tensor(new Float32Array([r]), []) });
    return s.reshape(
      total,
      attrs?.keepDims ? [...x.shape.slice(0, k).map(() => 1), ...kept] : kept,
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Identity, and Cast to the same dtype: the backend copies the data; share it instead (with a
// reference count, as Reshape and the cpu backend's Identity do). Gradient code clones
// activation-sized tensors several times per step.
// ---------------------------------------------------------------------------------------------

function _share(backend: Backend, x: Info): Info {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

function identity({ inputs, backend }: KernelArgs): Info {
  return _share(backend, inputs.x as Info);
}

function cast(original: _Original, args: KernelArgs): Info {
  const x = args.inputs.x as Info;
  if (args.attrs?.dtype === x.dtype && x.dtype !== "string") return _share(args.backend, x);
  return _fallback(original, "Cast", args);
}

// ---------------------------------------------------------------------------------------------
// Slice and SplitV: the backend's Slice first copies the *whole* input out of the wasm heap
// (slicing one batch off a 60,000-image tensor copies all 188 MB; tf.split copies it once per
// piece). These copy only the contiguous runs of the result, inside the heap.
// ---------------------------------------------------------------------------------------------

type _HeapBackend = Backend & {
  typedArrayFromHeap(t: Info): Float32Array | Int32Array | Uint8Array;
  makeOutput(shape: number[], dtype: tf.DataType): Info;
};

const _ROW_DTYPES: string[] = ["float32", "int32", "bool"];

function _heap(backend: Backend): _HeapBackend | null {
  const b = backend as Partial<_HeapBackend>;
  return typeof b.typedArrayFromHeap === "function" && typeof b.makeOutput === "function"
    ? b as _HeapBackend
    : null;
}

function slice(original: _Original, args: KernelArgs): Info {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as Info;
  const heap = _heap(backend);
  if (!heap || !_ROW_DTYPES.includes(x.dtype) || x.shape.length === 0) {
    return _fallback(original, "Slice", args);
  }
  const [begin, size] = tf.slice_util.parseSliceParams(
    x as unknown as tf.Tensor,
    attrs?.begin as number[],
    attrs?.size as number[],
  );
  const rank = x.shape.length;
  const out = heap.makeOutput(size, x.dtype);
  if (tf.util.sizeFromShape(size) === 0) return out;
  // Views taken after makeOutput, which may grow (and so detach) the heap.
  const src = heap.typedArrayFromHeap(x), dst = heap.typedArrayFromHeap(out);
  const strides = tf.util.computeStrides(x.shape);
  // The innermost dims taken whole, plus the next one, form contiguous runs.
  let inner = rank - 1;
  while (inner > 0 && size[inner] === x.shape[inner] && begin[inner] === 0) inner--;
  const run = tf.util.sizeFromShape(size.slice(inner));
  const outer = size.slice(0, inner), count = tf.util.sizeFromShape(outer);
  const pos = new Array<number>(inner).fill(0);
  for (let i = 0; i < count; i++) {
    let off = inner < rank ? begin[inner] * (strides[inner] ?? 1) : 0;
    for (let d = 0; d < inner; d++) off += (begin[d] + pos[d]) * strides[d];
    dst.set(src.subarray(off, off + run), i * run);
    for (let d = inner - 1; d >= 0; d--) {
      if (++pos[d] < outer[d]) break;
      pos[d] = 0;
    }
  }
  return out;
}

function splitV(original: _Original, args: KernelArgs): Info[] {
  const { inputs, attrs } = args;
  const x = inputs.x as Info;
  if (!_heap(args.backend) || !_ROW_DTYPES.includes(x.dtype)) {
    if (!original) throw new Error("wasm SplitV: unsupported arguments");
    return original.kernelFunc(args as never) as Info[];
  }
  const axis = tf.util.parseAxisParam(attrs?.axis as number, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(
    x as unknown as tf.Tensor,
    attrs?.numOrSizeSplits as number | number[],
    axis,
  );
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((n) => {
    const size = [...x.shape];
    size[axis] = n;
    const part = slice(_backendKernel("Slice"), { ...args, attrs: { begin: [...begin], size } });
    begin[axis] += n;
    return part;
  });
}

/**
 * Gather of whole rows (axis 0, no batch dims), as the runner takes each batch: one heap copy
 * per row instead of the backend's per-element index arithmetic (0.8 ms for 32 MNIST images,
 * a quarter of a dense training step).
 */
function gather(original: _Original, args: KernelArgs): Info {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as Info, indices = inputs.indices as Info;
  const heap = _heap(backend);
  const axis = x.shape.length ? tf.util.parseAxisParam(attrs?.axis as number, x.shape)[0] : -1;
  if (
    !heap || axis !== 0 || (attrs?.batchDims as number ?? 0) !== 0 ||
    !_ROW_DTYPES.includes(x.dtype) || indices.dtype !== "int32"
  ) {
    return _fallback(original, "GatherV2", args);
  }
  const rowShape = x.shape.slice(1), row = tf.util.sizeFromShape(rowShape);
  const out = heap.makeOutput([...indices.shape, ...rowShape], x.dtype);
  // Views taken after makeOutput, which may grow (and so detach) the heap.
  const src = heap.typedArrayFromHeap(x), dst = heap.typedArrayFromHeap(out);
  const idx = heap.typedArrayFromHeap(indices);
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i];
    if (!(r >= 0 && r < x.shape[0])) {
      throw new Error(`GatherV2: the index value ${r} is not in [0, ${x.shape[0] - 1}]`);
    }
    dst.set(src.subarray(r * row, r * row + row), i * row);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fused optimizer updates (harness/train/fused_optimizers.ts calls them): one kernel per weight.
// ---------------------------------------------------------------------------------------------

/**
 * Name of the fused Adam kernel registered on wasm: inputs `value`, `m`, `v`, `g`; attrs `beta1`,
 * `beta2`, `oneMinusAccBeta1`, `oneMinusAccBeta2`, `epsilon`, `learningRate`; outputs the new
 * value, m and v.
 */
export const FUSED_ADAM = "ClaimcheckFusedAdam";

/**
 * A fused elementwise update: `inputs` must be float32 tensors of one size in the heap; makes
 * `outputs` new tensors of their shape and calls `kernel` with the inputs' then the outputs'
 * heap offsets and the size.
 */
function _fusedUpdate(
  name: string,
  backend: Backend,
  inputs: Info[],
  outputs: number,
  kernel: (simd: SimdKernels, offsets: number[], size: number) => void,
): Info[] {
  const heap = _heap(backend), simd = heap && simdKernels(backend);
  if (!heap || !simd || inputs.some((t) => t.dtype !== "float32")) {
    throw new Error(`${name}: needs float32 tensors on the wasm backend's heap`);
  }
  const size = tf.util.sizeFromShape(inputs[0].shape);
  if (inputs.some((t) => tf.util.sizeFromShape(t.shape) !== size)) {
    throw new Error(`${name}: its inputs must have the same size`);
  }
  const outs = Array.from({ length: outputs }, () => heap.makeOutput(inputs[0].shape, "float32"));
  // Offsets read after the allocations, which may grow (and move the views of) the heap.
  const offsets = [...inputs, ...outs].map((t) => heap.typedArrayFromHeap(t).byteOffset);
  kernel(simd, offsets, size);
  return outs;
}

function fusedAdam({ inputs, backend, attrs }: KernelArgs): Info[] {
  const { value, m, v, g } = inputs as Record<string, Info>;
  const a = attrs as Record<string, number>;
  // As float32 parameters these round as tfjs' float32 scalars of the same numbers do.
  return _fusedUpdate(FUSED_ADAM, backend, [value, m, v, g], 3, (simd, offsets, size) =>
    simd.adam(
      ...offsets,
      size,
      a.beta1,
      1 - a.beta1,
      a.beta2,
      1 - a.beta2,
      a.oneMinusAccBeta1,
      a.oneMinusAccBeta2,
      a.epsilon,
      -a.learningRate,
    ));
}

/**
 * Name of the fused momentum-SGD kernel registered on wasm: inputs `value`, `accumulation`,
 * `g`; attrs `momentum`, `learningRate`; outputs the new value and accumulation.
 */
export const FUSED_MOMENTUM = "ClaimcheckFusedMomentum";

function fusedMomentum({ inputs, backend, attrs }: KernelArgs): Info[] {
  const { value, accumulation, g } = inputs as Record<string, Info>;
  const a = attrs as Record<string, number>;
  return _fusedUpdate(
    FUSED_MOMENTUM,
    backend,
    [value, accumulation, g],
    2,
    (simd, offsets, size) => simd.momentum(...offsets, size, a.momentum, -a.learningRate),
  );
}

// ---------------------------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------------------------

interface _Replacement {
  name: string;
  make: (original: _Original) => tf.KernelFunc;
}

const _REPLACEMENTS: _Replacement[] = [
  { name: FUSED_ADAM, make: () => fusedAdam as unknown as tf.KernelFunc },
  { name: FUSED_MOMENTUM, make: () => fusedMomentum as unknown as tf.KernelFunc },
  {
    name: "Conv2DBackpropFilter",
    make: () => ((args: KernelArgs) => conv2DBackpropFilter(args)) as unknown as tf.KernelFunc,
  },
  {
    name: "Conv2DBackpropInput",
    make: () => ((args: KernelArgs) => conv2DBackpropInput(args)) as unknown as tf.KernelFunc,
  },
  { name: "Conv2D", make: () => ((args: KernelArgs) => conv2D(args)) as unknown as tf.KernelFunc },
  {
    name: "FusedConv2D",
    make: () => ((args: KernelArgs) => fusedConv2D(args)) as unknown as tf.KernelFunc,
  },
  {
    name: "MaxPoolGrad",
    make: () => ((args: KernelArgs) => maxPoolGrad(args)) as unknown as tf.KernelFunc,
  },
  { name: "Identity", make: () => identity as unknown as tf.KernelFunc },
  { name: "Cast", make: (o) => ((args: KernelArgs) => cast(o, args)) as unknown as tf.KernelFunc },
  {
    name: "Slice",
    make: (o) => ((args: KernelArgs) => slice(o, args)) as unknown as tf.KernelFunc,
  },
  {
    name: "SplitV",
    make: (o) => ((args: KernelArgs) => splitV(o, args)) as unknown as tf.KernelFunc,
  },
  { name: "Sum", make: (o) => ((args: KernelArgs) => sum(o, args)) as unknown as tf.KernelFunc },
  {
    name: "GatherV2",
    make: (o) => ((args: KernelArgs) => gather(o, args)) as unknown as tf.KernelFunc,
  },
  {
    name: "BatchMatMul",
    make: () => ((args: KernelArgs) => batchMatMul(args)) as unknown as tf.KernelFunc,
  },
  {
    name: "_FusedMatMul",
    make: () => ((args: KernelArgs) => fusedMatMul(args)) as unknown as tf.KernelFunc,
  },
];

/** The kernel names `registerWasmTrainingKernels` registers on wasm. */
export const WASM_TRAINING_KERNELS: readonly string[] = _REPLACEMENTS.map((r) => r.name);

const _ours = new Set<tf.KernelFunc>();
/** The backend's own kernels that were replaced, by name. */
const _replaced = new Map<string, tf.KernelConfig>();

/** The backend's own kernel `name` (replaced or not). */
function _backendKernel(name: string): _Original {
  const current = tf.getKernel(name, BACKEND);
  return current && _ours.has(current.kernelFunc) ? _replaced.get(name) : current;
}

/**
 * Registers on the wasm backend the kernels conv nets need to train: `Conv2DBackpropFilter`
 * (missing in tfjs-backend-wasm), and replaces `Conv2DBackpropInput`, `MaxPoolGrad`,
 * `BatchMatMul`, `_FusedMatMul`, `Sum`, `Identity`, `Cast`, `Slice`, `SplitV` and `GatherV2` with
 * faster (and, for MaxPoolGrad and transposed _FusedMatMul, correct) versions, and `Conv2D` and
 * `FusedConv2D` with claimcheck's SIMD kernel (the same bits, in calls a thread pool can split),
 * all falling back to the backend's own for what they do not cover. Idempotent; callable before
 * or after the wasm backend is initialised. `only`
 * restricts it to some of `WASM_TRAINING_KERNELS` (for measurements).
 */
export function registerWasmTrainingKernels(only?: readonly string[]): void {
  for (const r of _REPLACEMENTS) {
    if (only && !only.includes(r.name)) continue;
    const existing = tf.getKernel(r.name, BACKEND);
    if (existing && _ours.has(existing.kernelFunc)) continue;
    const kernelFunc = r.make(existing);
    _ours.add(kernelFunc);
    if (existing) {
      _replaced.set(r.name, existing);
      tf.unregisterKernel(r.name, BACKEND);
    }
    tf.registerKernel({
      kernelName: r.name,
      backendName: BACKEND,
      kernelFunc,
      // The backend's own kernel stays callable as the fallback, so keep its setup.
      setupFunc: existing?.setupFunc,
    });
  }
}
