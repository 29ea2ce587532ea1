/**
 * `deno task record <name>… | --all`: makes each replication's default-seed rerun
 * (`reports/<name>/results.json`) its record of results in git (`records/<name>/`), and rewrites
 * the README scoreboard and each replication README's results from the records (`--readmes`:
 * only that). It refuses a dirty tree, a rerun of another commit, spec or code, a variant or
 * shard, and fewer seeds than the default; then it writes nothing.
 * @module
 */
import { join } from "node:path";
import { codeHash } from "../util/code_hash.ts";
import { gitCommit } from "../util/git_commit.ts";
import { PROJECT_ROOT, REPLICATIONS_DIR } from "../util/paths.ts";
import { writeFileAtomic } from "../util/write_file_atomic.ts";
import { listReplications, loadReplication, type Replication } from "../replications.ts";
import { loadResults, type Results } from "../results/result.ts";
import { resultsFile } from "../results/run_store.ts";
import {
  changesFile,
  loadRecordChanges,
  type RecordChanges,
  recordFile,
  recordFrom,
  recordJson,
  verdictChanges,
} from "../score/records.ts";
import {
  RECORD_MARKER,
  type RecordEntry,
  recordMarkdown,
  replaceMarkedBlock,
  SCOREBOARD_MARKER,
  scoreboardMarkdown,
} from "../report/records_markdown.ts";
import { type CommandHelp, parseOptions, pickOptions } from "./_options.ts";
import { UsageError } from "./usage_error.ts";

const _OPTIONS = ["all", "out", "replications", "readmes"] as const;

/** `record`'s line in the usage text, and its options. */
export const recordHelp: CommandHelp = {
  synopsis:
    "  deno task record <name>... | --all    make the default reruns in reports/ records\n" +
    "  deno task record --readmes         rewrite the READMEs' results from records/ alone",
  options: pickOptions(_OPTIONS),
};

/** The project's README.md, whose scoreboard the records make. */
export const README_FILE: string = join(PROJECT_ROOT, "README.md");

/** `deno task record`: checks every rerun named, then writes the records and READMEs. */
export async function recordCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, _OPTIONS);
  const dir = values.replications;
  const names = values.all ? await listReplications(dir) : positionals;
  if (!names.length && !values.readmes) {
    throw new UsageError("record: name a replication, or pass --all or --readmes");
  }
  const head = await gitCommit();
  const commit = head.commit?.replace(/-dirty$/, "") ?? null;
  const made: { rep: Replication; record: Results; changes: RecordChanges | null }[] = [];
  const problems: string[] = [];
  for (const name of names) {
    const rep = await loadReplication(name, dir);
    const file = resultsFile(join(values.out, name), "");
    const results = await loadResults(file).catch((e) => {
      problems.push(`${file}: ${(e as Error).message} (run deno task replicate ${name} first)`);
      return null;
    });
    if (!results) continue;
    try {
      const record = recordFrom(results, rep.spec, {
        commit,
        dirty: head.commit?.endsWith("-dirty") ?? true,
        codeSha256: (await codeHash(join(rep.dir, rep.name))).sha256,
      });
      const old = await _loadIfThere(recordFile(name));
      // Recording the same commit again keeps what the last replacement moved.
      const changes = old && old.gitCommit !== record.gitCommit
        ? verdictChanges(old, record)
        : null;
      made.push({ rep, record, changes });
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  if (problems.length) {
    console.error(problems.map((p) => `error: ${p}`).join("\n"));
    console.error("nothing written");
    return 1;
  }
  for (const { rep, record, changes } of made) {
    await writeFileAtomic(recordFile(rep.name), recordJson(record));
    if (changes) {
      await writeFileAtomic(changesFile(rep.name), JSON.stringify(changes, null, 2) + "\n");
    }
    console.error(`wrote ${recordFile(rep.name)} (${record.runs.length} runs)`);
  }
  for (const { file, text } of await recordReadmes(dir)) {
    if (text.want !== text.have) {
      await writeFileAtomic(file, text.want);
      console.error(`wrote ${file}`);
    }
  }
  return 0;
}

/** The results in `file`, or null where there is none. */
async function _loadIfThere(file: string): Promise<Results | null> {
  try {
    return await loadResults(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Every replication with its record and changes, read from `records/`. */
export async function recordEntries(
  dir: string = REPLICATIONS_DIR,
) {
  const entries: (RecordEntry & { rep: Replication })[] = [];
  for (const name of await listReplications(dir)) {
    const rep = await loadReplication(name, dir);
    const record = await _loadIfThere(recordFile(name));
    entries.push({ rep, spec: rep.spec, record, changes: await loadRecordChanges(name) });
  }
  return entries;
}

/**
 * README.md and every replication's README.md: the text they have and the text they should have,
 * their blocks made from the records. A test holds them equal.
 */
export async function recordReadmes(
  dir: string = REPLICATIONS_DIR,
): Promise<{ file: string; text: { have: string; want: string } }[]> {
  const entries = await recordEntries(dir);
  const readme = await Deno.readTextFile(README_FILE);
  const out = [{
    file: README_FILE,
    text: {
      have: readme,
      want: replaceMarkedBlock(readme, SCOREBOARD_MARKER, scoreboardMarkdown(entries), README_FILE),
    },
  }];
  for (const e of entries) {
    const file = join(e.rep.dir, e.rep.name, "README.md");
    const have = await Deno.readTextFile(file);
    out.push({
      file,
      text: { have, want: replaceMarkedBlock(have, RECORD_MARKER, recordMarkdown(e), file) },
    });
  }
  return out;
}
