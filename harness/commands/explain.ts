/**
 * `deno task explain <name>`: trains the variants of its stated protocols that have not run yet
 * (runs kept in `<out>/<name>/runs.explain/`), writes `results.explain.json` and the site (the
 * claims table then says what comes closest to a missed claim and whether a held one survives
 * the perturbations), and prints each protocol's ranking.
 * @module
 */
import { join } from "node:path";
import { setupBackend } from "../backend/backend.ts";
import { checkDataDirs } from "../data/datasets.ts";
import { loadReplication } from "../replications.ts";
import { resultsFile, runKey, type RunProvenance, RunStore } from "../results/run_store.ts";
import { EXPLAIN_VARIANT, rankingText, rankVariants } from "../score/explain.ts";
import { withStoredRuns } from "../score/merge.ts";
import { variantsOf, withPerturbations } from "../spec/perturbations.ts";
import { runGrid } from "../train/plan.ts";
import { replicate } from "../pipeline/replicate.ts";
import { withLock } from "../util/with_lock.ts";
import {
  backendChoice,
  checkGridSize,
  type CommandHelp,
  jobCount,
  nameList,
  parseOptions,
  parseSeeds,
  pickOptions,
} from "./_options.ts";
import { checkWritable } from "./_outputs.ts";
import { duration, printProgress } from "./_progress.ts";
import { writeResults } from "./_results_io.ts";
import { rebuildSite } from "./_site.ts";
import { UsageError } from "./usage_error.ts";

const _OPTIONS = [
  "seed",
  "seeds",
  "backend",
  "data-dir",
  "protocols",
  "variants",
  "out",
  "replications",
  "jobs",
  "quiet",
  "yes",
] as const;

/** `explain`'s lines in the usage text (its options are named there), and its options. */
export const explainHelp: CommandHelp = {
  synopsis:
    `  deno task explain <name> [--seeds N] [--protocols a,b] [--variants x,y]   rank the variants
                     of its stated protocols (its exploratory ones; lr ×½ ×2, batch ×½ ×2; or
                     only those --variants names) by how well they reproduce the claims; trains
                     the variants not yet run, taking the runs replicate made with the same key`,
  options: pickOptions(_OPTIONS),
};

/** `deno task explain`: trains the variants, writes them and the site, ranks; the exit code. */
export async function explainCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, _OPTIONS);
  if (positionals.length !== 1) throw new UsageError("name one replication to explain");
  const started = performance.now();
  const dir = values.replications, out = values.out;
  const loaded = await loadReplication(positionals[0], dir);
  const rep = { ...loaded, spec: withPerturbations(loaded.spec) };
  const seeds = parseSeeds(values.seed, values.seeds ?? String(Math.min(3, rep.spec.defaultSeeds)));
  const stated = rep.spec.protocols.filter((p) =>
    !p.exploratory && rep.spec.claims.some((c) => c.protocol === p.id)
  );
  const targets = values.protocols === undefined
    ? stated.map((p) => p.id)
    : nameList("--protocols", values.protocols);
  for (const t of targets) {
    if (!stated.some((p) => p.id === t)) {
      throw new UsageError(
        `--protocols: "${t}" is not a stated protocol of ${rep.name} with claims (` +
          `${stated.map((p) => p.id).join(", ")})`,
      );
    }
  }
  const variants = targets.flatMap((t) => variantsOf(rep.spec, t).map((p) => p.id));
  const chosen = values.variants === undefined ? variants : nameList("--variants", values.variants);
  for (const v of chosen) {
    if (!variants.includes(v)) {
      throw new UsageError(
        `--variants: "${v}" is not a variant of ${targets.join(", ")} (${variants.join(", ")})`,
      );
    }
  }
  const ids = [...targets, ...chosen];
  checkGridSize(runGrid(rep.spec, seeds, ids).length, values.yes);
  const jobs = jobCount(values.jobs);
  const choice = backendChoice(values.backend);
  await checkWritable(out);
  await checkDataDirs({ dataDir: values["data-dir"] });
  const backend = await setupBackend(choice);
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
    onProgress: values.quiet ? undefined : (p) => printProgress(p, jobs > 1),
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
    await writeResults(merged, resultsFile(folder, EXPLAIN_VARIANT));
    await rebuildSite(out, [rep.dir, dir]);
  });
  for (const t of targets) {
    console.log(`\n${rankingText(t, rankVariants(rep.spec, t, merged.runs))}`);
  }
  console.error(`total wall time ${duration((performance.now() - started) / 1000)}`);
  return merged.failures?.length ? 1 : 0;
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
