/**
 * `deno task replicate <name…> | --all`: trains the grid of each replication (or one shard of the
 * whole grid), writes its results beside the runs saved before with the same key, rebuilds the
 * site and prints the claims table.
 * @module
 */
import { join } from "node:path";
import { setupBackend } from "../backend/backend.ts";
import { checkDataDirs, loadManifest } from "../data/datasets.ts";
import {
  listReplications,
  loadReplication,
  ModelImportError,
  type Replication,
} from "../replications.ts";
import type { Results } from "../results/result.ts";
import { resultsFile, runKey, RunStore, variantOf } from "../results/run_store.ts";
import { parseShard, type Shard, shardItems } from "../results/shard.ts";
import { withStoredRuns } from "../score/merge.ts";
import { probeDeterminism, probeText } from "../train/determinism.ts";
import { runGrid, runJobs } from "../train/plan.ts";
import { replicate } from "../pipeline/replicate.ts";
import { withLock } from "../util/with_lock.ts";
import { writeFileAtomic } from "../util/write_file_atomic.ts";
import { claimsTable } from "./_claims_table.ts";
import {
  backendChoice,
  checkGridSize,
  type CommandHelp,
  jobCount,
  nameList,
  optionsHelp,
  parseOptions,
  parseSeeds,
  pickOptions,
  wholeNumber,
} from "./_options.ts";
import { checkOutputs, checkWritable, keepResults, OutputError } from "./_outputs.ts";
import { duration, printProgress } from "./_progress.ts";
import { replaceResults } from "./_results_io.ts";
import { rebuildSite } from "./_site.ts";
import { UsageError } from "./usage_error.ts";

const _OPTIONS = [
  "all",
  "seed",
  "seeds",
  "backend",
  "data-dir",
  "epochs",
  "dataset",
  "protocols",
  "out",
  "replications",
  "jobs",
  "yes",
  "shard",
  "check-determinism",
  "json",
  "quiet",
  "resume",
] as const;

/** `replicate`'s line in the usage text, and its options, listed there. */
export const replicateHelp: CommandHelp = {
  synopsis: "  deno task replicate <name or ./path/to/folder>... | --all [options]",
  options: pickOptions(_OPTIONS),
  optionsHelp: optionsHelp(_OPTIONS),
};

const _SIGNALS = ["SIGINT", "SIGTERM"] as const;
/** The shell's convention: 128 + the signal's number. */
const _SIGNAL_EXIT: Record<(typeof _SIGNALS)[number], number> = { SIGINT: 130, SIGTERM: 143 };

/** `deno task replicate`: parses the arguments, trains, writes; the exit code. */
export async function replicateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, _OPTIONS);
  const started = performance.now();
  const dir = values.replications;
  const names = values.all ? await listReplications(dir) : positionals;
  if (!names.length) throw new UsageError("name a replication or pass --all");
  const choice = backendChoice(values.backend);
  const seedsOf = (rep: Replication) =>
    parseSeeds(values.seed, values.seeds ?? String(rep.spec.defaultSeeds));
  parseSeeds(values.seed, values.seeds); // a bad --seed/--seeds fails before any spec loads
  const epochs = values.epochs === undefined
    ? undefined
    : wholeNumber("--epochs", values.epochs, 1);
  const dataset = values.dataset;
  if (dataset !== undefined) {
    await loadManifest(dataset).catch((e) => {
      throw new UsageError(`--dataset: ${(e as Error).message}`);
    });
  }
  const jobs = jobCount(values.jobs);
  const shard = values.shard === undefined ? undefined : _shard(values.shard);
  const protocols = values.protocols === undefined
    ? undefined
    : nameList("--protocols", values.protocols);
  // Fail on a bad spec or an unknown protocol before training; a model.ts that does not load
  // fails its replication alone.
  const { reps, unloaded } = await _loadAll(names, dir);
  if (!reps.length) throw new ModelImportError(unloaded.join("\n"));
  for (const u of unloaded) console.error(`error: ${u}; running the others`);
  // The shard split is over the whole grid of jobs (a stage and its consumers stay together).
  const grid = reps.flatMap((rep) =>
    runJobs(rep.spec, runGrid(rep.spec, seedsOf(rep), protocols)).map((job) => ({ rep, job }))
  );
  const mine = (shard ? shardItems(grid, shard) : grid).flatMap(({ rep, job }) =>
    job.map((task) => ({ rep, task }))
  );
  checkGridSize(mine.length, values.yes);
  const out = values.out;
  await checkWritable(out);
  const variant = variantOf({ epochs: epochs ?? null, trainLimit: null, dataset: dataset ?? null });
  // Every folder and file the grid writes, before anything trains.
  for (const rep of new Set(mine.map((m) => m.rep))) {
    const folder = join(out, rep.name);
    const runs = new RunStore(folder, variant).dir;
    await (shard
      ? checkOutputs([folder, runs], [_shardFile(folder, shard)])
      : checkOutputs([folder, runs, join(folder, "history")], [resultsFile(folder, variant)]));
  }
  await checkDataDirs({ dataDir: values["data-dir"] });
  const backend = await setupBackend(choice);
  console.error(
    `backend: ${backend.name}${backend.adapter ? ` (${backend.adapter})` : ""}` +
      (backend.note ? ` — ${backend.note}` : ""),
  );

  // Ctrl-C or SIGTERM: stop training, keep every finished run, write what there is.
  const stop = new AbortController();
  let firstSignal = 0;
  const onSignal = (signal: (typeof _SIGNALS)[number]) => () => {
    if (stop.signal.aborted) {
      // Ctrl-C under `deno task` arrives twice at once (from the terminal and forwarded by the
      // task runner): only a second press, later, means "leave now".
      if (performance.now() - firstSignal > 1000) Deno.exit(_SIGNAL_EXIT[signal]);
      return;
    }
    firstSignal = performance.now();
    console.error(`\n${signal}: stopping; keeping the finished runs (again to quit at once)`);
    stop.abort(signal);
  };
  const listeners = _SIGNALS.map((s) => [s, onSignal(s)] as const);
  for (const [s, f] of listeners) Deno.addSignalListener(s, f);
  const log = values.quiet ? undefined : (m: string) => console.error(m);
  const all: Results[] = [];
  const unsaved: string[] = [];
  // Replications whose short rerun, trained twice, gave other numbers (or failed): not trained.
  const undetermined: string[] = [];
  try {
    for (const rep of values["check-determinism"] ? reps : []) {
      if (stop.signal.aborted) break;
      const data = { dataDir: values["data-dir"], log };
      const probe = await probeDeterminism(rep, { data, dataset });
      console.error(probeText(probe));
      if (probe.differences.length || probe.failures.length) undetermined.push(rep.name);
    }
    for (const rep of reps) {
      const tasks = mine.filter((m) => m.rep === rep).map((m) => m.task);
      if (!tasks.length || stop.signal.aborted || undetermined.includes(rep.name)) continue;
      const folder = join(out, rep.name);
      const store = new RunStore(folder, variant);
      const results = await replicate(rep, {
        seeds: seedsOf(rep),
        epochs,
        dataset,
        protocols,
        jobs,
        shard: shard && { ...shard, tasks },
        data: { dataDir: values["data-dir"], log },
        backend,
        command: ["deno task replicate", ...args].join(" "),
        onProgress: values.quiet ? undefined : (p) => printProgress(p, jobs > 1),
        store,
        resume: values.resume,
        log: (m) => console.error(m), // what --resume takes is said even with --quiet
        onSaveError: (file) => unsaved.push(file),
        signal: stop.signal,
      });
      const file = shard ? _shardFile(folder, shard) : resultsFile(folder, variant);
      try {
        if (shard) {
          await writeFileAtomic(file, JSON.stringify(results, null, 2) + "\n");
          console.error(`wrote ${file} (combine the shards with deno task merge)`);
          all.push(results);
        } else {
          all.push(
            await withLock(
              out,
              () => _writeMerged(results, store, rep, { epochs, dataset }, out),
              { exitOnSignal: false }, // the listeners above stop; a second signal exits
            ),
          );
        }
      } catch (e) {
        const why = `cannot write ${file}: ${(e as Error).message}`;
        throw new OutputError(await keepResults(results, why, file));
      }
    }
    const dirs = [...reps.map((r) => r.dir), dir]; // a replication given by its path, too
    if (!shard && all.length) {
      await withLock(out, () => rebuildSite(out, dirs), { exitOnSignal: false });
    }
  } finally {
    for (const [s, f] of listeners) Deno.removeSignalListener(s, f);
  }
  console.log(values.json ? JSON.stringify(all, null, 2) : claimsTable(all));
  console.error(`total wall time ${duration((performance.now() - started) / 1000)}`);
  const failures = all.flatMap((r) =>
    (r.failures ?? []).map((f) => ({ ...f, rep: r.replication }))
  );
  for (const f of failures) {
    console.error(`failed: ${f.rep} ${f.protocol} seed ${f.seed}: ${f.error}`);
  }
  const differ = all.flatMap((r) =>
    (r.rerunsDiffer ?? []).map((d) => ({ ...d, rep: r.replication }))
  );
  for (const d of differ) {
    console.error(
      `not deterministic: ${d.rep} ${d.protocol} seed ${d.seed} gave other numbers than its ` +
        `stored run (${d.fields[0]}${
          d.fields.length > 1 ? `, ${d.fields.length - 1} more` : ""
        }); ` +
        `the stored run is kept at ${d.kept}`,
    );
  }
  for (const u of unloaded) console.error(`failed: ${u}`);
  for (const name of undetermined) {
    console.error(`failed: ${name}: not trained, its --check-determinism probe did not pass`);
  }
  for (const file of unsaved) {
    console.error(`failed: cannot save ${file}; its run is in the results file written above`);
  }
  if (stop.signal.aborted) {
    const signal = stop.signal.reason as (typeof _SIGNALS)[number];
    const unfinished = all.reduce((n, r) => n + (r.interrupted?.unfinished.length ?? 0), 0);
    console.error(
      `${signal}: stopped with ${unfinished} run(s) of this replication's grid unfinished; ` +
        `finished runs are saved. Rerun the same command with --resume to train only the rest.`,
    );
    return _SIGNAL_EXIT[signal];
  }
  return failures.length || differ.length || unloaded.length || unsaved.length ||
      undetermined.length
    ? 1
    : 0;
}

/** `--shard i/n`, checked: a bad one is a usage error. */
function _shard(value: string): Shard {
  try {
    return parseShard(value);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/**
 * The replications named, loaded; those whose model.ts does not load are left out and
 * described in `unloaded`. Any other error (a bad spec, an unknown name) is thrown, the first
 * in the order named.
 */
async function _loadAll(
  names: string[],
  dir: string,
): Promise<{ reps: Replication[]; unloaded: string[] }> {
  const loaded = await Promise.allSettled(names.map((n) => loadReplication(n, dir)));
  const other = loaded.find((r) =>
    r.status === "rejected" && !(r.reason instanceof ModelImportError)
  );
  if (other) throw (other as PromiseRejectedResult).reason;
  return {
    reps: loaded.flatMap((r) => r.status === "fulfilled" ? [r.value] : []),
    unloaded: loaded.flatMap((r, i) =>
      r.status === "rejected" ? [`${names[i]}: ${(r.reason as Error).message}`] : []
    ),
  };
}

const _shardFile = (folder: string, shard: Shard) =>
  join(folder, `results.shard-${shard.index}-of-${shard.count}.json`);

/**
 * Writes a rerun's results merged by run with the runs saved earlier under the same key (other
 * seeds or protocols, another process's runs); see replaceResults.
 */
async function _writeMerged(
  results: Results,
  store: RunStore,
  rep: Replication,
  settings: { epochs?: number; dataset?: string },
  out: string,
): Promise<Results> {
  const merged = withStoredRuns(results, await store.load(runKey(results, settings)), rep.spec);
  await replaceResults(resultsFile(join(out, rep.name), merged.variant ?? ""), merged);
  return merged;
}
