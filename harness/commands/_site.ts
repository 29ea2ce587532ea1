/**
 * The report site, rebuilt after a command wrote results, and the exit code it leads to.
 * @module
 */
import { join, resolve } from "node:path";
import { loadReplicationFrom } from "../replications.ts";
import { buildSite } from "../report/site.ts";
import { RECORDS_DIR, REPLICATIONS_DIR } from "../util/paths.ts";

/**
 * Rebuilds the whole report site, with each replication from the first of `replications` that
 * holds it, and, when those include replications/, from its record in git (records/) where `out`
 * has no results of it; a results
 * file that no longer validates is left out, loudly, and returned.
 */
export async function rebuildSite(out: string, replications: string[]): Promise<string[]> {
  const { skipped } = await buildSite(out, {
    loadReplication: (name) => loadReplicationFrom(name, replications),
    onSkip: (file, e) => console.error(`site: skipped ${file}: ${e.message}`),
    // The records are of the project's replications; a site of other folders' has none.
    records: replications.some((d) => resolve(d) === REPLICATIONS_DIR) ? RECORDS_DIR : undefined,
  });
  console.error(`wrote ${join(out, "index.html")} (the report site)`);
  return skipped.map((s) => s.file);
}

/** 1, with the files named, when the site had to leave results files out. */
export function skippedExit(skipped: string[]): number {
  if (!skipped.length) return 0;
  console.error(
    `error: the site lacks ${skipped.length} results file(s) that do not validate or whose ` +
      `replication does not load: ${skipped.join(", ")}; fix or rerun them ` +
      "(deno task replicate <name>)",
  );
  return 1;
}
