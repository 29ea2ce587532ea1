/**
 * The whole-machine row: samples/s of the whole machine when J jobs train one model at once, as
 * multi-seed replication runs (the runner's --jobs): tfjs in J Deno workers on wasm with one
 * thread each, PyTorch in J processes with one thread each, timed in turns round by round.
 * @module
 */
import { errorText } from "./error_text.ts";
import { interleaved, type Timed, type Turn } from "./interleaved.ts";
import type { BenchModel } from "./models.ts";
import { pairedRatio } from "./paired_ratio.ts";
import type { TimingOptions } from "./cell.ts";
import type { MachineMeasurement, MachineRepeat, MachineRow, WholeMachine } from "./schema.ts";
import type { ReferenceProcess } from "./pytorch.ts";
import type { JobReply, JobRequest } from "./_machine_worker.ts";

/**
 * One job's timed repeat: when it started and, after each synchronised chunk of steps, the time
 * and the steps done so far; seconds on a clock every job shares.
 */
export interface JobTrace {
  start: number;
  marks: [time: number, steps: number][];
}

/** One job of the row, in its own worker or process, set up to train one model. */
export interface MachineJob {
  /** Runs the untimed first steps; returns how many. */
  warmup(): Promise<number>;
  repeat(): Promise<JobTrace>;
}

/** Steps `trace` had done by `time`: linear between its marks (and from 0 at its start). */
function _stepsAt(trace: JobTrace, time: number): number {
  let [t0, s0] = [trace.start, 0];
  for (const [t1, s1] of trace.marks) {
    if (time <= t1) return t1 > t0 ? s0 + (s1 - s0) * Math.max(0, time - t0) / (t1 - t0) : s1;
    [t0, s0] = [t1, s1];
  }
  return s0;
}

/**
 * The machine's samples/s over the interval every job was training (the latest start to the
 * earliest last mark): each job's steps in it, a step straddling an edge counted in proportion,
 * summed, times the batch size, over the interval's length.
 */
export function machineRepeat(traces: JobTrace[], batchSize: number): MachineRepeat {
  if (!traces.length || traces.some((j) => !j.marks.length)) {
    throw new Error("a job finished its repeat without a step");
  }
  const from = Math.max(...traces.map((j) => j.start));
  const to = Math.min(...traces.map((j) => j.marks.at(-1)![0]));
  if (!(to > from)) {
    throw new Error(
      "the jobs never trained at the same time (one ended before another started)",
    );
  }
  const steps = traces.reduce((a, j) => a + _stepsAt(j, to) - _stepsAt(j, from), 0);
  return {
    jobs: traces.length,
    seconds: to - from,
    samples: steps * batchSize,
    samplesPerSecond: steps * batchSize / (to - from),
    jobSteps: traces.map((j) => j.marks.at(-1)![1]),
  };
}

/** `jobs` as one {@link Timed}: warmed up together, each repeat run by all of them at once. */
export function machineTimed(jobs: MachineJob[], batchSize: number): Timed<MachineRepeat> {
  return {
    warmup: async () => Math.min(...await Promise.all(jobs.map((j) => j.warmup()))),
    repeat: async () => machineRepeat(await Promise.all(jobs.map((j) => j.repeat())), batchSize),
  };
}

/** A tfjs job: a Deno worker (its own tfjs, wasm with one thread) that trains one model at a time. */
class _WorkerJob implements MachineJob {
  readonly #worker = new Worker(new URL("./_machine_worker.ts", import.meta.url), {
    type: "module",
  });
  #pending: { resolve: (r: JobReply) => void; reject: (e: Error) => void } | null = null;
  /** Resolves once the worker listens (its "loaded"). */
  readonly #loaded: Promise<void>;

  constructor() {
    let loaded = () => {}, failed = (_: Error) => {};
    this.#loaded = new Promise((resolve, reject) => [loaded, failed] = [resolve, reject]);
    this.#loaded.catch(() => {}); // awaited by each request; a crash before any is not unhandled
    this.#worker.onmessage = ({ data }: MessageEvent<JobReply>) => {
      if (data.type === "loaded") return loaded();
      const p = this.#pending;
      this.#pending = null;
      if (data.type === "error") p?.reject(new Error(data.message));
      else p?.resolve(data);
    };
    this.#worker.onerror = (e) => {
      e.preventDefault();
      const error = new Error(`bench worker failed: ${e.message}`);
      failed(error);
      const p = this.#pending;
      this.#pending = null;
      p?.reject(error);
    };
  }

  async #ask(request: JobRequest): Promise<JobReply> {
    await this.#loaded;
    if (this.#pending) throw new Error("bench worker: one request at a time");
    return await new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#worker.postMessage(request);
    });
  }

  async prepare(model: string, seed: number, timing: TimingOptions): Promise<void> {
    await this.#ask({ type: "prepare", model, seed, timing });
  }

  async warmup(): Promise<number> {
    const r = await this.#ask({ type: "warmup" });
    if (r.type !== "warm") throw new Error(`bench worker: unexpected ${r.type}`);
    return r.steps;
  }

  async repeat(): Promise<JobTrace> {
    const r = await this.#ask({ type: "repeat" });
    if (r.type !== "trace") throw new Error(`bench worker: unexpected ${r.type}`);
    return r.trace;
  }

  close(): void {
    this.#worker.terminate();
  }
}

/** What the row needs to run: the jobs, the timing, and PyTorch's processes when compared. */
export interface WholeMachineOptions {
  /** Concurrent jobs a side (the machine's logical cores). */
  jobs: number;
  timing: TimingOptions;
  /** Starts one PyTorch process with one thread; null without a PyTorch side. */
  pytorch: (() => Promise<ReferenceProcess>) | null;
  /** Why there is no PyTorch side, when `pytorch` is null. */
  pytorchNote: string | null;
  onProgress?: (msg: string) => void;
}

/** Turns a failure while setting up one side into that side's measurement. */
async function _side(
  what: string,
  log: (msg: string) => void,
  make: () => Promise<Timed<MachineRepeat>>,
): Promise<Timed<MachineRepeat> | MachineMeasurement> {
  try {
    return await make();
  } catch (e) {
    const error = errorText(e);
    log(`${what}: not set up: ${error}`);
    return { status: "error", error };
  }
}

/**
 * The row for each of `models`: J tfjs workers and (where compared) J PyTorch processes, set up
 * once and kept for all models; per model both sides warm up, then take turns for the repeats.
 */
export async function runWholeMachine(
  models: readonly BenchModel[],
  o: WholeMachineOptions,
): Promise<WholeMachine> {
  const log = o.onProgress ?? (() => {});
  const J = o.jobs, t = o.timing;
  const workers: _WorkerJob[] = [];
  // PyTorch's processes, started for the first model (a failure to start fails every model).
  const started: ReferenceProcess[] = [];
  let processes: Promise<ReferenceProcess[]> | null = null;
  const rows: MachineRow[] = [];
  const tfjsLabel = `${J} jobs × wasm, 1 thread`, pytorchLabel = `${J} processes × 1 thread`;
  try {
    for (const bm of models) {
      const say = (side: string) => (msg: string) =>
        log(`[whole machine, ${side}] ${bm.name} train: ${msg}`);
      const tfjs = await _side(`${bm.name} on tfjs`, say("tfjs"), async () => {
        while (workers.length < J) workers.push(new _WorkerJob());
        await Promise.all(workers.map((w, j) => w.prepare(bm.name, t.seed + j, t)));
        return machineTimed(workers, bm.batchSize);
      });
      const turns: Turn<MachineRepeat, MachineMeasurement>[] = [
        { what: "train", progress: say(tfjsLabel), timed: tfjs },
      ];
      const start = o.pytorch;
      if (start) {
        const pytorch = await _side(`${bm.name} on PyTorch`, say("PyTorch"), async () => {
          processes ??= Promise.all(
            Array.from({ length: J }, () => start().then((p) => (started.push(p), p))),
          );
          const jobs = await Promise.all(
            (await processes).map((p, j) => p.prepare(bm.name, "train", t.seed + j)),
          );
          return machineTimed(jobs.map((j) => j.job), bm.batchSize);
        });
        turns.push({ what: "train", progress: say(pytorchLabel), timed: pytorch });
      }
      const [tfjsM, pytorchM = null] = await interleaved(turns, t.repeats);
      rows.push({
        model: bm.name,
        batchSize: bm.batchSize,
        tfjs: tfjsM,
        pytorch: pytorchM,
        ratio: pairedRatio(bm.name, tfjsLabel, pytorchLabel, tfjsM, pytorchM),
      });
    }
  } finally {
    for (const w of workers) w.close();
    await Promise.all(started.map((p) => p.close()));
  }
  return { jobs: J, threadsPerJob: 1, pytorchNote: o.pytorch ? null : o.pytorchNote, rows };
}
