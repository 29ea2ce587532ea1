/**
 * The control block between the calling thread and one SIMD pool worker (simd_pool.ts,
 * _simd_pool_worker.ts): a SharedArrayBuffer through which the caller hands the worker one
 * kernel call at a time and waits for it with Atomics, not messages (a message would wait for
 * the worker's event loop, and the caller's reply for its own).
 * @module
 */

/** The most numbers a call passes to its kernel (its own arguments, then scratch, lo, hi). */
export const POOL_MAX_ARGS = 40;

// Int32 cells.
/** The number of the call posted last (the caller counts up), or _STOP. */
const _SEQ = 0;
/** The number of the call finished last. */
const _DONE = 1;
/** The number of the call that threw last, and its message's length in bytes. */
const _FAILED = 2;
const _MESSAGE_LENGTH = 3;
const _STOP = -1;
/** Float64 cells from byte 64: the export's index, the count of numbers, the numbers. */
const _CALL = 8;
const _MESSAGE_AT = 8 * (_CALL + 2 + POOL_MAX_ARGS);
const _MESSAGE_BYTES = 256;

/**
 * Loads of the done cell before the caller sleeps in Atomics.wait: the caller runs its own
 * piece meanwhile, so the worker is usually done or nearly; a sleep and wake-up costs more.
 */
const _SPINS = 2000;

/** One worker's control block, as the caller (post, wait, stop) or the worker (serve) sees it. */
export class PoolSlot {
  /** The shared memory of the block; post it to the worker. */
  readonly buffer: SharedArrayBuffer;
  readonly #i32: Int32Array;
  readonly #f64: Float64Array;
  readonly #bytes: Uint8Array;
  #seq = 0;

  /** A new block, or a view of `buffer` (the worker's side). */
  constructor(buffer = new SharedArrayBuffer(_MESSAGE_AT + _MESSAGE_BYTES)) {
    this.buffer = buffer;
    this.#i32 = new Int32Array(buffer);
    this.#f64 = new Float64Array(buffer);
    this.#bytes = new Uint8Array(buffer);
  }

  /** Caller: hands the worker a call of its kernel number `kernel` with `args`. */
  post(kernel: number, args: readonly number[]): void {
    this.#f64[_CALL] = kernel;
    this.#f64[_CALL + 1] = args.length;
    this.#f64.set(args, _CALL + 2);
    // Numbers run 1 .. 2³⁰ − 1, never the cells' initial 0 or _STOP; Atomics.store publishes
    // the writes above to the worker.
    this.#seq = this.#seq < 0x3fffffff ? this.#seq + 1 : 1;
    Atomics.store(this.#i32, _SEQ, this.#seq);
    Atomics.notify(this.#i32, _SEQ);
  }

  /** Caller: waits until the call posted last has finished; its error message, or null. */
  wait(): string | null {
    let done = Atomics.load(this.#i32, _DONE);
    for (let i = 0; done !== this.#seq && i < _SPINS; i++) done = Atomics.load(this.#i32, _DONE);
    while (done !== this.#seq) {
      Atomics.wait(this.#i32, _DONE, done);
      done = Atomics.load(this.#i32, _DONE);
    }
    if (Atomics.load(this.#i32, _FAILED) !== this.#seq) return null;
    const length = Atomics.load(this.#i32, _MESSAGE_LENGTH);
    // TextDecoder takes no view of shared memory: copy first.
    return new TextDecoder().decode(this.#bytes.slice(_MESSAGE_AT, _MESSAGE_AT + length));
  }

  /** Caller: tells the worker to return from serve (after the call it may be running). */
  stop(): void {
    Atomics.store(this.#i32, _SEQ, _STOP);
    Atomics.notify(this.#i32, _SEQ);
  }

  /** Worker: runs each call posted, with `kernels[n]` for kernel number n, until stop. */
  serve(kernels: readonly ((...args: number[]) => unknown)[]): void {
    // From the block's initial 0, not from what it holds now: the caller may post the first
    // call as soon as the worker says it is ready, before this line runs.
    let seen = 0;
    for (;;) {
      Atomics.wait(this.#i32, _SEQ, seen);
      const seq = Atomics.load(this.#i32, _SEQ);
      if (seq === _STOP) return;
      if (seq === seen) continue;
      seen = seq;
      const count = this.#f64[_CALL + 1];
      try {
        kernels[this.#f64[_CALL]](...this.#f64.subarray(_CALL + 2, _CALL + 2 + count));
      } catch (e) {
        const message = this.#bytes.subarray(_MESSAGE_AT, _MESSAGE_AT + _MESSAGE_BYTES);
        const { written } = new TextEncoder().encodeInto(String(e), message);
        Atomics.store(this.#i32, _MESSAGE_LENGTH, written);
        Atomics.store(this.#i32, _FAILED, seq);
      }
      Atomics.store(this.#i32, _DONE, seq);
      Atomics.notify(this.#i32, _DONE);
    }
  }
}
