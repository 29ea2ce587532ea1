/**
 * The command line: `deno task replicate <name…> | --all`, `report`, `merge`, `new` and `verify`.
 * @module
 */
import { parseArgs } from "node:util";
import { basename, dirname, join } from "node:path";
import { type BackendChoice, BACKENDS, setupBackend } from "./backend/backend.ts";
import { writeFileAtomic } from "./util/write_file_atomic.ts";
import { REPLICATIONS_DIR, REPORTS_DIR } from "./util/paths.ts";
import {
  listReplications,
  loadReplication,
  loadReplicationFrom,
  ModelImportError,
  type Replication,
  UnknownReplicationError,
} from "./replications.ts";
import type { Progress } from "./train/loop.ts";
import { runGrid, runJobs, UnknownProtocolError } from "./train/plan.ts";
import { replicate } from "./pipeline/replicate.ts";
import { newReplication, NewReplicationError, newReplicationFrom } from "./commands/new.ts";
import { parseShard, shardItems } from "./results/shard.ts";
import { mergeShards } from "./score/merge.ts";
import { loadResults, type Results } from "./results/result.ts";
import {
  resultsFile,
  runKey,
  type RunProvenance,
  RunStore,
  variantOf,
} from "./results/run_store.ts";
import { withStoredRuns } from "./score/merge.ts";
import { withLock } from "./util/with_lock.ts";
import { guardExit } from "./util/exit_guard.ts";
import { checkOutputs, keepResults, OutputError } from "./commands/outputs.ts";
import { buildSite } from "./report/site.ts";
import { checkDataDirs, loadManifest } from "./data/datasets.ts";
import { TransferError } from "./train/transfer.ts";
import { EXPLAIN_VARIANT, rankingText, rankVariants } from "./score/explain.ts";
import { variantsOf, withPerturbations } from "./spec/perturbations.ts";
import { verifyCommand } from "./commands/verify.ts";
import { probeDeterminism, probeText } from "./train/determinism.ts";

/** A grid of more runs than this needs --yes: `--seeds 100000` is more likely a typo than a plan. */
const _MAX_RUNS = 100;

const USAGE = `usage:
  deno task replicate <name or ./path/to/folder>... | --all [options]
  deno task report [<name>...]      rebuild the report site from results.json files
  deno task merge <folder>... [--out DIR]
  deno task new <name> [--replications DIR]   a new replication folder from the template
  deno task new <name> --from SNIPPET [--url URL] [--keras VERSION] [--fit N]   ... written
                     from a post's Keras code (.py, .ipynb, or a model.to_json() .json file) or
                     TensorFlow.js code (.js, .mjs, .ts; no --keras), its protocol the snippet's
                     N-th fit() call (default 1) with the model it trains; exit 1 when the folder
                     does not run as it is (its TODOs say why)
  deno task verify <results.json> --seed S [--protocol P]   replay recorded runs and compare
  deno task explain <name> [--seeds N] [--protocols a,b] [--variants x,y]   rank the variants
                     of its stated protocols (its exploratory ones; lr ×½ ×2, batch ×½ ×2; or
                     only those --variants names) by how well they reproduce the claims; trains
                     the variants not yet run, taking the runs replicate made with the same key

options (replicate):
  --seed S           first seed (default 1)
  --seeds N|a,b,c    number of seeds starting at --seed, or an explicit list
                     (default: the spec's defaultSeeds, 5 for quick claims, 3 or more otherwise)
  --backend B        auto | webgpu | wasm | cpu (default auto)
  --data-dir DIR     folder holding <dataset>/<file> (else $CLAIMCHECK_DATA_DIR, data/cache, download)
  --epochs N         override every protocol's epochs (recorded as a deviation)
  --dataset NAME     train and test every protocol on this dataset instead of its own (a
                     transfer test: same image size and classes; written beside the main results)
  --protocols a,b    run these protocols (default: all non-exploratory ones)
  --out DIR          where reports go (default reports/)
  --replications DIR folder holding the replication folders (default replications/)
  --jobs N           runs at once, each on its own worker (default and most: number of cores)
  --yes              train a grid of more than ${_MAX_RUNS} runs (asked for, against typos)
  --shard i/n        run only slice i of n of the (replication, protocol, seed) grid and write
                     <out>/<name>/results.shard-i-of-n.json; combine them with deno task merge
  --check-determinism  first train a short rerun of each replication twice (seed 1, 1 epoch,
                     layers protocols on 256 training images) and compare; one whose numbers
                     differ is named with the fields that differ and not trained
  --json             print the results as JSON on stdout instead of the table
  --quiet            no progress on stderr`;

/** A usage error: exit code 2 with the usage text. */
class UsageError extends Error {}

function _usage<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** `--backend`'s value, checked. */
function _backendChoice(value: string): BackendChoice {
  if (value !== "auto" && !(BACKENDS as readonly string[]).includes(value)) {
    throw new UsageError(`--backend: "${value}" is not one of auto, ${BACKENDS.join(", ")}`);
  }
  return value as BackendChoice;
}

function _int(flag: string, value: string, min = 0): number {
  if (!/^-?\d+$/.test(value.trim())) {
    throw new UsageError(`${flag}: "${value}" is not a whole number ≥ ${min}`);
  }
  const n = Number(value);
  if (n < min || !Number.isSafeInteger(n)) {
    throw new UsageError(`${flag}: need a whole number ≥ ${min}, got ${value}`);
  }
  return n;
}

/**
 * `--opt -1` as `--opt=-1`: node:util's parseArgs rejects an option value that starts with a
 * dash as "ambiguous", but a negative number after an option can only be its value, which the
 * option's own check then rejects clearly (`--seed: need a whole number ≥ 0, got -1`).
 */
function _joinNegativeValues(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    if (/^--[^=]+$/.test(args[i]) && next !== undefined && /^-\.?\d/.test(next)) {
      out.push(`${args[i]}=${next}`);
      i++;
    } else out.push(args[i]);
  }
  return out;
}

/** Stops a grid of more than {@link _MAX_RUNS} runs unless --yes says it is meant. */
function _checkGridSize(runs: number, yes: boolean | undefined): void {
  if (runs > _MAX_RUNS && !yes) {
    throw new UsageError(
      `this would train ${runs} runs (more than ${_MAX_RUNS}); check --seeds and --protocols, ` +
        `or pass --yes to train them all`,
    );
  }
}

/** `--jobs`: at most the machine's cores (more workers than cores only wait), said when capped. */
function _jobs(value: string | undefined): number {
  const cores = navigator.hardwareConcurrency;
  if (value === undefined) return cores;
  const asked = _int("--jobs", value, 1);
  if (asked > cores) {
    console.error(`--jobs ${asked}: capped at ${cores}, the number of cores of this machine`);
  }
  return Math.min(asked, cores);
}

/**
 * Parses `--seed`/`--seeds` (a count from --seed, or a list) into the seeds to run. Empty
 * entries and repeated seeds are errors: a seed listed twice is the same run counted twice.
 */
export function parseSeeds(seed?: string, seeds = "1"): number[] {
  if (!seeds.includes(",")) {
    const first = _int("--seed", seed ?? "1"), count = _int("--seeds", seeds, 1);
    return Array.from({ length: count }, (_, i) => first + i);
  }
  if (seed !== undefined) {
    throw new UsageError("--seed: give either --seed with a count in --seeds, or a --seeds list");
  }
  return _once("--seeds", _list("--seeds", seeds).map((s) => _int("--seeds", s)));
}

/** A comma-separated list; an empty entry is an error. */
function _list(flag: string, value: string): string[] {
  return value.split(",").map((s, i) => {
    if (!s.trim()) throw new UsageError(`${flag}: entry ${i + 1} of "${value}" is empty`);
    return s.trim();
  });
}

/** `items`, each once; a repeat is an error (a seed listed twice would count one run twice). */
function _once<T>(flag: string, items: T[]): T[] {
  const twice = items.find((s, i) => items.indexOf(s) !== i);
  if (twice !== undefined) {
    throw new UsageError(`${flag}: ${twice} is listed twice; list each once`);
  }
  return items;
}

function _duration(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const m = Math.floor(s / 60);
  return m ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${s.toFixed(0)}s`;
}

function _progress(p: Progress, perEpoch: boolean): void {
  const done = p.eval !== undefined;
  const line = `${p.replication} ${p.protocol} seed ${p.seed}  epoch ${p.epoch}/${p.epochs}  ` +
    `step ${p.step}/${p.steps}  ${done ? "train " : ""}loss ${p.loss.toFixed(4)}` +
    (done ? `  ${p.eval!.metric.replaceAll("_", " ")} ${p.eval!.value.toFixed(4)}` : "") +
    `  ETA ${_duration(p.etaSeconds)}`;
  // A terminal gets one live line; a log gets one line per epoch.
  if (Deno.stderr.isTerminal() && !perEpoch) {
    Deno.stderr.writeSync(new TextEncoder().encode(`\r\x1b[K${line}${done ? "\n" : ""}`));
  } else if (done) console.error(line);
}

function _fmt(x: number | null): string {
  if (x === null) return "n/a";
  return Number.isInteger(x) ? String(x) : x.toFixed(4);
}

/** The final table: one line per claim. */
export function claimsTable(results: Results[]): string {
  const rows = [["replication", "claim", "claimed", "reproduced", "n", "verdict"]];
  for (const r of results) {
    for (const c of r.claims) {
      rows.push([
        r.replication,
        c.id,
        _fmt(c.claimed),
        _fmt(c.mean),
        String(c.values.length),
        c.note ? `${c.verdict} (${c.note})` : c.verdict,
      ]);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd()).join(
    "\n",
  );
}

async function _replicate(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      all: { type: "boolean" },
      seed: { type: "string" },
      seeds: { type: "string" },
      backend: { type: "string", default: "auto" },
      "data-dir": { type: "string" },
      epochs: { type: "string" },
      dataset: { type: "string" },
      protocols: { type: "string" },
      out: { type: "string", default: REPORTS_DIR },
      json: { type: "boolean" },
      quiet: { type: "boolean" },
      jobs: { type: "string" },
      shard: { type: "string" },
      replications: { type: "string", default: REPLICATIONS_DIR },
      resume: { type: "boolean" },
      yes: { type: "boolean" },
      "check-determinism": { type: "boolean" },
    },
  });
  const started = performance.now();
  const dir = values.replications!;
  const names = values.all ? await listReplications(dir) : positionals;
  if (!names.length) throw new UsageError("name a replication or pass --all");
  const backendChoice = _backendChoice(values.backend!);
  const seedsOf = (rep: Replication) =>
    parseSeeds(values.seed, values.seeds ?? String(rep.spec.defaultSeeds));
  parseSeeds(values.seed, values.seeds); // a bad --seed/--seeds fails before any spec loads
  const epochs = values.epochs === undefined ? undefined : _int("--epochs", values.epochs, 1);
  const dataset = values.dataset;
  if (dataset !== undefined) {
    await loadManifest(dataset).catch((e) => {
      throw new UsageError(`--dataset: ${(e as Error).message}`);
    });
  }
  const jobs = _jobs(values.jobs);
  const shard = values.shard === undefined ? undefined : _usage(() => parseShard(values.shard!));
  const protocols = values.protocols === undefined
    ? undefined
    : _once("--protocols", _list("--protocols", values.protocols));
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
  _checkGridSize(mine.length, values.yes);
  await _checkWritable(values.out!);
  const variant = variantOf({ epochs: epochs ?? null, trainLimit: null, dataset: dataset ?? null });
  // Every folder and file the grid writes, before anything trains.
  for (const rep of new Set(mine.map((m) => m.rep))) {
    const folder = join(values.out!, rep.name);
    const runs = new RunStore(folder, variant).dir;
    await (shard
      ? checkOutputs([folder, runs], [_shardFile(folder, shard)])
      : checkOutputs([folder, runs, join(folder, "history")], [resultsFile(folder, variant)]));
  }
  await checkDataDirs({ dataDir: values["data-dir"] });
  const backend = await setupBackend(backendChoice);
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
      const folder = join(values.out!, rep.name);
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
        onProgress: values.quiet ? undefined : (p) => _progress(p, jobs > 1),
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
              values.out!,
              () => _writeMerged(results, store, rep, { epochs, dataset }, values.out!),
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
      await withLock(values.out!, () => _site(values.out!, dirs), { exitOnSignal: false });
    }
  } finally {
    for (const [s, f] of listeners) Deno.removeSignalListener(s, f);
  }
  console.log(values.json ? JSON.stringify(all, null, 2) : claimsTable(all));
  console.error(`total wall time ${_duration((performance.now() - started) / 1000)}`);
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

const _shardFile = (folder: string, shard: { index: number; count: number }) =>
  join(folder, `results.shard-${shard.index}-of-${shard.count}.json`);

const _SIGNALS = ["SIGINT", "SIGTERM"] as const;
/** The shell's convention: 128 + the signal's number. */
const _SIGNAL_EXIT: Record<(typeof _SIGNALS)[number], number> = { SIGINT: 130, SIGTERM: 143 };

/** Fails before any training when `out` cannot be created or written. */
async function _checkWritable(out: string): Promise<void> {
  try {
    await Deno.mkdir(out, { recursive: true });
    const probe = await Deno.makeTempFile({ dir: out, prefix: ".write-test-" });
    await Deno.remove(probe);
  } catch (e) {
    throw new UsageError(`--out: cannot write to ${out}: ${(e as Error).message}`);
  }
}

/**
 * Writes a rerun's results merged by run with the runs saved earlier under the same key (other
 * seeds or protocols, another process's runs); see _replaceResults.
 */
async function _writeMerged(
  results: Results,
  store: RunStore,
  rep: Replication,
  settings: { epochs?: number; dataset?: string },
  out: string,
): Promise<Results> {
  const merged = withStoredRuns(results, await store.load(runKey(results, settings)), rep.spec);
  await _replaceResults(resultsFile(join(out, rep.name), merged.variant ?? ""), merged);
  return merged;
}

/**
 * Writes `results` to `file`. A results file already there that does not validate, or that was
 * made with another key (commit, spec, code, backend or data) or holds runs `results` lacks, is
 * moved to history/ first, never overwritten.
 */
async function _replaceResults(file: string, results: Results): Promise<void> {
  const exists = await Deno.stat(file).then(() => true, () => false);
  const old = exists ? await loadResults(file).catch(() => null) : null;
  const cell = (r: { protocol: string; seed: number }) => `${r.protocol}#${r.seed}`;
  const kept = new Set(results.runs.map(cell));
  // The variant is in the file's name, so only the provenance can differ.
  const key = (r: Results) => JSON.stringify(runKey(r, {}));
  const why = exists && !old
    ? "it does not validate"
    : old && (key(old) !== key(results) || old.runs.some((r) => !kept.has(cell(r))))
    ? `its ${old.runs.length} runs (commit ${old.gitCommit ?? "unknown"}) were made with ` +
      "another commit, spec, code, backend or data, or are not all in the new results"
    : null;
  if (why) {
    const folder = dirname(file);
    const stamp = _stamp(old?.createdAt ?? new Date().toISOString());
    const moved = join(folder, "history", `${basename(file, ".json")}.${stamp}.json`);
    await Deno.mkdir(join(folder, "history"), { recursive: true });
    await Deno.rename(file, moved);
    console.error(`moved the previous ${file} to ${moved}: ${why}`);
  }
  await _write(results, file);
}

const _stamp = (iso: string) => iso.replace(/[:.]/g, "-");

async function _write(results: Results, file: string): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(results, null, 2) + "\n");
  console.error(`wrote ${file}`);
}

/**
 * Rebuilds the whole report site, with each replication from the first of `replications` that
 * holds it; a results.json that no longer validates is left out, loudly, and returned.
 */
async function _site(out: string, replications: string[]): Promise<string[]> {
  const { skipped } = await buildSite(out, {
    loadReplication: (name) => loadReplicationFrom(name, replications),
    onSkip: (file, e) => console.error(`site: skipped ${file}: ${e.message}`),
  });
  console.error(`wrote ${join(out, "index.html")} (the report site)`);
  return skipped.map((s) => s.file);
}

async function _merge(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: "string", default: REPORTS_DIR },
      replications: { type: "string", default: REPLICATIONS_DIR },
    },
  });
  if (!positionals.length) throw new UsageError("merge: name the folders holding shard results");
  const byName = new Map<string, Results[]>();
  for (const dir of positionals) {
    for await (const file of _shardFiles(dir)) {
      const r = await loadResults(file);
      byName.set(r.replication, [...byName.get(r.replication) ?? [], r]);
    }
  }
  if (!byName.size) {
    throw new Error(`merge: no results.shard-*.json under ${positionals.join(", ")}`);
  }
  const merged: Results[] = [];
  for (const [name, parts] of byName) {
    const rep = await loadReplication(name, values.replications);
    const results = mergeShards(parts, rep.spec);
    await _replaceResults(resultsFile(join(values.out!, name), results.variant ?? ""), results);
    merged.push(results);
  }
  const skipped = await withLock(values.out!, () => _site(values.out!, [values.replications!]));
  console.log(claimsTable(merged));
  return _skippedExit(skipped);
}

async function* _shardFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* _shardFiles(path);
    else if (/^results\.shard-\d+-of-\d+\.json$/.test(entry.name)) yield path;
  }
}

async function _report(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: "string", default: REPORTS_DIR },
      replications: { type: "string", default: REPLICATIONS_DIR },
    },
  });
  for (const name of positionals) {
    const file = join(values.out!, name, "results.json");
    if (!await Deno.stat(file).then(() => true, () => false)) {
      throw new Error(`${file} not found: run deno task replicate ${name} first`);
    }
  }
  return _skippedExit(
    await withLock(values.out!, () => _site(values.out!, [values.replications!])),
  );
}

/** 1, with the files named, when the site had to leave results files out. */
function _skippedExit(skipped: string[]): number {
  if (!skipped.length) return 0;
  console.error(
    `error: the site lacks ${skipped.length} results file(s) that do not validate or whose ` +
      `replication does not load: ${skipped.join(", ")}; fix or rerun them ` +
      "(deno task replicate <name>)",
  );
  return 1;
}

async function _new(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      replications: { type: "string", default: REPLICATIONS_DIR },
      from: { type: "string" },
      url: { type: "string" },
      keras: { type: "string" },
      fit: { type: "string" },
    },
  });
  if (positionals.length !== 1) throw new UsageError("new: name the replication, e.g. my-claim");
  if (
    values.from === undefined &&
    (values.url !== undefined || values.keras !== undefined || values.fit !== undefined)
  ) {
    throw new UsageError("new: --url, --keras and --fit go with --from SNIPPET");
  }
  if (values.fit !== undefined && !/^[1-9]\d*$/.test(values.fit)) {
    throw new UsageError(`new: --fit ${values.fit}: give which fit() call, from 1`);
  }
  const name = positionals[0], dir = values.replications!;
  // A bad name or an existing folder is a usage error; a failed write (permissions) is not.
  const usage = (e: unknown) => {
    throw e instanceof NewReplicationError ? new UsageError(e.message) : e;
  };
  const where = dir === REPLICATIONS_DIR ? "" : ` --replications ${dir}`;
  const run = `  deno task replicate ${name}${where} --check-determinism --epochs 1`;
  if (values.from === undefined) {
    const folder = await newReplication(name, dir).catch(usage);
    console.error(
      `wrote ${folder}: it runs as it is; make it your claim (its README is the checklist)`,
    );
    console.error(run);
    return 0;
  }
  const from = {
    file: values.from,
    url: values.url,
    keras: values.keras,
    fit: values.fit === undefined ? undefined : Number(values.fit),
  };
  const { folder, imported } = await newReplicationFrom(name, dir, from).catch(usage);
  const list = (title: string, items: string[]) =>
    items.length && console.error(`${title}:\n${items.map((i) => `  - ${i}`).join("\n")}`);
  console.error(`wrote ${folder} from ${values.from}: spec.json, model.ts, README.md`);
  list("claims drafted from the snippet", imported.claims);
  list("read as", imported.notes);
  list(`TODO (${imported.todos.length}, also in its README)`, imported.todos);
  if (imported.blocking.length) {
    list("it does not run yet", imported.blocking);
    return 1;
  }
  console.error(`it runs as it is (check the TODOs first):\n${run}`);
  return 0;
}

/** Copies into `to` the runs of `protocols` that `from` holds with the same key and `to` lacks. */
async function _takeRuns(
  from: RunStore,
  to: RunStore,
  provenance: RunProvenance,
  protocols: string[],
): Promise<void> {
  const key = runKey(provenance, {});
  const cell = (r: { protocol: string; seed: number }) => `${r.protocol}#${r.seed}`;
  const have = new Set((await to.load(key)).map(cell));
  for (const run of await from.load(key)) {
    if (!protocols.includes(run.protocol) || have.has(cell(run))) continue;
    await to.save(run, key, `taken from ${from.file(run)}`);
  }
}

/**
 * `deno task explain <name>`: trains the variants of its stated protocols that have not run yet
 * (runs kept in `<out>/<name>/runs.explain/`), writes `results.explain.json` and the site (the
 * claims table then says what comes closest to a missed claim and whether a held one survives
 * the perturbations), and prints each protocol's ranking.
 */
async function _explain(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      seed: { type: "string" },
      seeds: { type: "string" },
      backend: { type: "string", default: "auto" },
      "data-dir": { type: "string" },
      protocols: { type: "string" },
      variants: { type: "string" },
      out: { type: "string", default: REPORTS_DIR },
      replications: { type: "string", default: REPLICATIONS_DIR },
      jobs: { type: "string" },
      quiet: { type: "boolean" },
      yes: { type: "boolean" },
    },
  });
  if (positionals.length !== 1) throw new UsageError("name one replication to explain");
  const started = performance.now();
  const dir = values.replications!, out = values.out!;
  const loaded = await loadReplication(positionals[0], dir);
  const rep = { ...loaded, spec: withPerturbations(loaded.spec) };
  const seeds = parseSeeds(values.seed, values.seeds ?? String(Math.min(3, rep.spec.defaultSeeds)));
  const stated = rep.spec.protocols.filter((p) =>
    !p.exploratory && rep.spec.claims.some((c) => c.protocol === p.id)
  );
  const targets = values.protocols === undefined
    ? stated.map((p) => p.id)
    : _once("--protocols", _list("--protocols", values.protocols));
  for (const t of targets) {
    if (!stated.some((p) => p.id === t)) {
      throw new UsageError(
        `--protocols: "${t}" is not a stated protocol of ${rep.name} with claims (` +
          `${stated.map((p) => p.id).join(", ")})`,
      );
    }
  }
  const variants = targets.flatMap((t) => variantsOf(rep.spec, t).map((p) => p.id));
  const chosen = values.variants === undefined
    ? variants
    : _once("--variants", _list("--variants", values.variants));
  for (const v of chosen) {
    if (!variants.includes(v)) {
      throw new UsageError(
        `--variants: "${v}" is not a variant of ${targets.join(", ")} (${variants.join(", ")})`,
      );
    }
  }
  const ids = [...targets, ...chosen];
  _checkGridSize(runGrid(rep.spec, seeds, ids).length, values.yes);
  const jobs = _jobs(values.jobs);
  const backendChoice = _backendChoice(values.backend!);
  await _checkWritable(out);
  await checkDataDirs({ dataDir: values["data-dir"] });
  const backend = await setupBackend(backendChoice);
  const log = values.quiet ? undefined : (m: string) => console.error(m);
  const folder = join(out, rep.name);
  const store = new RunStore(folder, EXPLAIN_VARIANT);
  const results = await replicate(rep, {
    seeds,
    protocols: ids,
    jobs,
    perturbations: true,
    data: { dataDir: values["data-dir"], log },
    backend,
    command: ["deno task explain", ...args].join(" "),
    onProgress: values.quiet ? undefined : (p) => _progress(p, jobs > 1),
    store,
    resume: true,
    // Runs `replicate` already made of these cells with the same key are the same computation:
    // taken, not trained again (a 25-minute model is not rerun to be ranked).
    beforeTraining: (provenance) => _takeRuns(new RunStore(folder, ""), store, provenance, ids),
    log: (m) => console.error(m),
  });
  // Every variant run saved with this key, also those of protocols not asked for this time.
  const merged = {
    ...withStoredRuns(results, await store.load(runKey(results, {})), rep.spec),
    variant: EXPLAIN_VARIANT,
  };
  await withLock(out, async () => {
    await _write(merged, resultsFile(folder, EXPLAIN_VARIANT));
    await _site(out, [rep.dir, dir]);
  });
  for (const t of targets) {
    console.log(`\n${rankingText(t, rankVariants(rep.spec, t, merged.runs))}`);
  }
  console.error(`total wall time ${_duration((performance.now() - started) / 1000)}`);
  return merged.failures?.length ? 1 : 0;
}

/** Runs the CLI and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = _joinNegativeValues(argv);
  const unguardExit = guardExit();
  try {
    if (command === "replicate") return await _replicate(rest);
    else if (command === "report") return await _report(rest);
    else if (command === "merge") return await _merge(rest);
    else if (command === "new") return await _new(rest);
    else if (command === "verify") return await verifyCommand(rest);
    else if (command === "explain") return await _explain(rest);
    else throw new UsageError(`unknown command "${command ?? ""}"`);
  } catch (e) {
    const usage = e instanceof UsageError || e instanceof UnknownReplicationError ||
      e instanceof UnknownProtocolError || e instanceof TransferError ||
      (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    console.error(`error: ${(e as Error).message}${usage ? `\n\n${USAGE}` : ""}`);
    return usage ? 2 : 1;
  } finally {
    unguardExit();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
