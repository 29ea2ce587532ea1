/// <reference lib="deno.worker" />
import { setupBackend } from "./backend.ts";
import { loadReplication } from "./replications.ts";
import { Trainer } from "./train.ts";
import type { WorkerReply, WorkerRequest } from "./_pool.ts";

let trainer: Trainer | undefined;
const reply = (m: WorkerReply) => self.postMessage(m);

self.onmessage = async ({ data }: MessageEvent<WorkerRequest>) => {
  try {
    if (data.type === "init") {
      await setupBackend(data.backend);
      trainer = new Trainer(await loadReplication(data.replication), data.settings);
      reply({ type: "ready" });
    } else {
      const run = await trainer!.run(
        data.task,
        (progress) => reply({ type: "progress", progress }),
      );
      reply({ type: "run", index: data.index, run, setupSeconds: trainer!.setupSeconds });
    }
  } catch (e) {
    reply({ type: "error", message: (e as Error).message });
  }
};
