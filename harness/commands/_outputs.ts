/**
 * A rerun's outputs, made safe for its training time: every folder and file it will write is
 * checked before anything trains, and results that cannot be written after training are kept
 * where they can be recovered from.
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { DEFAULT_CACHE_DIR } from "../util/paths.ts";
import type { Results } from "../results/result.ts";
import { writeFileAtomic } from "../util/write_file_atomic.ts";
import { UsageError } from "./usage_error.ts";

/** An output path that cannot be written; the message names it and what to do. */
export class OutputError extends Error {}

/** Fails (a usage error) before any training when `out` cannot be created or written. */
export async function checkWritable(out: string): Promise<void> {
  try {
    await Deno.mkdir(out, { recursive: true });
    const probe = await Deno.makeTempFile({ dir: out, prefix: ".write-test-" });
    await Deno.remove(probe);
  } catch (e) {
    throw new UsageError(`--out: cannot write to ${out}: ${(e as Error).message}`);
  }
}

/**
 * Throws an OutputError naming the first of `folders` that cannot be created or written (a file
 * where a folder must be, a folder that refuses a new file) or of `files` that is a folder.
 * Creates nothing: a folder that does not exist yet is checked through the nearest one above it.
 */
export async function checkOutputs(folders: string[], files: string[] = []): Promise<void> {
  for (const file of files) {
    if ((await _stat(file))?.isDirectory) {
      throw new OutputError(`${file} is a folder where results are written; move it away`);
    }
  }
  for (const folder of folders) {
    let existing = resolve(folder);
    let info = await _stat(existing);
    while (!info) {
      existing = dirname(existing);
      info = await _stat(existing);
    }
    if (!info.isDirectory) {
      const within = existing === resolve(folder) ? "" : ` (to write ${folder})`;
      throw new OutputError(`${existing} is a file where a folder must be${within}; move it away`);
    }
    try {
      await Deno.remove(await Deno.makeTempFile({ dir: existing, prefix: ".write-test-" }));
    } catch (e) {
      throw new OutputError(`cannot write ${folder}: ${(e as Error).message}`);
    }
  }
}

/** `path`'s info; null where nothing is there (or a file is where a folder above it must be). */
async function _stat(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
    throw e;
  }
}

/**
 * Keeps results whose writing failed: in `data/cache/rescued/` (the other folder the replicate
 * task may write), or where that fails too (the same full disk), printed on stdout through
 * `print`. Returns one line: `reason`, where the runs are and how to put them back.
 */
export async function keepResults(
  results: Results,
  reason: string,
  target: string,
  print: (json: string) => void = console.log,
): Promise<string> {
  const json = JSON.stringify(results, null, 2) + "\n";
  const stamp = results.createdAt.replace(/[:.]/g, "-");
  const file = join(DEFAULT_CACHE_DIR, "rescued", `${results.replication}.${stamp}.json`);
  const runs = `this rerun's ${results.runs.length} run(s)`;
  try {
    await writeFileAtomic(file, json);
    return `${reason}; ${runs} are kept in ${file}: copy it to ${target} once that can be written`;
  } catch (e) {
    print(json);
    return `${reason}; ${runs} could not be kept in ${file} either (${(e as Error).message}), ` +
      `so they are printed on stdout: save that to ${target}`;
  }
}
