/**
 * `deno task new <name>`: a new replication folder copied from replications/_template, which
 * runs as it is (`deno task replicate <name> --epochs 1`) and whose README is the checklist
 * for turning it into the claim at hand; `--from SNIPPET` writes spec.json and model.ts from a
 * post's code instead (see import/import_snippet.ts).
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { REPLICATIONS_DIR, TEMPLATE_DIR } from "../util/paths.ts";
import { writeFileAtomic } from "../util/write_file_atomic.ts";
import type { ImportedReplication } from "../import/import_snippet.ts";
import { type CommandHelp, parseOptions, pickOptions } from "./_options.ts";
import { UsageError } from "./usage_error.ts";

const _OPTIONS = ["replications", "from", "url", "keras", "fit"] as const;

/** `new`'s lines in the usage text (its options are named there), and its options. */
export const newHelp: CommandHelp = {
  synopsis:
    `  deno task new <name> [--replications DIR]   a new replication folder from the template
  deno task new <name> --from SNIPPET [--url URL] [--keras VERSION] [--fit N]   ... written
                     from a post's Keras code (.py, .ipynb, or a model.to_json() .json file) or
                     TensorFlow.js code (.js, .mjs, .ts; no --keras), its protocol the snippet's
                     N-th fit() call (default 1) with the model it trains; exit 1 when the folder
                     does not run as it is (its TODOs say why)`,
  options: pickOptions(_OPTIONS),
};

const _FILES = ["spec.json", "model.ts", "README.md"];

/**
 * `deno task new`: writes the folder and says what to do next; the exit code (1 when a folder
 * written from a snippet does not run as it is).
 */
export async function newCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, _OPTIONS);
  if (positionals.length !== 1) throw new UsageError("new: name the replication, e.g. my-claim");
  if (
    values.from === undefined &&
    (values.url !== undefined || values.keras !== undefined || values.fit !== undefined)
  ) {
    throw new UsageError("new: --url, --keras and --fit go with --from SNIPPET");
  }
  if (values.fit !== undefined && !/^[1-9]\d*$/.test(values.fit)) {
    throw new UsageError(`new: --fit ${values.fit}: give which fit() call, from 1`);
  }
  const name = positionals[0], dir = values.replications;
  // A bad name or an existing folder is a usage error; a failed write (permissions) is not.
  const usage = (e: unknown) => {
    throw e instanceof NewReplicationError ? new UsageError(e.message) : e;
  };
  const where = dir === REPLICATIONS_DIR ? "" : ` --replications ${dir}`;
  const run = `  deno task replicate ${name}${where} --check-determinism --epochs 1`;
  if (values.from === undefined) {
    const folder = await newReplication(name, dir).catch(usage);
    console.error(
      `wrote ${folder}: it runs as it is; make it your claim (its README is the checklist)`,
    );
    console.error(run);
    return 0;
  }
  const from = {
    file: values.from,
    url: values.url,
    keras: values.keras,
    fit: values.fit === undefined ? undefined : Number(values.fit),
  };
  const { folder, imported } = await newReplicationFrom(name, dir, from).catch(usage);
  const list = (title: string, items: string[]) =>
    items.length && console.error(`${title}:\n${items.map((i) => `  - ${i}`).join("\n")}`);
  console.error(`wrote ${folder} from ${values.from}: spec.json, model.ts, README.md`);
  list("claims drafted from the snippet", imported.claims);
  list("read as", imported.notes);
  list(`TODO (${imported.todos.length}, also in its README)`, imported.todos);
  if (imported.blocking.length) {
    list("it does not run yet", imported.blocking);
    return 1;
  }
  console.error(`it runs as it is (check the TODOs first):\n${run}`);
  return 0;
}

/** A name `new` refuses: not lowercase-with-dashes, or its folder exists already. */
export class NewReplicationError extends Error {}

/** The snippet `new --from` imports, and what it is told besides. */
export interface SnippetSource {
  /**
   * The snippet file: a Keras `.py`, a notebook (`.ipynb`), a `model.to_json()` file, or a
   * TensorFlow.js `.js`, `.mjs` or `.ts` file.
   */
  file: string;
  /** The source document's URL. */
  url?: string;
  /** The Keras version the source ran, where the snippet does not say. */
  keras?: string;
  /** Which fit() call of the snippet is the protocol, from 1 (default: the first). */
  fit?: number;
}

/**
 * Creates `<dir>/<name>/` from the template and returns its path. Refuses a name that is not
 * lowercase-with-dashes and a folder that exists already.
 */
export async function newReplication(name: string, dir: string): Promise<string> {
  const folder = await _checkName(name, dir);
  await _write(folder, await _template(name));
  return folder;
}

/**
 * Creates `<dir>/<name>/` from a snippet (spec.json and model.ts translated, the template's
 * README with the lists of what needs a hand) and returns its path and what the import found.
 * The files are written even where the folder does not run yet (`blocking` says why).
 */
export async function newReplicationFrom(
  name: string,
  dir: string,
  from: SnippetSource,
): Promise<{ folder: string; imported: ImportedReplication }> {
  const folder = await _checkName(name, dir);
  const text = await Deno.readTextFile(from.file).catch((e) => {
    throw new NewReplicationError(`new: --from ${from.file}: ${(e as Error).message}`);
  });
  // Loaded here, not at the top: @lezer/lr reads the variable LOG when it loads, a permission
  // only `new` has (every other command imports this module through cli.ts).
  const { importSnippet } = await import("../import/import_snippet.ts");
  let imported: ImportedReplication;
  try {
    imported = importSnippet(text, from.file, {
      name,
      url: from.url,
      keras: from.keras,
      fit: from.fit,
    });
  } catch (e) {
    throw new NewReplicationError(`new: ${(e as Error).message}`);
  }
  const readme = (await _template(name))["README.md"];
  await _write(folder, {
    ...imported.files,
    "README.md": `${readme.trimEnd()}\n\n${importedReadme(basename(from.file), imported)}`,
  });
  return { folder, imported };
}

/** The README section listing what `new --from` translated, assumed and left TODO. */
export function importedReadme(file: string, imported: ImportedReplication): string {
  // Items quote the snippet: a `*` there is text, not emphasis (code spans kept as they are).
  const text = (s: string) => s.replace(/(`[^`]*`)|\*/g, (_, code) => code ?? "\\*");
  const list = (items: string[]) => items.map((i) => _wrap(`- ${text(i)}`, "  ")).join("\n");
  const parts = [
    `## Imported from \`${file}\``,
    "",
    _wrap(
      "Written by `deno task new --from`: spec.json and model.ts are the snippet's protocol " +
        "and model; check each field against the source.",
      "",
    ),
    "",
    "### Claims drafted from the snippet's text",
    "",
    imported.claims.length ? list(imported.claims) : "None: the snippet states no accuracy.",
    "",
    "### TODO: not translated",
    "",
    imported.todos.length ? list(imported.todos) : "Nothing.",
  ];
  if (imported.notes.length) parts.push("", "### Read as", "", list(imported.notes));
  if (imported.blocking.length) {
    parts.push("", "### Why it does not run yet", "", list(imported.blocking));
  }
  return `${parts.join("\n")}\n`;
}

/**
 * Wraps a paragraph or list item at 100 columns as deno fmt does (a code span is never
 * broken), so a written README is already formatted.
 */
function _wrap(text: string, indent: string): string {
  const words = text.match(/(?:`[^`]*`|[^\s`])+/g) ?? [];
  const lines: string[] = [];
  let line = "";
  for (const w of words) {
    if (line && line.length + 1 + w.length > 100) {
      lines.push(line);
      line = indent + w;
    } else line = line ? `${line} ${w}` : w;
  }
  return [...lines, line].join("\n");
}

async function _checkName(name: string, dir: string): Promise<string> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    throw new NewReplicationError(
      `new: "${name}" is not a replication name (lowercase letters, digits, '-')`,
    );
  }
  const folder = resolve(dir, name);
  if (await Deno.stat(folder).then(() => true, () => false)) {
    throw new NewReplicationError(`new: ${folder} exists already; pick another name`);
  }
  return folder;
}

/** The template's files with its name replaced by `name`. */
async function _template(name: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const file of _FILES) {
    // model.ts imports the harness as "claimcheck/plugin", so the folder may be anywhere.
    files[file] = (await Deno.readTextFile(join(TEMPLATE_DIR, file))).replaceAll("_template", name);
  }
  return files;
}

async function _write(folder: string, files: Record<string, string>): Promise<void> {
  await Deno.mkdir(dirname(folder), { recursive: true });
  await Deno.mkdir(folder);
  try {
    for (const [file, text] of Object.entries(files)) {
      await writeFileAtomic(join(folder, file), text);
    }
  } catch (e) {
    await Deno.remove(folder, { recursive: true }).catch(() => {}); // no half-made folder
    throw e;
  }
}
