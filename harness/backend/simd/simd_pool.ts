/**
 * Both cores inside one op: runs one of claimcheck's SIMD kernels over a range split across the
 * calling thread and a pool of module workers, in the threaded wasm build (shared memory).
 *
 * A kernel that follows the split convention ends its parameters with `(scratch, lo, hi)` and
 * computes the part [lo, hi) of its split dimension, every output element inside one call, in
 * an order that does not depend on lo and hi (see its `.wat`), so any split gives bit-identical
 * results. {@link runSplit} cuts [0, total) into equal pieces, whole multiples of a grain (a
 * fixed split: it depends on total, grain and the thread count, never on timing), runs the
 * first piece on the calling thread and hands each other piece to a worker through a shared
 * control block, and returns when all are done. Each worker instantiates the same kernel
 * binaries (`<name>.shared.wasm`) over the backend's memory. With one thread, or the unshared
 * build, it calls the kernel once with (scratch, 0, total).
 *
 * ```ts ignore
 * // How ../wasm_kernels.ts calls a kernel (heap: the backend; sizes and offsets elided).
 * const pieces = splitPieces(backend, total, grain);
 * const scratch = heap.makeOutput([pieces * bytesPerPiece / 4], "float32"); // one area each
 * runSplit(backend, {
 *   kernel: "conv2dBackpropFilter",
 *   args: [x, dy, out, ...sizes],
 *   total,
 *   grain,
 *   scratch: heap.typedArrayFromHeap(scratch).byteOffset,
 *   scratchBytes: bytesPerPiece,
 * });
 * ```
 *
 * The threaded backend starts its pool ({@link startSimdPool}) and stops it when disposed
 * ({@link stopSimdPool}; harness/backend/wasm_threads.ts). A worker waits for calls in
 * Atomics.wait, using no CPU between them; it keeps the process alive until stopped, as the
 * threaded build's own pthread workers do.
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import {
  type SimdKernels,
  simdKernels,
  simdMemory,
  simdModules,
  SPLIT_KERNELS,
  type SplitKernel,
} from "./simd_kernels.ts";
import { POOL_MAX_ARGS, PoolSlot } from "./_pool_slot.ts";
import type { PoolWorkerInit, PoolWorkerReply } from "./_simd_pool_worker.ts";

/** One kernel call split over [0, total). */
export interface SplitCall {
  /** The kernel's export name (one of SPLIT_KERNELS, which end with (scratch, lo, hi)). */
  kernel: SplitKernel;
  /** Its arguments before (scratch, lo, hi): byte offsets into the heap, sizes, scalars. */
  args: readonly number[];
  /** The size of the split dimension: the call computes [0, total). */
  total: number;
  /**
   * Pieces are whole multiples of this (the last ends at total), e.g. a kernel's tile; a range
   * of one grain or less runs on the calling thread alone. A hand-off costs some 10–50 µs:
   * choose it so that a piece is worth more. Default 1.
   */
  grain?: number;
  /** Byte offset of the scratch areas, one per piece (see {@link splitPieces}). Default 0. */
  scratch?: number;
  /** Bytes of each piece's scratch area: piece i gets scratch + i · scratchBytes. Default 0. */
  scratchBytes?: number;
}

/** The calling thread's partners: one worker and its control block each. */
interface _Pool {
  workers: Worker[];
  slots: PoolSlot[];
  /** The kernels' export names; a call names one by its index. */
  names: (keyof SimdKernels)[];
}

const _pools = new WeakMap<object, _Pool>();

/**
 * Starts `threads − 1` workers for `backend`'s SIMD kernels, when its memory is shared (the
 * threaded build) and threads > 1; resolves once they are ready. Stop them with
 * {@link stopSimdPool}.
 */
export async function startSimdPool(backend: tf.KernelBackend, threads: number): Promise<void> {
  const memory = simdMemory(backend);
  if (threads <= 1 || !(memory?.buffer instanceof SharedArrayBuffer)) return;
  if (_pools.has(backend)) throw new Error("startSimdPool: this backend has a pool already");
  const modules = simdModules(memory);
  const pool: _Pool = { workers: [], slots: [], names: modules.map(([name]) => name) };
  const ready: Promise<void>[] = [];
  for (let i = 1; i < threads; i++) {
    const worker = new Worker(new URL("./_simd_pool_worker.ts", import.meta.url), {
      type: "module",
    });
    const slot = new PoolSlot();
    pool.workers.push(worker);
    pool.slots.push(slot);
    ready.push(
      new Promise((resolve, reject) => {
        worker.onmessage = ({ data }: MessageEvent<PoolWorkerReply>) => {
          if (data.type === "ready") resolve();
          else reject(new Error(`SIMD pool worker ${i}: ${data.message}`));
        };
        worker.onerror = (e) => {
          e.preventDefault();
          reject(new Error(`SIMD pool worker ${i}: ${e.message}`));
        };
      }),
    );
    const init: PoolWorkerInit = { memory, modules, slot: slot.buffer };
    worker.postMessage(init);
  }
  try {
    await Promise.all(ready);
  } catch (e) {
    _stop(pool);
    throw e;
  }
  for (const w of pool.workers) w.onmessage = w.onerror = null;
  _pools.set(backend, pool);
}

function _stop(pool: _Pool): void {
  // A worker blocked in Atomics.wait ignores terminate (the process would never exit): wake it.
  for (const slot of pool.slots) slot.stop();
  for (const w of pool.workers) w.terminate();
}

/** Stops `backend`'s pool, if it has one; later calls run on the calling thread alone. */
export function stopSimdPool(backend: tf.KernelBackend): void {
  const pool = _pools.get(backend);
  if (!pool) return;
  _pools.delete(backend);
  _stop(pool);
}

function _checkCount(what: string, value: number, least: number): void {
  if (!Number.isInteger(value) || value < least) {
    throw new Error(`runSplit: ${what} must be an integer ≥ ${least}, not ${value}`);
  }
}

/** The threads {@link runSplit} uses on `backend`: its pool's workers and the caller. */
export function simdPoolThreads(backend: tf.KernelBackend): number {
  return (_pools.get(backend)?.workers.length ?? 0) + 1;
}

/**
 * How many pieces {@link runSplit} cuts [0, total) into on `backend` (1 without a pool):
 * allocate that many scratch areas.
 */
export function splitPieces(backend: tf.KernelBackend, total: number, grain = 1): number {
  _checkCount("total", total, 0);
  _checkCount("grain", grain, 1);
  return Math.max(1, Math.min(simdPoolThreads(backend), Math.ceil(total / grain)));
}

/**
 * Runs `call.kernel` over [0, total) on `backend`, split into {@link splitPieces} pieces: the
 * calling thread computes the first, the pool's workers the others; returns when all are done
 * (throwing the first error, a worker's named). Throws on a usage error: a kernel without
 * (scratch, lo, hi) or given the wrong number of arguments, a range or grain that is not a
 * count, a backend without the SIMD kernels.
 */
export function runSplit(backend: tf.KernelBackend, call: SplitCall): void {
  const { kernel, args, total, grain = 1, scratch = 0, scratchBytes = 0 } = call;
  const kernels = simdKernels(backend);
  if (!kernels) throw new Error("runSplit: the backend has no SIMD kernels (no wasm heap)");
  if (!(SPLIT_KERNELS as readonly string[]).includes(kernel)) {
    throw new Error(`runSplit: ${kernel} is not a SIMD kernel ending with (scratch, lo, hi)`);
  }
  const fn = kernels[kernel];
  // A WebAssembly export's length is its parameter count.
  if (args.length + 3 > POOL_MAX_ARGS) {
    throw new Error(`runSplit: a call passes at most ${POOL_MAX_ARGS - 3} arguments`);
  }
  if (fn.length !== args.length + 3) {
    throw new Error(
      `runSplit: ${kernel} takes ${fn.length - 3} arguments before (scratch, lo, hi), ` +
        `not ${args.length}`,
    );
  }
  if (!args.every(Number.isFinite)) throw new Error(`runSplit: ${kernel}'s arguments: ${args}`);
  _checkCount("scratch", scratch, 0);
  _checkCount("scratchBytes", scratchBytes, 0);
  const pieces = splitPieces(backend, total, grain);
  if (pieces === 1) return fn(...args, scratch, 0, total);
  const pool = _pools.get(backend)!;
  const index = pool.names.indexOf(kernel);
  // Piece i: grains [⌊i·g/p⌋, ⌊(i+1)·g/p⌋) of the g grains, capped at total.
  const grains = Math.ceil(total / grain);
  const bound = (i: number) => Math.min(total, Math.floor(i * grains / pieces) * grain);
  for (let i = 1; i < pieces; i++) {
    pool.slots[i - 1].post(index, [...args, scratch + i * scratchBytes, bound(i), bound(i + 1)]);
  }
  let error: unknown = null;
  try {
    fn(...args, scratch, 0, bound(1));
  } catch (e) {
    error = e;
  }
  // Every worker finishes before anything returns: they write into the caller's tensors.
  for (let i = 1; i < pieces; i++) {
    const failed = pool.slots[i - 1].wait();
    if (failed !== null) error ??= new Error(`${kernel} on SIMD pool worker ${i}: ${failed}`);
  }
  if (error !== null) throw error;
}
