/**
 * tfjs-backend-wasm's threaded SIMD build (XNNPACK over a pthread pool) under Deno, which the
 * package cannot start there by itself: it takes Deno for Node (where it would use
 * `worker_threads`), and Emscripten's pthread workers are classic scripts, which Deno does not
 * run. Here the build's own script is evaluated with the Node names shadowed, and Emscripten's
 * `Worker` is a module worker whose source is that script plus Emscripten's worker script.
 *
 * The threads go to claimcheck's own SIMD kernels (simd/simd_pool.ts), which do nearly all of a
 * conv net's work; XNNPACK's remaining ops stay on one thread. Its pthreadpool helper spins after
 * each op and so took the second core from the SIMD pool: with XNNPACK on 2 threads as well, a
 * cnn-sgd step's 8 small Adds took 5.6 ms instead of 1.1 and the autoencoder trained 407
 * samples/s instead of 471 (bench, 2 threads, idle 2-core AMD EPYC, 2026-12-07).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { BackendWasm, setThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { startSimdPool, stopSimdPool } from "./simd/simd_pool.ts";

// Names whose presence makes Emscripten and tfjs take their Node.js paths.
const _NODE_NAMES = ["process", "require", "module", "exports", "__filename", "__dirname"];

type _Factory = (config: Record<string, unknown>) => Promise<_EmscriptenModule>;
interface _EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): unknown;
  tfjs?: Record<string, unknown>;
}

/** The threaded backend, whose SIMD pool (simd/simd_pool.ts) stops with it. */
class _ThreadedBackendWasm extends BackendWasm {
  override dispose(): void {
    stopSimdPool(this);
    super.dispose();
  }
}

/**
 * Registers the threaded build as the "wasm" backend with `threads` threads (replacing the
 * single-threaded one; the kernels registered for "wasm" stay), claimcheck's SIMD kernels
 * running on as many (a pool of threads − 1 workers, stopped when the backend is disposed).
 * Call before the backend is first used; `tf.setBackend("wasm")` then starts it.
 */
export async function registerThreadedWasm(threads: number): Promise<void> {
  const dist = new URL(".", import.meta.resolve("@tensorflow/tfjs-backend-wasm"));
  const out = new URL("../wasm-out/", dist);
  const main = await Deno.readTextFile(new URL("tfjs-backend-wasm-threaded-simd.js", out));
  // The worker script ships as a CommonJS module exporting it as a string.
  const holder = { exports: {} as { wasmWorkerContents?: string } };
  new Function(
    "module",
    await Deno.readTextFile(new URL("tfjs-backend-wasm-threaded-simd.worker.js", out)),
  )(
    holder,
  );
  const worker = [
    `const ${_NODE_NAMES.map((n) => `${n} = undefined`).join(", ")};`,
    // The worker script loads the main script with importScripts; here it is already in.
    "self.importScripts = () => {};",
    main,
    // Its "\n" escapes became real line breaks inside string literals when it was exported as
    // a template literal; tfjs-backend-wasm escapes them back the same way.
    holder.exports.wasmWorkerContents!.replace(/\n/g, "\\n"),
  ].join("\n");
  const workerUrl = URL.createObjectURL(new Blob([worker], { type: "text/javascript" }));
  class ModuleWorker extends Worker {
    constructor() {
      super(workerUrl, { type: "module" });
    }
  }
  // tfjs caps its thread pool at half the reported cores: report enough for `threads`.
  const reported = Object.create(navigator, { hardwareConcurrency: { value: 2 * threads } });
  const factory = new Function(
    ..._NODE_NAMES,
    "Worker",
    "navigator",
    `${main}\nreturn WasmBackendModuleThreadedSimd;`,
  )(..._NODE_NAMES.map(() => undefined), ModuleWorker, reported) as _Factory;
  const wasmBinary = await Deno.readFile(new URL("tfjs-backend-wasm-threaded-simd.wasm", dist));
  tf.removeBackend("wasm");
  tf.registerBackend("wasm", async () => {
    const module = await factory({ wasmBinary, mainScriptUrlOrBlob: "claimcheck-threaded" });
    // What tfjs-backend-wasm's init() adds to the module before it builds its backend.
    module.tfjs = {
      init: module.cwrap("init", null, []),
      initWithThreadsCount: module.cwrap("init_with_threads_count", null, ["number"]),
      getThreadsCount: module.cwrap("get_threads_count", "number", []),
      registerTensor: module.cwrap("register_tensor", null, ["number", "number", "number"]),
      disposeData: module.cwrap("dispose_data", null, ["number"]),
      dispose: module.cwrap("dispose", null, []),
    };
    setThreadsCount(1);
    const backend = new _ThreadedBackendWasm(module as never);
    // claimcheck's own SIMD kernels get the threads (see the module's doc).
    await startSimdPool(backend, threads).catch((e) => {
      backend.dispose();
      throw e;
    });
    return backend;
  }, 2);
}
