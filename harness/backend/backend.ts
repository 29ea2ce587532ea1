/**
 * Chooses and initialises the tfjs backend: WebGPU on a real GPU, else wasm, else cpu.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { registerThreadedWasm } from "./wasm_threads.ts";
import { WebGPUBackend } from "@tensorflow/tfjs-backend-webgpu";
import { registerWasmTrainingKernels } from "./wasm_kernels.ts";
import { registerWebGpuFixes } from "./webgpu_kernels.ts";

/** What the user may ask for with `--backend`. */
export type BackendChoice = "auto" | "webgpu" | "wasm" | "cpu";

/** The backends claimcheck knows, in `auto`'s order of preference. */
export const BACKENDS = ["webgpu", "wasm", "cpu"] as const;

/** The backend a run actually used, recorded in every result. */
export interface BackendInfo {
  /** The tfjs backend that ran (one of BACKENDS). */
  name: (typeof BACKENDS)[number];
  /** The WebGPU adapter's description, or null off WebGPU. */
  adapter: string | null;
  /** True for software adapters such as Mesa's llvmpipe. */
  fallbackAdapter: boolean | null;
  /**
   * Which backend ran and why: "as requested", or what `auto` chose and why it skipped the
   * faster ones (with the error that stopped each).
   */
  note: string | null;
}

interface AdapterProbe {
  adapter: GPUAdapter;
  description: string;
  fallback: boolean;
}

async function _probeAdapter(): Promise<AdapterProbe | null> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  const adapter = await gpu?.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) return null;
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const legacy = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const description = [info.vendor, info.architecture, info.device, info.description]
    .filter((s) => s && s !== "0").join(" ");
  return { adapter, description, fallback: Boolean(info.isFallbackAdapter ?? legacy) };
}

/**
 * tfjs-backend-webgpu 4.22's own factory pushes an array into `requiredFeatures` and reads the
 * adapter after `requestDevice`, which Deno rejects on real GPUs; this one asks correctly.
 */
function _registerWebGpu(probe: AdapterProbe): void {
  registerWebGpuFixes();
  tf.removeBackend("webgpu");
  tf.registerBackend("webgpu", async () => {
    const { adapter } = probe;
    const info = adapter.info;
    const requiredFeatures: GPUFeatureName[] = [];
    if (adapter.features.has("timestamp-query")) requiredFeatures.push("timestamp-query");
    if (adapter.features.has("bgra8unorm-storage")) requiredFeatures.push("bgra8unorm-storage");
    const l = adapter.limits;
    const device = await adapter.requestDevice({
      requiredFeatures,
      requiredLimits: {
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      },
    });
    return new WebGPUBackend(device, info);
  }, 3);
}

/**
 * The wasm backend's files are missing or unusable: a broken install, which no backend choice
 * works around (`auto` would otherwise train on the cpu backend, ten times slower).
 */
class _BrokenInstallError extends Error {
  constructor(problem: string) {
    super(
      `wasm backend: ${problem}; the install is broken: run \`deno install\` in the project folder`,
    );
  }
}

/**
 * The folder holding tfjs-backend-wasm's binaries, as a path (a URL's `pathname` would keep
 * `%20` and `%C3%A9` and miss the files of a checkout under "ci check é").
 */
function _wasmDir(): string {
  const entry = import.meta.resolve("@tensorflow/tfjs-backend-wasm");
  try {
    return fileURLToPath(new URL(".", entry));
  } catch (e) {
    throw new _BrokenInstallError(
      `@tensorflow/tfjs-backend-wasm resolves to ${entry}, not a local file (${
        (e as Error).message
      })`,
    );
  }
}

/**
 * Fails with the file and the reason when the binary the wasm backend is about to load cannot
 * be read or is not WebAssembly; tfjs would only say that the backend did not start.
 */
async function _checkWasmBinary(file: string): Promise<void> {
  const bytes = await Deno.readFile(file).catch((e) => {
    throw new _BrokenInstallError(`cannot read ${file} (${(e as Error).name})`);
  });
  if (!WebAssembly.validate(bytes)) {
    throw new _BrokenInstallError(`${file} is not a valid WebAssembly binary`);
  }
}

/** Registers the wasm backend from the installed binaries, checked first. */
async function _prepareWasm(threads: number): Promise<void> {
  const dir = _wasmDir();
  // The binary tfjs-backend-wasm picks (its getPathToWasmBinary), or the threaded one.
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  const binary = threads > 1
    ? "tfjs-backend-wasm-threaded-simd.wasm"
    : simd
    ? "tfjs-backend-wasm-simd.wasm"
    : "tfjs-backend-wasm.wasm";
  await _checkWasmBinary(join(dir, binary));
  // Where runs leave cores idle: the threaded build (bit-identical results, see wasm_threads).
  if (threads > 1) {
    await registerThreadedWasm(threads).catch((e) => {
      throw new _BrokenInstallError(`the threaded build did not load: ${(e as Error).message}`);
    });
  }
  // The wasm binaries ship next to the package's entry point; no network at run time.
  setWasmPaths(dir);
  // tfjs-backend-wasm cannot train conv nets on its own (no Conv2DBackpropFilter).
  registerWasmTrainingKernels();
}

/**
 * Makes `name` the tfjs backend, or throws what stopped it. tfjs's setBackend only returns
 * false and logs the factory's error (a log PROD silences), so a backend that has not started
 * yet gets its factory wrapped to keep that error.
 */
async function _activate(name: BackendInfo["name"], wasmThreads = 1): Promise<void> {
  if (name === "wasm") await _prepareWasm(wasmThreads);
  let failure: unknown = "tf.setBackend returned false";
  const engine = tf.engine();
  if (!(name in engine.registry) && name in engine.registryFactory) {
    const { factory, priority } = engine.registryFactory[name];
    tf.removeBackend(name);
    tf.registerBackend(name, async () => {
      try {
        return await factory();
      } catch (e) {
        failure = e;
        throw e;
      }
    }, priority);
  }
  try {
    if (await tf.setBackend(name) && tf.getBackend() === name) return;
  } catch (e) {
    failure = e;
  }
  // tfjs-backend-wasm rejects with a plain { message } object, not an Error.
  throw new Error(String((failure as { message?: unknown })?.message ?? failure));
}

/** `_activate`'s error as text, for a note; a broken install is thrown on. */
async function _tryActivate(name: BackendInfo["name"], wasmThreads = 1): Promise<string | null> {
  try {
    await _activate(name, wasmThreads);
    return null;
  } catch (e) {
    if (e instanceof _BrokenInstallError) throw e;
    return (e as Error).message;
  }
}

/**
 * Initialises the requested backend (or the best one for `auto`) and says which one runs and
 * why (`auto` names each backend it skipped and the error that stopped it). Throws when an
 * explicitly requested backend cannot start, and, even for `auto`, when the wasm backend's
 * files are missing or unusable (a broken install, named), rather than run on cpu.
 */
export async function setupBackend(
  choice: BackendChoice,
  { wasmThreads = 1 }: { wasmThreads?: number } = {},
): Promise<BackendInfo> {
  // PROD silences the cpu backend's "install tfjs-node" advice, which does not apply to Deno.
  tf.env().set("PROD", true);
  const probe = choice === "auto" || choice === "webgpu" ? await _probeAdapter() : null;
  if (probe) _registerWebGpu(probe);
  const webgpu = (note: string): BackendInfo => ({
    name: "webgpu",
    adapter: probe!.description,
    fallbackAdapter: probe!.fallback,
    note,
  });
  const plain = (name: BackendInfo["name"], note: string): BackendInfo => ({
    name,
    adapter: null,
    fallbackAdapter: null,
    note,
  });

  if (choice !== "auto") {
    if (choice === "webgpu" && !probe) throw new Error("--backend webgpu: no WebGPU adapter found");
    await _activate(choice, wasmThreads).catch((e) => {
      if (e instanceof _BrokenInstallError) throw e;
      throw new Error(`--backend ${choice}: the backend did not start: ${(e as Error).message}`);
    });
    if (choice !== "webgpu") return plain(choice, `${choice} as requested`);
    return webgpu(
      `webgpu as requested${probe!.fallback ? "; software adapter: correct but slow" : ""}`,
    );
  }
  let why: string;
  if (!probe) why = "skipped WebGPU: no adapter";
  else if (probe.fallback) {
    why = `skipped WebGPU: ${probe.description} is a software (fallback) adapter`;
  } else {
    const failed = await _tryActivate("webgpu");
    if (failed === null) return webgpu("auto chose webgpu: a hardware adapter");
    why = `skipped WebGPU: it did not start on ${probe.description}: ${failed}`;
  }
  const wasmFailed = await _tryActivate("wasm", wasmThreads);
  if (wasmFailed === null) return plain("wasm", `auto chose wasm: ${why}`);
  why += `; skipped wasm: it did not start: ${wasmFailed}`;
  const cpuFailed = await _tryActivate("cpu");
  if (cpuFailed === null) return plain("cpu", `auto chose cpu: ${why}`);
  throw new Error(`no tfjs backend could start: ${why}; cpu did not start: ${cpuFailed}`);
}
