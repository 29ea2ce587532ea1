/// <reference lib="deno.worker" />
import { setupBackend } from "../backend/backend.ts";
import { loadReplication } from "../replications.ts";
import { Trainer } from "./trainer.ts";
import type { WorkerReply, WorkerRequest } from "./_pool.ts";

let trainer: Trainer | undefined;
const reply = (m: WorkerReply) => self.postMessage(m);

self.onmessage = async ({ data }: MessageEvent<WorkerRequest>) => {
  try {
    if (data.type === "init") {
      await setupBackend(data.backend);
      const rep = await loadReplication(data.replication, data.replicationsDir);
      trainer = new Trainer(rep, data.settings);
      reply({ type: "ready" });
    } else {
      const runs = [];
      for (const task of data.tasks) {
        runs.push(await trainer!.run(task, (progress) => reply({ type: "progress", progress })));
      }
      for (const seed of new Set(data.tasks.map((t) => t.seed))) trainer!.releaseSeed(seed);
      reply({ type: "runs", index: data.index, runs, setupSeconds: trainer!.setupSeconds });
    }
  } catch (e) {
    reply({ type: "error", message: (e as Error).message });
  }
};
