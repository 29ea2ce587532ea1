import type { BackendInfo } from "../backend/backend.ts";
import { DATA_DIR_ENV } from "../data/datasets.ts";
import type { Run } from "../results/result.ts";
import type { Progress } from "./loop.ts";
import type { RunFailure, RunTask, TrainSettings } from "./trainer.ts";

/** Messages a run worker (_run_worker.ts) sends back. */
export type WorkerReply =
  | { type: "ready" }
  | { type: "progress"; progress: Progress }
  | { type: "run"; run: Run }
  | { type: "failed"; failure: RunFailure }
  | { type: "done"; index: number; setupSeconds: number }
  | { type: "error"; message: string };

/** Messages sent to a run worker. */
export type WorkerRequest =
  | {
    type: "init";
    replication: string;
    replicationsDir: string;
    settings: TrainSettings;
    /**
     * What the caller's `settings.data.env` reader says of each variable the data layer reads
     * (absent: no reader, the worker reads the process environment).
     */
    env?: Record<string, string | undefined>;
    backend: BackendInfo["name"];
    /** Threads of the wasm backend in each worker (1: the single-threaded build). */
    wasmThreads: number;
  }
  | { type: "job"; index: number; tasks: RunTask[] };

/**
 * wasm threads per worker: the cores the workers leave idle (one seed, one protocol, the gate)
 * go to the threaded build; where workers fill the cores, the single-threaded one.
 */
export function wasmThreadsPer(workers: number): number {
  return Math.max(1, Math.floor(navigator.hardwareConcurrency / Math.max(1, workers)));
}

/** What the workers did: finished runs, failed runs, and runs a stop left unfinished. */
export interface PoolOutcome {
  /** Finished runs, in the order they finished. */
  runs: Run[];
  /** Runs that failed, with their errors. */
  failures: RunFailure[];
  /** Runs not finished when `signal` stopped the pool (those in progress first). */
  unfinished: RunTask[];
  /** The longest worker's data loading seconds. */
  setupSeconds: number;
}

/** How the pool reports and is stopped. */
export interface PoolHooks {
  /** Progress of the runs in progress. */
  onProgress?: (p: Progress) => void;
  /** Each run as it finishes (e.g. to save it); awaited before the pool resolves. */
  onRun?: (run: Run) => void | Promise<void>;
  /** Aborting stops every worker at once; finished runs are kept. */
  signal?: AbortSignal;
}

/**
 * Runs jobs on `workersWanted` workers, each with its own tfjs and backend (on wasm with
 * `wasmThreads` threads: above 1, the threaded build; see wasmThreadsPer). A run that throws
 * fails alone (with the rest of its job); a worker that crashes fails its job's remaining runs
 * and is replaced; an abort terminates the workers and reports what was left unfinished.
 */
export function runOnWorkers(
  replication: { name: string; dir: string },
  jobs: RunTask[][],
  settings: TrainSettings,
  backend: BackendInfo["name"],
  workersWanted: number,
  wasmThreads: number,
  hooks: PoolHooks = {},
): Promise<PoolOutcome> {
  // Functions (fetch, log, env) cannot cross to a worker; the paths, flags and limits can, and
  // so can what an env reader answers, so a worker looks in the same data directory.
  const { fetch: _fetch, log: _log, env, ...data } = settings.data ?? {};
  const init: WorkerRequest = {
    type: "init",
    replication: replication.name,
    replicationsDir: replication.dir,
    settings: {
      epochs: settings.epochs,
      trainLimit: settings.trainLimit,
      dataset: settings.dataset,
      perturbations: settings.perturbations,
      data,
    },
    ...(env ? { env: { [DATA_DIR_ENV]: env(DATA_DIR_ENV) } } : {}),
    backend,
    wasmThreads,
  };
  const out: PoolOutcome = { runs: [], failures: [], unfinished: [], setupSeconds: 0 };
  const saving: Promise<void>[] = [];
  const current = new Map<Worker, number>(); // worker → index of the job it runs
  const reported = new Set<string>(); // "protocol#seed" of runs finished or failed
  const cell = (t: RunTask) => `${t.protocol}#${t.seed}`;
  const left = (index: number) => jobs[index].filter((t) => !reported.has(cell(t)));
  let next = 0, done = 0;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      hooks.signal?.removeEventListener("abort", abort);
      for (const w of current.keys()) w.terminate();
      if (error) return reject(error);
      Promise.all(saving).then(() => resolve(out), reject);
    };
    const abort = () => {
      out.unfinished = [
        ...[...current.values()].filter((i) => i >= 0).flatMap(left),
        ...jobs.slice(next).flat(),
      ];
      finish();
    };
    const feed = (w: Worker) => {
      if (next >= jobs.length) {
        current.delete(w);
        w.terminate();
        return;
      }
      const index = next++;
      current.set(w, index);
      w.postMessage({ type: "job", index, tasks: jobs[index] } satisfies WorkerRequest);
    };
    const jobDone = (w: Worker) => {
      if (++done === jobs.length) finish();
      else feed(w);
    };
    const spawn = () => {
      const w = new Worker(new URL("./_run_worker.ts", import.meta.url), { type: "module" });
      w.onerror = (e) => {
        e.preventDefault();
        const index = current.get(w);
        current.delete(w);
        w.terminate();
        // A worker that dies before its first job cannot load the replication: nothing will run.
        if (index === undefined || index < 0) {
          return finish(new Error(`run worker failed: ${e.message}`));
        }
        for (const t of left(index)) {
          reported.add(cell(t));
          out.failures.push({ ...t, error: `run worker crashed: ${e.message}` });
        }
        if (++done === jobs.length) finish();
        else if (next < jobs.length) spawn();
      };
      w.onmessage = ({ data }: MessageEvent<WorkerReply>) => {
        if (settled) return;
        if (data.type === "ready") feed(w);
        else if (data.type === "progress") hooks.onProgress?.(data.progress);
        else if (data.type === "error") finish(new Error(data.message));
        else if (data.type === "run") {
          reported.add(cell(data.run));
          out.runs.push(data.run);
          const saved = hooks.onRun?.(data.run);
          if (saved) saving.push(saved);
        } else if (data.type === "failed") {
          reported.add(cell(data.failure));
          out.failures.push(data.failure);
        } else {
          out.setupSeconds = Math.max(out.setupSeconds, data.setupSeconds);
          jobDone(w);
        }
      };
      current.set(w, -1); // starting: no job yet
      w.postMessage(init);
    };
    if (hooks.signal?.aborted) return abort();
    hooks.signal?.addEventListener("abort", abort);
    for (let i = 0; i < Math.min(workersWanted, jobs.length); i++) spawn();
  });
}
