/**
 * Reruns a replication: runs its (protocol × seed) grid, in this process or on workers, and
 * turns the runs into claim results.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendInfo } from "./backend.ts";
import { gitCommit } from "./_git.ts";
import type { Replication } from "./replications.ts";
import { type ClaimResult, type Results, ResultsSchema, type Run } from "./result.ts";
import type { Claim, Protocol } from "./spec.ts";
import { type Progress, type RunTask, Trainer, type TrainSettings } from "./train.ts";
import { runOnWorkers } from "./_pool.ts";
import { verdictFor } from "./verdict.ts";
import { timeToTarget } from "./time_to_accuracy.ts";

export type { Progress, RunTask } from "./train.ts";

/** How to rerun a replication. */
export interface ReplicateOptions extends TrainSettings {
  seeds: number[];
  /** Protocol ids to run; default: every non-exploratory protocol. */
  protocols?: string[];
  /** This process's share of the grid: --shard i/n and the cells it selects. */
  shard?: { index: number; count: number; tasks: RunTask[] };
  /** Runs at once, each on its own worker; 1 (the default) trains in this process. */
  jobs?: number;
  backend: BackendInfo;
  /** The command line, recorded for provenance. */
  command: string;
  onProgress?: (p: Progress) => void;
}

const _STANDARD = {
  test_acc: "testAcc",
  test_loss: "testLoss",
  train_acc: "trainAcc",
  train_loss: "trainLoss",
} as const;

function _claimValue(claim: Claim, run: Run): number | undefined {
  if (claim.metric === "params") return run.params;
  // A diverged run is judged at its last epoch; otherwise at the claim's epoch or the planned end.
  const e = claim.epoch ?? run.epochsPlanned;
  const rec = run.diverged ? run.epochs.at(-1) : run.epochs.find((r) => r.epoch === e);
  if (!rec) return undefined;
  const key = _STANDARD[claim.metric as keyof typeof _STANDARD];
  return key ? rec[key] : rec.extra?.[claim.metric];
}

/** Compares every claim whose protocol ran with what the runs measured. */
export function claimResults(claims: Claim[], runs: Run[]): ClaimResult[] {
  return claims.flatMap((claim) => {
    const mine = runs.filter((run) => run.protocol === claim.protocol);
    const measured = mine.flatMap((run) => {
      const value = run.protocol === claim.protocol ? _claimValue(claim, run) : undefined;
      return value === undefined ? [] : [{ seed: run.seed, value }];
    });
    if (!measured.length) return [];
    const values = measured.map((m) => m.value);
    const verdict = verdictFor(claim, values);
    return [{
      id: claim.id,
      source: claim.source,
      statement: claim.statement,
      protocol: claim.protocol,
      metric: claim.metric,
      epoch: claim.metric === "params" ? null : claim.epoch ?? null,
      claimed: claim.claimed,
      compare: claim.compare,
      epsilon: claim.epsilon,
      seeds: measured.map((m) => m.seed),
      values,
      ...verdict,
      mean: verdict.stats?.mean ?? null,
      timeToTarget: timeToTarget(claim, mine),
    }];
  });
}

/** Selects the protocols to run, validating names given on the command line. */
export function selectProtocols(rep: Replication, ids?: string[]): Protocol[] {
  if (!ids?.length) return rep.spec.protocols.filter((p) => !p.exploratory);
  return ids.map((id) => {
    const p = rep.spec.protocols.find((q) => q.id === id);
    if (!p) {
      const known = rep.spec.protocols.map((q) => q.id).join(", ");
      throw new Error(`${rep.name}: unknown protocol "${id}" (known: ${known})`);
    }
    return p;
  });
}

/** The (protocol × seed) grid of a rerun, protocols in spec order, then seeds. */
export function runGrid(rep: Replication, seeds: number[], protocols?: string[]): RunTask[] {
  return selectProtocols(rep, protocols).flatMap((p) =>
    seeds.map((seed) => ({ protocol: p.id, seed }))
  );
}

/** Reruns a replication and returns its validated results (nothing is written here). */
export async function replicate(rep: Replication, opts: ReplicateOptions): Promise<Results> {
  const grid = runGrid(rep, opts.seeds, opts.protocols);
  const tasks = opts.shard?.tasks ?? grid;
  const protocols = [...new Set(tasks.map((t) => t.protocol))].map((id) =>
    rep.spec.protocols.find((p) => p.id === id)!
  );
  // Load (and hash-check) the data here first, so a bad file stops the run before any worker starts.
  const trainer = new Trainer(rep, opts);
  const dataset = await trainer.dataset(protocols[0]);
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
  if ((opts.jobs ?? 1) > 1 && tasks.length > 1) {
    const pool = await runOnWorkers(
      rep.name,
      tasks,
      opts,
      opts.backend.name,
      opts.jobs!,
      opts.onProgress,
    );
    runs = pool.runs;
    setupSeconds += pool.setupSeconds;
  } else {
    runs = [];
    for (const task of tasks) runs.push(await trainer.run(task, opts.onProgress));
  }
  trainer.dispose();

  const claims = claimResults(rep.spec.claims, runs);
  const ranIds = new Set(protocols.map((p) => p.id));
  for (const c of rep.spec.claims) {
    if (ranIds.has(c.protocol) && !claims.some((r) => r.id === c.id)) {
      deviations.push(`claim ${c.id} not evaluated: its epoch ${c.epoch} was not trained`);
    }
  }
  return ResultsSchema.parse({
    schema: 1,
    replication: rep.name,
    title: rep.spec.title,
    createdAt: new Date().toISOString(),
    command: opts.command,
    gitCommit: await gitCommit(),
    versions: { deno: Deno.version.deno, v8: Deno.version.v8, tfjs: tf.version.tfjs },
    backend: opts.backend,
    setupSeconds,
    dataset: {
      name: dataset.name,
      files: dataset.files.map(({ file, sha256 }) => ({ file, sha256 })),
    },
    grid,
    shard: opts.shard ? { index: opts.shard.index, count: opts.shard.count } : null,
    deviations,
    runs,
    claims,
  });
}
