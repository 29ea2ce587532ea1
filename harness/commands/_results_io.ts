/**
 * Writing a results.json, keeping the one it replaces where that one holds other runs.
 * @module
 */
import { basename, dirname, join } from "node:path";
import { loadResults, type Results } from "../results/result.ts";
import { runKey } from "../results/run_store.ts";
import { writeFileAtomic } from "../util/write_file_atomic.ts";

/**
 * Writes `results` to `file`. A results file already there that does not validate, or that was
 * made with another key (commit, spec, code, backend or data) or holds runs `results` lacks, is
 * moved to history/ first, never overwritten.
 */
export async function replaceResults(file: string, results: Results): Promise<void> {
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
    const stamp = (old?.createdAt ?? new Date().toISOString()).replace(/[:.]/g, "-");
    const moved = join(folder, "history", `${basename(file, ".json")}.${stamp}.json`);
    await Deno.mkdir(join(folder, "history"), { recursive: true });
    await Deno.rename(file, moved);
    console.error(`moved the previous ${file} to ${moved}: ${why}`);
  }
  await writeResults(results, file);
}

/** Writes `results` to `file` (atomically) and says so. */
export async function writeResults(results: Results, file: string): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(results, null, 2) + "\n");
  console.error(`wrote ${file}`);
}
