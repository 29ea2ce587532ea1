/**
 * The command line: `deno task replicate <name…> | --all`, `report`, `merge` and `new`.
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { type BackendChoice, BACKENDS, setupBackend } from "./backend/backend.ts";
import { writeFileAtomic } from "./write_file_atomic.ts";
import { REPLICATIONS_DIR, REPORTS_DIR } from "./paths.ts";
import {
  listReplications,
  loadReplication,
  type Replication,
  UnknownReplicationError,
} from "./replications.ts";
import type { Progress } from "./train/loop.ts";
import { runGrid, runJobs, UnknownProtocolError } from "./train/plan.ts";
import { replicate } from "./train/replicate.ts";
import { newReplication } from "./new_replication.ts";
import { mergeShards, parseShard, shardItems } from "./results/shard.ts";
import { loadResults, type Results } from "./results/result.ts";
import { buildSite } from "./report/site.ts";

const USAGE = `usage:
  deno task replicate <name>... | --all [options]
  deno task report [<name>...]      rebuild the report site from results.json files
  deno task merge <folder>... [--out DIR]
  deno task new <name> [--replications DIR]   a new replication folder from the template

options (replicate):
  --seed S           first seed (default 1)
  --seeds N|a,b,c    number of seeds starting at --seed, or an explicit list
                     (default: the spec's defaultSeeds, 5 for quick claims, 3 or more otherwise)
  --backend B        auto | webgpu | wasm | cpu (default auto)
  --data-dir DIR     folder holding <dataset>/<file> (else $CLAIMCHECK_DATA_DIR, data/cache, download)
  --epochs N         override every protocol's epochs (recorded as a deviation)
  --protocols a,b    run these protocols (default: all non-exploratory ones)
  --out DIR          where reports go (default reports/)
  --replications DIR folder holding the replication folders (default replications/)
  --jobs N           runs at once, each on its own worker (default: number of cores)
  --shard i/n        run only slice i of n of the (replication, protocol, seed) grid and write
                     <out>/<name>/results.shard-i-of-n.json; combine them with deno task merge
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

function _int(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new UsageError(`${flag}: "${value}" is not an integer`);
  return n;
}

/** Parses `--seed`/`--seeds` (a count or a list) into the seeds to run. */
export function parseSeeds(seed = "1", seeds = "1"): number[] {
  if (seeds.includes(",")) return seeds.split(",").map((s) => _int("--seeds", s.trim()));
  const first = _int("--seed", seed), count = _int("--seeds", seeds);
  if (count < 1) throw new UsageError(`--seeds: need at least 1, got ${count}`);
  return Array.from({ length: count }, (_, i) => first + i);
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
        c.verdict,
      ]);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd()).join(
    "\n",
  );
}

async function _replicate(args: string[]): Promise<void> {
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
      protocols: { type: "string" },
      out: { type: "string", default: REPORTS_DIR },
      json: { type: "boolean" },
      quiet: { type: "boolean" },
      jobs: { type: "string" },
      shard: { type: "string" },
      replications: { type: "string", default: REPLICATIONS_DIR },
    },
  });
  const dir = values.replications!;
  const names = values.all ? await listReplications(dir) : positionals;
  if (!names.length) throw new UsageError("name a replication or pass --all");
  const backendChoice = values.backend as BackendChoice;
  if (backendChoice !== "auto" && !(BACKENDS as readonly string[]).includes(backendChoice)) {
    throw new UsageError(
      `--backend: "${values.backend}" is not one of auto, ${BACKENDS.join(", ")}`,
    );
  }
  const seedsOf = (rep: Replication) =>
    parseSeeds(values.seed, values.seeds ?? String(rep.spec.defaultSeeds));
  parseSeeds(values.seed, values.seeds); // a bad --seed/--seeds fails before any spec loads
  const epochs = values.epochs === undefined ? undefined : _int("--epochs", values.epochs);
  if (epochs !== undefined && epochs < 1) throw new UsageError("--epochs: need at least 1");
  const jobs = values.jobs === undefined
    ? navigator.hardwareConcurrency
    : _int("--jobs", values.jobs);
  if (jobs < 1) throw new UsageError("--jobs: need at least 1");
  const shard = values.shard === undefined ? undefined : _usage(() => parseShard(values.shard!));
  const protocols = values.protocols?.split(",").map((s) => s.trim());
  // Fail on a bad spec or an unknown protocol before training.
  const reps = await Promise.all(names.map((n) => loadReplication(n, dir)));
  // The shard split is over the whole grid of jobs (a stage and its consumers stay together).
  const grid = reps.flatMap((rep) =>
    runJobs(rep.spec, runGrid(rep.spec, seedsOf(rep), protocols)).map((job) => ({ rep, job }))
  );
  const mine = (shard ? shardItems(grid, shard) : grid).flatMap(({ rep, job }) =>
    job.map((task) => ({ rep, task }))
  );
  const backend = await setupBackend(backendChoice);
  console.error(
    `backend: ${backend.name}${backend.adapter ? ` (${backend.adapter})` : ""}` +
      (backend.note ? ` — ${backend.note}` : ""),
  );

  const all: Results[] = [];
  for (const rep of reps) {
    const tasks = mine.filter((m) => m.rep === rep).map((m) => m.task);
    if (!tasks.length) continue;
    const results = await replicate(rep, {
      seeds: seedsOf(rep),
      epochs,
      protocols,
      jobs,
      shard: shard && { ...shard, tasks },
      data: {
        dataDir: values["data-dir"],
        log: values.quiet ? undefined : (m) => console.error(m),
      },
      backend,
      command: ["deno task replicate", ...args].join(" "),
      onProgress: values.quiet ? undefined : (p) => _progress(p, jobs > 1),
    });
    const dir = join(values.out!, rep.name);
    if (shard) {
      const file = join(dir, `results.shard-${shard.index}-of-${shard.count}.json`);
      await writeFileAtomic(file, JSON.stringify(results, null, 2) + "\n");
      console.error(`wrote ${file} (combine the shards with deno task merge)`);
    } else await _write(results, dir);
    all.push(results);
  }
  if (!shard) await _site(values.out!, dir);
  console.log(values.json ? JSON.stringify(all, null, 2) : claimsTable(all));
}

async function _write(results: Results, dir: string): Promise<void> {
  const file = join(dir, "results.json");
  await writeFileAtomic(file, JSON.stringify(results, null, 2) + "\n");
  console.error(`wrote ${file}`);
}

/** Rebuilds the whole report site; a results.json that no longer validates is skipped, loudly. */
async function _site(out: string, replications = REPLICATIONS_DIR): Promise<void> {
  await buildSite(out, {
    loadReplication: (name) => loadReplication(name, replications),
    onSkip: (file, e) => console.error(`site: skipped ${file}: ${e.message}`),
  });
  console.error(`wrote ${join(out, "index.html")} (the report site)`);
}

async function _merge(args: string[]): Promise<void> {
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
    await _write(results, join(values.out!, name));
    merged.push(results);
  }
  await _site(values.out!);
  console.log(claimsTable(merged));
}

async function* _shardFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* _shardFiles(path);
    else if (/^results\.shard-\d+-of-\d+\.json$/.test(entry.name)) yield path;
  }
}

async function _report(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { out: { type: "string", default: REPORTS_DIR } },
  });
  for (const name of positionals) {
    const file = join(values.out!, name, "results.json");
    if (!await Deno.stat(file).then(() => true, () => false)) {
      throw new Error(`${file} not found: run deno task replicate ${name} first`);
    }
  }
  await _site(values.out!);
}

async function _new(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { replications: { type: "string", default: REPLICATIONS_DIR } },
  });
  if (positionals.length !== 1) throw new UsageError("new: name the replication, e.g. my-claim");
  const folder = await newReplication(positionals[0], values.replications!).catch((e) => {
    throw new UsageError((e as Error).message);
  });
  const where = values.replications === REPLICATIONS_DIR
    ? ""
    : ` --replications ${values.replications}`;
  console.error(
    `wrote ${folder}: it runs as it is; make it your claim (its README is the checklist)`,
  );
  console.error(`  deno task replicate ${positionals[0]}${where} --epochs 1`);
}

/** Runs the CLI and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === "replicate") await _replicate(rest);
    else if (command === "report") await _report(rest);
    else if (command === "merge") await _merge(rest);
    else if (command === "new") await _new(rest);
    else throw new UsageError(`unknown command "${command ?? ""}"`);
    return 0;
  } catch (e) {
    const usage = e instanceof UsageError || e instanceof UnknownReplicationError ||
      e instanceof UnknownProtocolError ||
      (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    console.error(`error: ${(e as Error).message}${usage ? `\n\n${USAGE}` : ""}`);
    return usage ? 2 : 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
