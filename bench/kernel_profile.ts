/**
 * Where a training step's time goes: tf.profile around a few steps, the kernels' times summed
 * by kernel name. On wasm and cpu a kernel's time is its wall time (the call is synchronous);
 * profiling adds a small cost to every call, so small kernels look a little dearer than they are.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { KernelProfile } from "./schema.ts";

/** Profiled steps, averaged (after the caller's warm-up). */
const _STEPS = 3;

/**
 * Profiles `once` (one training step returning a tensor) over a few steps and returns the
 * `top` kernels by time per step. Wrappers of ops with a custom gradient (named `…__op`) are
 * left out: their time is that of the kernels inside them, which are counted.
 */
export async function profileStep(once: () => tf.Tensor, top = 10): Promise<KernelProfile> {
  const byName = new Map<string, { ms: number; calls: number }>();
  const t0 = performance.now();
  for (let i = 0; i < _STEPS; i++) {
    const info = await tf.profile(() => {
      once().dispose();
    });
    for (const k of info.kernels) {
      if (k.name.endsWith("__op")) continue;
      const ms = await (k.kernelTimeMs as number | Promise<number>);
      const entry = byName.get(k.name) ?? { ms: 0, calls: 0 };
      entry.ms += typeof ms === "number" ? ms : 0;
      entry.calls++;
      byName.set(k.name, entry);
    }
  }
  const stepMs = (performance.now() - t0) / _STEPS;
  const kernelMs = [...byName.values()].reduce((a, e) => a + e.ms, 0) / _STEPS;
  const kernels = [...byName].map(([kernel, e]) => ({
    kernel,
    ms: e.ms / _STEPS,
    calls: e.calls / _STEPS,
    share: kernelMs > 0 ? e.ms / _STEPS / kernelMs : 0,
  })).sort((a, b) => b.ms - a.ms);
  return {
    stepMs,
    kernelMs,
    calls: kernels.reduce((a, k) => a + k.calls, 0),
    top: kernels.slice(0, top),
  };
}

/** The profile as text lines: the step, then one line per kernel. */
export function formatProfile(label: string, p: KernelProfile): string[] {
  return [
    `${label}: ${p.calls} kernel calls, ${p.kernelMs.toFixed(2)} ms in kernels of a ` +
    `${p.stepMs.toFixed(2)} ms profiled step`,
    ...p.top.map((k) =>
      `  ${k.kernel.padEnd(22)} ${k.ms.toFixed(2).padStart(8)} ms  ${
        (100 * k.share).toFixed(1).padStart(5)
      } %  ×${k.calls}`
    ),
  ];
}
