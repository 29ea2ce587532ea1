/// <reference lib="deno.worker" />
/**
 * One tfjs job of the whole-machine row (bench/whole_machine.ts): its own tfjs on the wasm
 * backend with one thread, training one bench model with the runner's step on its own batches.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { setupBackend } from "../harness/backend/backend.ts";
import { benchBatches, benchStep, timedSteps, type TimingOptions } from "./cell.ts";
import { errorText } from "./error_text.ts";
import { BENCH_MODELS } from "./models.ts";
import type { Timed } from "./interleaved.ts";
import type { Repeat } from "./schema.ts";
import type { JobTrace } from "./whole_machine.ts";

/** Messages to a job worker. */
export type JobRequest =
  | { type: "prepare"; model: string; seed: number; timing: TimingOptions }
  | { type: "warmup" }
  | { type: "repeat" };

/** Its replies, one per request, after a first "loaded" once it listens. */
export type JobReply =
  | { type: "loaded" }
  | { type: "ready" }
  | { type: "warm"; steps: number }
  | { type: "trace"; trace: JobTrace }
  | { type: "error"; message: string };

/** Seconds on a clock the workers of one process share (each has its own timeOrigin). */
const _clock = () => (performance.timeOrigin + performance.now()) / 1000;

let job: { timed: Timed<Repeat>; marks: JobTrace["marks"]; dispose(): void } | null = null;

async function _handle(r: JobRequest): Promise<JobReply> {
  if (r.type === "prepare") {
    if (tf.getBackend() !== "wasm") await setupBackend("wasm", { wasmThreads: 1 });
    job?.dispose();
    job = null;
    const bm = BENCH_MODELS.find((m) => m.name === r.model);
    if (!bm) throw new Error(`no bench model "${r.model}"`);
    const data = benchBatches(bm, r.seed);
    const step = benchStep(bm, r.seed, data);
    const marks: JobTrace["marks"] = [];
    job = {
      timed: timedSteps(
        step.once,
        bm.batchSize,
        r.timing,
        (steps) => marks.push([_clock(), steps]),
      ),
      marks,
      dispose() {
        step.dispose();
        tf.dispose([...data.xs, ...data.ys]);
      },
    };
    return { type: "ready" };
  }
  if (!job) throw new Error("no model prepared");
  if (r.type === "warmup") return { type: "warm", steps: await job.timed.warmup() };
  job.marks.length = 0;
  const start = _clock();
  await job.timed.repeat();
  return { type: "trace", trace: { start, marks: [...job.marks] } };
}

self.onmessage = async ({ data }: MessageEvent<JobRequest>) => {
  let reply: JobReply;
  try {
    reply = await _handle(data);
  } catch (e) {
    reply = { type: "error", message: errorText(e) };
  }
  self.postMessage(reply);
};
// Messages sent before this module (and its top-level awaits) ran would be lost.
self.postMessage({ type: "loaded" } satisfies JobReply);
