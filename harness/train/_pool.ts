import type { BackendInfo } from "../backend/backend.ts";
import type { Run } from "../results/result.ts";
import type { Progress } from "./loop.ts";
import type { RunTask, TrainSettings } from "./trainer.ts";

/** Messages a run worker (_run_worker.ts) sends back. */
export type WorkerReply =
  | { type: "ready" }
  | { type: "progress"; progress: Progress }
  | { type: "runs"; index: number; runs: Run[]; setupSeconds: number }
  | { type: "error"; message: string };

/** Messages sent to a run worker. */
export type WorkerRequest =
  | {
    type: "init";
    replication: string;
    replicationsDir: string;
    settings: TrainSettings;
    backend: BackendInfo["name"];
  }
  | { type: "job"; index: number; tasks: RunTask[] };

/**
 * Runs jobs on `jobs` workers, each with its own tfjs and backend, and returns the runs in
 * job order, so that the result does not depend on which worker finished first.
 */
export function runOnWorkers(
  replication: { name: string; dir: string },
  jobs: RunTask[][],
  settings: TrainSettings,
  backend: BackendInfo["name"],
  workersWanted: number,
  onProgress?: (p: Progress) => void,
): Promise<{ runs: Run[]; setupSeconds: number }> {
  // Functions (fetch, log) cannot cross to a worker; the paths and flags can.
  const { dataDir, cacheDir, download } = settings.data ?? {};
  const init: WorkerRequest = {
    type: "init",
    replication: replication.name,
    replicationsDir: replication.dir,
    settings: {
      epochs: settings.epochs,
      trainLimit: settings.trainLimit,
      data: { dataDir, cacheDir, download },
    },
    backend,
  };
  const results: Run[][] = new Array(jobs.length);
  const workers: Worker[] = [];
  const setup = new Map<Worker, number>();
  let next = 0, done = 0;
  return new Promise((resolve, reject) => {
    const stop = (e?: Error) => {
      for (const w of workers) w.terminate();
      if (e) reject(e);
      else resolve({ runs: results.flat(), setupSeconds: Math.max(0, ...setup.values()) });
    };
    const feed = (w: Worker) => {
      if (next < jobs.length) {
        const index = next++;
        w.postMessage({ type: "job", index, tasks: jobs[index] } satisfies WorkerRequest);
      }
    };
    for (let i = 0; i < Math.min(workersWanted, jobs.length); i++) {
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
          results[data.index] = data.runs;
          setup.set(w, data.setupSeconds);
          if (++done === jobs.length) stop();
          else feed(w);
        }
      };
      w.postMessage(init);
    }
  });
}
