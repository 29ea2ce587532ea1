/// <reference lib="deno.worker" />
/**
 * A worker of the SIMD pool (simd_pool.ts): instantiates claimcheck's kernels over the backend's
 * shared memory, says it is ready, then runs the calls its control block hands it until told to
 * stop, and closes.
 * @module
 */
import { PoolSlot } from "./_pool_slot.ts";

/** What the pool posts a worker, once. */
export interface PoolWorkerInit {
  /** The backend's shared memory. */
  memory: WebAssembly.Memory;
  /** The kernels' compiled binaries and export names; calls name them by index. */
  modules: [string, WebAssembly.Module][];
  /** The worker's control block (a PoolSlot's buffer). */
  slot: SharedArrayBuffer;
}

/** What a worker answers: ready to serve, or why it cannot. */
export type PoolWorkerReply = { type: "ready" } | { type: "error"; message: string };

self.onmessage = ({ data }: MessageEvent<PoolWorkerInit>) => {
  const reply = (m: PoolWorkerReply) => self.postMessage(m);
  let kernels: ((...args: number[]) => unknown)[];
  try {
    const env = { memory: data.memory };
    kernels = data.modules.map(([name, module]) =>
      new WebAssembly.Instance(module, { env }).exports[name] as (...args: number[]) => unknown
    );
  } catch (e) {
    reply({ type: "error", message: String(e) });
    return;
  }
  reply({ type: "ready" });
  new PoolSlot(data.slot).serve(kernels);
  self.close();
};
