import type { BackendInfo } from "./backend.ts";
import type { Run } from "./result.ts";
import type { Progress, RunTask, TrainSettings } from "./train.ts";

/** Messages a run worker (harness/_run_worker.ts) sends back. */
export type WorkerReply =
  | { type: "ready" }
  | { type: "progress"; progress: Progress }
  | { type: "run"; index: number; run: Run; setupSeconds: number }
  | { type: "error"; message: string };

/** Messages sent to a run worker. */
export type WorkerRequest =
  | { type: "init"; replication: string; settings: TrainSettings; backend: BackendInfo["name"] }
  | { type: "task"; index: number; task: RunTask };

/**
 * Runs tasks on `jobs` workers, each with its own tfjs and backend, and returns the runs in
 * task order, so that the result does not depend on which worker finished first.
 */
export function runOnWorkers(
  replication: string,
  tasks: RunTask[],
  settings: TrainSettings,
  backend: BackendInfo["name"],
  jobs: number,
  onProgress?: (p: Progress) => void,
): Promise<{ runs: Run[]; setupSeconds: number }> {
  // Functions (fetch, log) cannot cross to a worker; the paths and flags can.
  const { dataDir, cacheDir, download } = settings.data ?? {};
  const init: WorkerRequest = {
    type: "init",
    replication,
    settings: {
      epochs: settings.epochs,
      trainLimit: settings.trainLimit,
      data: { dataDir, cacheDir, download },
    },
    backend,
  };
  const runs: Run[] = new Array(tasks.length);
  const workers: Worker[] = [];
  const setup = new Map<Worker, number>();
  let next = 0, done = 0;
  return new Promise((resolve, reject) => {
    const stop = (e?: Error) => {
      for (const w of workers) w.terminate();
      if (e) reject(e);
      else resolve({ runs, setupSeconds: Math.max(0, ...setup.values()) });
    };
    const feed = (w: Worker) => {
      if (next < tasks.length) {
        const index = next++;
        w.postMessage({ type: "task", index, task: tasks[index] } satisfies WorkerRequest);
      }
    };
    for (let i = 0; i < Math.min(jobs, tasks.length); i++) {
      const w = new Worker(new URL("./_run_worker.ts", import.meta.url), { type: "module" });
      workers.push(w);
      w.onerror = (e) => {
        e.preventDefault();
        stop(new Error(`run worker failed: ${e.message}`));
      };
      w.onmessage = ({ data }: MessageEvent<WorkerReply>) => {
        if (data.type === "ready") feed(w);
        else if (data.type === "progress") onProgress?.(data.progress);
        else if (data.type === "error") stop(new Error(data.message));
        else {
          runs[data.index] = data.run;
          setup.set(w, data.setupSeconds);
          if (++done === tasks.length) stop();
          else feed(w);
        }
      };
      w.postMessage(init);
    }
  });
}
