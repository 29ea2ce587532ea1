/**
 * Chooses and initialises the tfjs backend: WebGPU on a real GPU, else wasm, else cpu.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
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
  /** Why `auto` skipped a faster backend, if it did. */
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

async function _activate(name: BackendInfo["name"], wasmThreads = 1): Promise<boolean> {
  if (name === "wasm") {
    // Where runs leave cores idle: the threaded build (bit-identical results, see wasm_threads).
    if (wasmThreads > 1) await registerThreadedWasm(wasmThreads);
    // The wasm binaries ship next to the package's entry point; no network at run time.
    setWasmPaths(new URL(".", import.meta.resolve("@tensorflow/tfjs-backend-wasm")).pathname);
    // tfjs-backend-wasm cannot train conv nets on its own (no Conv2DBackpropFilter).
    registerWasmTrainingKernels();
  }
  try {
    return await tf.setBackend(name) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

/**
 * Initialises the requested backend (or the best one for `auto`) and says which one runs.
 * Throws when an explicitly requested backend cannot start.
 */
export async function setupBackend(
  choice: BackendChoice,
  { wasmThreads = 1 }: { wasmThreads?: number } = {},
): Promise<BackendInfo> {
  // PROD silences the cpu backend's "install tfjs-node" advice, which does not apply to Deno.
  tf.env().set("PROD", true);
  const probe = choice === "auto" || choice === "webgpu" ? await _probeAdapter() : null;
  if (probe) _registerWebGpu(probe);
  const webgpu = (note: string | null): BackendInfo => ({
    name: "webgpu",
    adapter: probe!.description,
    fallbackAdapter: probe!.fallback,
    note,
  });
  const plain = (name: BackendInfo["name"], note: string | null): BackendInfo => ({
    name,
    adapter: null,
    fallbackAdapter: null,
    note,
  });

  if (choice !== "auto") {
    if (choice === "webgpu" && !probe) throw new Error("--backend webgpu: no WebGPU adapter found");
    if (!await _activate(choice, wasmThreads)) {
      throw new Error(`--backend ${choice}: the backend did not start`);
    }
    if (choice !== "webgpu") return plain(choice, null);
    return webgpu(probe!.fallback ? "software adapter: correct but slow" : null);
  }
  if (probe && !probe.fallback && await _activate("webgpu")) return webgpu(null);
  const why = probe
    ? `skipped WebGPU: ${probe.description} is a software (fallback) adapter`
    : "skipped WebGPU: no adapter";
  if (await _activate("wasm", wasmThreads)) return plain("wasm", why);
  if (await _activate("cpu")) return plain("cpu", `${why}; wasm did not start`);
  throw new Error("no tfjs backend could start (tried webgpu, wasm, cpu)");
}
