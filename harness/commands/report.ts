/**
 * `deno task report [<name>…]`: rebuilds the report site from the results.json files and, for a
 * replication without one, its record in git (records/), without training; each name given
 * must have one or the other.
 * @module
 */
import { join } from "node:path";
import { withLock } from "../util/with_lock.ts";
import { recordFile } from "../score/records.ts";
import { type CommandHelp, parseOptions, pickOptions } from "./_options.ts";
import { rebuildSite, skippedExit } from "./_site.ts";

const _OPTIONS = ["out", "replications"] as const;

/** `report`'s line in the usage text, and its options. */
export const reportHelp: CommandHelp = {
  synopsis:
    "  deno task report [<name>...]      rebuild the report site from results.json files and records",
  options: pickOptions(_OPTIONS),
};

/** `deno task report`: rebuilds the site; the exit code (1 when it left results files out). */
export async function reportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, _OPTIONS);
  for (const name of positionals) {
    const file = join(values.out, name, "results.json");
    const found = (f: string) => Deno.stat(f).then(() => true, () => false);
    if (!await found(file) && !await found(recordFile(name))) {
      throw new Error(
        `neither ${file} nor ${recordFile(name)} found: run deno task replicate ${name} first`,
      );
    }
  }
  return skippedExit(
    await withLock(values.out, () => rebuildSite(values.out, [values.replications])),
  );
}
