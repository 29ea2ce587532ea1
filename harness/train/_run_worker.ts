/// <reference lib="deno.worker" />
import { setupBackend } from "../backend/backend.ts";
import { guardExit } from "../util/exit_guard.ts";
import { loadReplication } from "../replications.ts";
import { runJob, Trainer } from "./trainer.ts";
import type { WorkerReply, WorkerRequest } from "./pool.ts";

// Deno.exit in a worker ends only the worker, silently: its runs would never finish.
guardExit();

let trainer: Trainer | undefined;
const reply = (m: WorkerReply) => self.postMessage(m);

self.onmessage = async ({ data }: MessageEvent<WorkerRequest>) => {
  if (data.type === "init") {
    try {
      await setupBackend(data.backend, { wasmThreads: data.wasmThreads });
      const rep = await loadReplication(data.replication, data.replicationsDir, {
        isolated: false, // the process that started this worker has loaded it
      });
      const { settings, env } = data;
      trainer = new Trainer(
        rep,
        env ? { ...settings, data: { ...settings.data, env: (name) => env[name] } } : settings,
      );
      reply({ type: "ready" });
    } catch (e) {
      reply({ type: "error", message: (e as Error).message });
    }
    return;
  }
  await runJob(trainer!, data.tasks, {
    onProgress: (progress) => reply({ type: "progress", progress }),
    onRun: (run) => reply({ type: "run", run }),
    onFailure: (failure) => reply({ type: "failed", failure }),
  });
  reply({ type: "done", index: data.index, setupSeconds: trainer!.setupSeconds });
};
