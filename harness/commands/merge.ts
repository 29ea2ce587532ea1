/**
 * `deno task merge <folder>…`: combines the shard results found under the folders into each
 * replication's results.json, rebuilds the site and prints the claims table.
 * @module
 */
import { join } from "node:path";
import { loadReplication } from "../replications.ts";
import { loadResults, type Results } from "../results/result.ts";
import { resultsFile } from "../results/run_store.ts";
import { mergeShards } from "../score/merge.ts";
import { withLock } from "../util/with_lock.ts";
import { claimsTable } from "./_claims_table.ts";
import { type CommandHelp, parseOptions, pickOptions } from "./_options.ts";
import { replaceResults } from "./_results_io.ts";
import { rebuildSite, skippedExit } from "./_site.ts";
import { UsageError } from "./usage_error.ts";

const _OPTIONS = ["out", "replications"] as const;

/** `merge`'s line in the usage text, and its options. */
export const mergeHelp: CommandHelp = {
  synopsis: "  deno task merge <folder>... [--out DIR]",
  options: pickOptions(_OPTIONS),
};

/** `deno task merge`: merges the shards, writes the results and the site; the exit code. */
export async function mergeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, _OPTIONS);
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
    await replaceResults(resultsFile(join(values.out, name), results.variant ?? ""), results);
    merged.push(results);
  }
  const skipped = await withLock(values.out, () => rebuildSite(values.out, [values.replications]));
  console.log(claimsTable(merged));
  return skippedExit(skipped);
}

/** The shard results files under `dir`, at any depth. */
async function* _shardFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* _shardFiles(path);
    else if (/^results\.shard-\d+-of-\d+\.json$/.test(entry.name)) yield path;
  }
}
