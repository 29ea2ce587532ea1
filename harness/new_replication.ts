/**
 * `deno task new <name>`: a new replication folder copied from replications/_template, which
 * runs as it is (`deno task replicate <name> --epochs 1`) and whose README is the checklist
 * for turning it into the claim at hand.
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { TEMPLATE_DIR } from "./paths.ts";
import { writeFileAtomic } from "./write_file_atomic.ts";

const _FILES = ["spec.json", "model.ts", "README.md"];

/** A name `new` refuses: not lowercase-with-dashes, or its folder exists already. */
export class NewReplicationError extends Error {}

/**
 * Creates `<dir>/<name>/` from the template and returns its path. Refuses a name that is not
 * lowercase-with-dashes and a folder that exists already.
 */
export async function newReplication(name: string, dir: string): Promise<string> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    throw new NewReplicationError(
      `new: "${name}" is not a replication name (lowercase letters, digits, '-')`,
    );
  }
  const folder = resolve(dir, name);
  if (await Deno.stat(folder).then(() => true, () => false)) {
    throw new NewReplicationError(`new: ${folder} exists already; pick another name`);
  }
  await Deno.mkdir(dirname(folder), { recursive: true });
  await Deno.mkdir(folder);
  try {
    for (const file of _FILES) {
      // model.ts imports the harness as "claimcheck/plugin", so the folder may be anywhere.
      const text = (await Deno.readTextFile(join(TEMPLATE_DIR, file))).replaceAll(
        "_template",
        name,
      );
      await writeFileAtomic(join(folder, file), text);
    }
  } catch (e) {
    await Deno.remove(folder, { recursive: true }).catch(() => {}); // no half-made folder
    throw e;
  }
  return folder;
}
