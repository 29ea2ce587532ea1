/**
 * `deno task report [<name>…]`: rebuilds the report site from the results.json files, without
 * training; each name given must have one.
 * @module
 */
import { join } from "node:path";
import { withLock } from "../util/with_lock.ts";
import { type CommandHelp, parseOptions, pickOptions } from "./_options.ts";
import { rebuildSite, skippedExit } from "./_site.ts";

const _OPTIONS = ["out", "replications"] as const;

/** `report`'s line in the usage text, and its options. */
export const reportHelp: CommandHelp = {
  synopsis: "  deno task report [<name>...]      rebuild the report site from results.json files",
  options: pickOptions(_OPTIONS),
};

/** `deno task report`: rebuilds the site; the exit code (1 when it left results files out). */
export async function reportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, _OPTIONS);
  for (const name of positionals) {
    const file = join(values.out, name, "results.json");
    if (!await Deno.stat(file).then(() => true, () => false)) {
      throw new Error(`${file} not found: run deno task replicate ${name} first`);
    }
  }
  return skippedExit(
    await withLock(values.out, () => rebuildSite(values.out, [values.replications])),
  );
}
