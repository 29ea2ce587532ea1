/**
 * Reruns a replication: runs its (protocol × seed) grid, in this process or on workers, and
 * turns the runs into claim results.
 * @module
 */
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { BackendInfo } from "../backend/backend.ts";
import { codeHash } from "../util/code_hash.ts";
import { gitCommit } from "../util/git_commit.ts";
import { moduleEntry, type Replication } from "../replications.ts";
import {
  type Results,
  RESULTS_SCHEMA,
  ResultsSchema,
  type Run,
  runDeviations,
} from "../results/result.ts";
import { claimResults } from "../score/claims.ts";
import { type Protocol, SPEC_VERSION } from "../spec/spec.ts";
import type { Progress } from "../train/loop.ts";
import { runGrid, runJobs } from "../train/plan.ts";
import { runJob, type RunTask, Trainer, type TrainSettings } from "../train/trainer.ts";
import { type PoolOutcome, runOnWorkers, wasmThreadsPer } from "../train/pool.ts";
import { checkTransfer } from "../train/transfer.ts";
import {
  type RerunDifference,
  runKey,
  type RunProvenance,
  type RunStore,
  variantOf,
} from "../results/run_store.ts";

/** How to rerun a replication. */
// A test-set limit is for probes only: results and run keys always score the whole test set.
export interface ReplicateOptions extends Omit<TrainSettings, "testLimit"> {
  /** The seeds each protocol runs with. */
  seeds: number[];
  /** Protocol ids to run (with the stages they use); default: every non-exploratory protocol. */
  protocols?: string[];
  /** This process's share of the grid: --shard i/n and the cells it selects. */
  shard?: { index: number; count: number; tasks: RunTask[] };
  /**
   * Runs at once, each on its own worker. Omitted: runs train in this process (then a stop
   * through `signal` takes effect between runs only).
   */
  jobs?: number;
  /** The backend set up for this rerun (see setupBackend); recorded in the results. */
  backend: BackendInfo;
  /** The command line, recorded for provenance. */
  command: string;
  /** Called with progress reports while runs train. */
  onProgress?: (p: Progress) => void;
  /** Where each finished run is saved the moment it ends. */
  store?: RunStore;
  /** Take the runs `store` already holds for this grid (same key) instead of training them. */
  resume?: boolean;
  /** Called with a message when runs are taken from `store`, or one cannot be saved there. */
  log?: (message: string) => void;
  /**
   * Called (besides `log`) when a finished run cannot be saved to `store`, e.g. on a full disk;
   * the run stays in the results.
   */
  onSaveError?: (file: string, error: Error) => void;
  /** Aborting stops training; the results hold the finished runs and say what was not. */
  signal?: AbortSignal;
  /**
   * Called with the provenance the results will record, once the data is loaded and before
   * anything trains; throwing stops the rerun there (e.g. a replay whose data differ).
   */
  beforeTraining?: (provenance: RunProvenance) => void | Promise<void>;
}

/**
 * Reruns a replication and returns its validated results (runs are saved to `opts.store` as
 * they finish; results are not written here).
 */
export async function replicate(rep: Replication, opts: ReplicateOptions): Promise<Results> {
  const grid = runGrid(rep.spec, opts.seeds, opts.protocols);
  const tasks = opts.shard?.tasks ?? grid;
  const protocols = [...new Set(tasks.map((t) => t.protocol))].map((id) =>
    rep.spec.protocols.find((p) => p.id === id)!
  );
  // Load (and hash-check) the data here first, so a bad file stops the run before any worker starts.
  const trainer = new Trainer(rep, opts);
  if (opts.dataset !== undefined) await checkTransfer(rep, protocols, trainer, opts);
  for (const p of protocols) await trainer.dataset(p);
  const git = await gitCommit();
  const code = await codeHash(join(rep.dir, rep.name));
  const head = {
    schema: RESULTS_SCHEMA,
    replication: rep.name,
    title: rep.spec.title,
    spec: { version: SPEC_VERSION, sha256: rep.spec.sha256 },
    code,
    command: opts.command,
    gitCommit: git.commit,
    ...(git.error ? { gitError: git.error } : {}),
    versions: { deno: Deno.version.deno, v8: Deno.version.v8, tfjs: tf.version.tfjs },
    backend: opts.backend,
    datasets: trainer.provenance(),
  };
  await opts.beforeTraining?.(head);
  const key = runKey(head, opts);

  const deviations: string[] = [];
  if (opts.epochs !== undefined) {
    deviations.push(`--epochs ${opts.epochs}: every protocol trained ${opts.epochs} epoch(s)`);
  }
  if (opts.trainLimit !== undefined) {
    deviations.push(`trained on the first ${opts.trainLimit} training images only`);
  }
  if (opts.dataset !== undefined) {
    const own = [...new Set(protocols.map((p) => p.dataset))].join(", ");
    deviations.push(
      `--dataset ${opts.dataset}: every protocol trained and tested on ${opts.dataset} instead ` +
        `of ${own} (a transfer test: the claimed numbers are the source's, on ${own})`,
    );
  }

  // --resume: a job whose runs are all stored with the same key is not trained again.
  const cell = (r: RunTask) => `${r.protocol}#${r.seed}`;
  const wanted = new Set(tasks.map(cell));
  const stored = opts.resume && opts.store
    ? (await opts.store.load(key)).filter((r) => wanted.has(cell(r)))
    : [];
  const have = new Set(stored.map(cell));
  const jobs = runJobs(rep.spec, tasks).filter((job) => !job.every((t) => have.has(cell(t))));
  const kept = stored.filter((r) => !jobs.some((job) => job.some((t) => cell(t) === cell(r))));
  if (opts.resume) {
    opts.log?.(
      `${rep.name}: resume: ${kept.length} of ${tasks.length} run(s) already done with this ` +
        `code, commit, spec, backend and data; training ${tasks.length - kept.length}`,
    );
  }

  const differ: RerunDifference[] = [];
  // A run that cannot be saved is kept in the results, not lost with the whole rerun.
  const onRun = async (run: Run) => {
    const difference = await opts.store?.save(run, key, opts.command).catch((e: Error) => {
      const file = opts.store!.file(run);
      opts.log?.(`error: cannot save ${file}: ${e.message}`);
      opts.onSaveError?.(file, e);
      return null;
    });
    if (!difference) return;
    differ.push(difference);
    opts.log?.(
      `${rep.name} ${run.protocol} seed ${run.seed}: NOT DETERMINISTIC: this rerun gave other ` +
        `numbers than the stored run of the same code, spec, data and backend ` +
        `(${difference.fields.slice(0, 3).join("; ")}${
          difference.fields.length > 3 ? `; ${difference.fields.length - 3} more` : ""
        }); the stored run is kept at ${difference.kept}`,
    );
  };
  let outcome: PoolOutcome;
  // Threads pay for convolutions (2 threads: cnn-sgd 1.4× faster) but not for small dense
  // layers, whose per-kernel cost they raise (keras-dense 0.7×).
  const threads = opts.jobs !== undefined && opts.backend.name === "wasm" &&
      protocols.some((p) => _convolutional(rep, p))
    ? wasmThreadsPer(Math.min(opts.jobs, jobs.length))
    : 1;
  if (opts.jobs !== undefined && jobs.length) {
    outcome = await runOnWorkers(rep, jobs, opts, opts.backend.name, opts.jobs, threads, {
      onProgress: opts.onProgress,
      onRun,
      signal: opts.signal,
    });
    outcome.setupSeconds += trainer.setupSeconds;
  } else {
    outcome = { runs: [], failures: [], unfinished: [], setupSeconds: trainer.setupSeconds };
    for (const job of jobs) {
      await runJob(trainer, job, {
        onProgress: opts.onProgress,
        onRun: async (run) => {
          outcome.runs.push(run);
          await onRun(run);
        },
        onFailure: (f) => outcome.failures.push(f),
        stopped: () => opts.signal?.aborted ?? false,
      });
    }
    const done = new Set([...outcome.runs, ...outcome.failures].map(cell));
    if (opts.signal?.aborted) {
      outcome.unfinished = jobs.flat().filter((t) => !done.has(cell(t)));
    }
  }
  trainer.dispose();
  if (opts.signal?.aborted) {
    const signal = String(opts.signal.reason ?? "abort");
    deviations.push(
      `interrupted by ${signal}: ${outcome.unfinished.length} run(s) of the grid not finished`,
    );
  }
  for (const f of outcome.failures) {
    deviations.push(`${f.protocol} seed ${f.seed} failed: ${f.error}`);
  }
  for (const d of differ) {
    deviations.push(
      `${d.protocol} seed ${d.seed} is not deterministic: a rerun under the same key gave ` +
        `${d.fields.join("; ")} (the earlier run is kept at ${d.kept})`,
    );
  }
  const runs = _inGridOrder([...kept, ...outcome.runs], tasks);
  deviations.push(...runDeviations(runs));
  const claims = claimResults(rep.spec, runs);
  const ranIds = new Set(protocols.map((p) => p.id));
  for (const c of rep.spec.claims) {
    if (ranIds.has(c.protocol) && !claims.some((r) => r.id === c.id)) {
      deviations.push(`claim ${c.id} not evaluated: its epoch ${c.epoch} was not trained`);
    }
  }
  const variant = variantOf(key);
  const threaded = `tfjs-backend-wasm threaded SIMD build, ${threads} threads per run`;
  return ResultsSchema.parse({
    ...head,
    backend: threads > 1
      ? { ...head.backend, note: [head.backend.note, threaded].filter(Boolean).join("; ") }
      : head.backend,
    createdAt: new Date().toISOString(),
    setupSeconds: outcome.setupSeconds,
    grid,
    shard: opts.shard ? { index: opts.shard.index, count: opts.shard.count } : null,
    deviations,
    runs,
    claims,
    ...(variant ? { variant } : {}),
    ...(opts.signal?.aborted
      ? {
        interrupted: {
          signal: String(opts.signal.reason ?? "abort"),
          unfinished: outcome.unfinished,
        },
      }
      : {}),
    ...(outcome.failures.length ? { failures: outcome.failures } : {}),
    ...(differ.length ? { rerunsDiffer: differ } : {}),
  });
}

/** Whether a protocol's model has convolution layers (false where it cannot be built alone). */
function _convolutional(rep: Replication, p: Protocol): boolean {
  if (p.kind !== "layers") return false;
  const build = moduleEntry(rep.module, "models", p.model);
  try {
    const model = build?.(0, {
      seed: 0,
      stage: () => {
        throw new Error("no stage here");
      },
    });
    const conv = model?.layers.some((l) => /Conv/.test(l.getClassName())) ?? false;
    model?.dispose();
    return conv;
  } catch {
    return false; // a consumer of a stage: its stage's protocol decides
  }
}

/** `runs` in the order of `tasks` (the grid), whatever order they finished in. */
function _inGridOrder(runs: Run[], tasks: RunTask[]): Run[] {
  const at = (r: RunTask) => tasks.findIndex((t) => t.protocol === r.protocol && t.seed === r.seed);
  return runs.sort((a, b) => at(a) - at(b));
}
