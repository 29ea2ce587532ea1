/**
 * Reruns a replication: runs its (protocol × seed) grid, in this process or on workers, and
 * turns the runs into claim results.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendInfo } from "../backend/backend.ts";
import { gitCommit } from "../git_commit.ts";
import type { Replication } from "../replications.ts";
import { type Results, RESULTS_SCHEMA, ResultsSchema, type Run } from "../results/result.ts";
import { claimResults } from "../score/claims.ts";
import { SPEC_VERSION } from "../spec/spec.ts";
import type { Progress } from "./loop.ts";
import { runGrid, runJobs } from "./plan.ts";
import { type RunTask, Trainer, type TrainSettings } from "./trainer.ts";
import { runOnWorkers } from "./_pool.ts";

/** How to rerun a replication. */
export interface ReplicateOptions extends TrainSettings {
  /** The seeds each protocol runs with. */
  seeds: number[];
  /** Protocol ids to run (with the stages they use); default: every non-exploratory protocol. */
  protocols?: string[];
  /** This process's share of the grid: --shard i/n and the cells it selects. */
  shard?: { index: number; count: number; tasks: RunTask[] };
  /** Runs at once, each on its own worker; 1 (the default) trains in this process. */
  jobs?: number;
  /** The backend set up for this rerun (see setupBackend); recorded in the results. */
  backend: BackendInfo;
  /** The command line, recorded for provenance. */
  command: string;
  /** Called with progress reports while runs train. */
  onProgress?: (p: Progress) => void;
}

/** Reruns a replication and returns its validated results (nothing is written here). */
export async function replicate(rep: Replication, opts: ReplicateOptions): Promise<Results> {
  const grid = runGrid(rep.spec, opts.seeds, opts.protocols);
  const tasks = opts.shard?.tasks ?? grid;
  const jobs = runJobs(rep.spec, tasks);
  const protocols = [...new Set(tasks.map((t) => t.protocol))].map((id) =>
    rep.spec.protocols.find((p) => p.id === id)!
  );
  // Load (and hash-check) the data here first, so a bad file stops the run before any worker starts.
  const trainer = new Trainer(rep, opts);
  for (const p of protocols) await trainer.dataset(p);

  const deviations: string[] = [];
  if (opts.epochs !== undefined) {
    deviations.push(`--epochs ${opts.epochs}: every protocol trained ${opts.epochs} epoch(s)`);
  }
  if (opts.trainLimit !== undefined) {
    deviations.push(`trained on the first ${opts.trainLimit} training images only`);
  }

  let runs: Run[];
  let setupSeconds = trainer.setupSeconds;
  if ((opts.jobs ?? 1) > 1 && jobs.length > 1) {
    const pool = await runOnWorkers(
      rep,
      jobs,
      opts,
      opts.backend.name,
      opts.jobs!,
      opts.onProgress,
    );
    runs = pool.runs;
    setupSeconds += pool.setupSeconds;
  } else {
    runs = [];
    for (const job of jobs) {
      for (const task of job) runs.push(await trainer.run(task, opts.onProgress));
      for (const seed of new Set(job.map((t) => t.seed))) trainer.releaseSeed(seed);
    }
  }
  trainer.dispose();
  // Grid order, whatever order the jobs ran in.
  const at = (r: { protocol: string; seed: number }) =>
    tasks.findIndex((t) => t.protocol === r.protocol && t.seed === r.seed);
  runs.sort((a, b) => at(a) - at(b));

  const claims = claimResults(rep.spec, runs);
  const ranIds = new Set(protocols.map((p) => p.id));
  for (const c of rep.spec.claims) {
    if (ranIds.has(c.protocol) && !claims.some((r) => r.id === c.id)) {
      deviations.push(`claim ${c.id} not evaluated: its epoch ${c.epoch} was not trained`);
    }
  }
  return ResultsSchema.parse({
    schema: RESULTS_SCHEMA,
    replication: rep.name,
    title: rep.spec.title,
    spec: { version: SPEC_VERSION, sha256: rep.spec.sha256 },
    createdAt: new Date().toISOString(),
    command: opts.command,
    gitCommit: await gitCommit(),
    versions: { deno: Deno.version.deno, v8: Deno.version.v8, tfjs: tf.version.tfjs },
    backend: opts.backend,
    setupSeconds,
    datasets: trainer.provenance(),
    grid,
    shard: opts.shard ? { index: opts.shard.index, count: opts.shard.count } : null,
    deviations,
    runs,
    claims,
  });
}
