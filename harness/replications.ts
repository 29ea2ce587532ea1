/**
 * Finds replications: every folder with a spec.json and a model.ts under replications/ (or a
 * folder named with --replications), or one folder given by its path. Adding a replication
 * means adding such a folder; nothing here names one. Folders whose name starts with "_" (the
 * template) are not replications.
 * @module
 */
import { basename, dirname, join, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { stripVTControlCharacters } from "node:util";
import { REPLICATIONS_DIR } from "./util/paths.ts";
import type { ReplicationModule } from "./plugin.ts";
import { loadSpec } from "./spec/load_spec.ts";
import { check, type ReplicationSpec, SpecError } from "./spec/spec.ts";

/** A replication folder, loaded and checked. */
export interface Replication {
  /** The replication's folder name (also its spec's `name`). */
  name: string;
  /** The folder holding the replication folders (where `name` was found). */
  dir: string;
  /** Its validated spec.json. */
  spec: ReplicationSpec;
  /** Its model.ts, imported (checked to export what the spec names). */
  module: ReplicationModule;
}

/** Thrown for a replication name that is not a folder of `dir` (a usage error). */
export class UnknownReplicationError extends Error {}

/**
 * Thrown for a model.ts that cannot be imported: it throws, ends the process or does not finish
 * within {@link MODEL_IMPORT_TIMEOUT_MS}. Its replication fails alone.
 */
export class ModelImportError extends Error {}

/**
 * How long the import of a model.ts may take (in a worker; about 0.2 s with tfjs on a 2-core
 * machine) before it counts as hanging.
 */
export const MODEL_IMPORT_TIMEOUT_MS = 10_000;

/** The tables of model.ts whose entries spec.json names. */
type _Table = Exclude<keyof ReplicationModule, "charts">;
/** What a table holds (a model builder, a trainer, a zod schema, …). */
type _Entry<T extends _Table> = NonNullable<ReplicationModule[T]> extends Record<string, infer V>
  ? V
  : never;

/**
 * The entry `key` of a model.ts table, where the table itself has it: its own properties only,
 * so that a spec naming "constructor" or "toString" does not find Object.prototype's.
 */
export function moduleEntry<T extends _Table>(
  module: ReplicationModule,
  table: T,
  key: string,
): _Entry<T> | undefined {
  const t = module[table] as Record<string, _Entry<T>> | undefined;
  return t && Object.hasOwn(t, key) ? t[key] : undefined;
}

/** Names of all replication folders under `dir`, sorted. */
export async function listReplications(dir: string = REPLICATIONS_DIR): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory && !/^[_.]/.test(entry.name)) names.push(entry.name);
  }
  return names.sort();
}

/**
 * Where a replication argument points: a path to a replication folder (it has a "/", like
 * `./my-claims/x`, or is "." or "..") is that folder, by its name and the folder holding it;
 * a bare name is the folder of that name in `dir`.
 */
function _locate(arg: string, dir: string): { name: string; dir: string } {
  const isPath = arg === "." || arg === ".." || arg.includes("/") || arg.includes(sep);
  if (!isPath) return { name: arg, dir: resolve(dir) };
  const folder = resolve(arg);
  return { name: basename(folder), dir: dirname(folder) };
}

/**
 * Loads `name` from the first of `dirs` that holds it: the report site's replications when they
 * come from several folders (the --replications folder and folders given by their path).
 */
export async function loadReplicationFrom(name: string, dirs: string[]): Promise<Replication> {
  for (const dir of dirs.slice(0, -1)) {
    const names = await listReplications(dir).catch((): string[] => []);
    if (names.includes(name)) return await loadReplication(name, dir);
  }
  return await loadReplication(name, dirs.at(-1));
}

/**
 * Loads `<replications>/<arg>`, or the folder `arg` is a path to (one with a "/", like
 * `./my-claims/x`, or "." or ".."): validates spec.json and checks that model.ts exports every
 * model, derived dataset, target function and trainer the spec names. model.ts is first imported
 * in a worker (see {@link ModelImportError}), so that one that throws, hangs or calls `Deno.exit`
 * at import fails here, naming it, instead of stopping or hanging this process; `isolated: false`
 * skips that where the caller is such a worker already (a run worker).
 */
export async function loadReplication(
  arg: string,
  replications: string = REPLICATIONS_DIR,
  { isolated = true } = {},
): Promise<Replication> {
  const { name, dir } = _locate(arg, replications);
  const known = await listReplications(dir);
  if (!known.includes(name)) {
    throw new UnknownReplicationError(
      `unknown replication "${name}" (known: ${known.join(", ") || "none"}; looked in ${dir})`,
    );
  }
  const folder = join(dir, name);
  const specFile = join(folder, "spec.json");
  const spec = await loadSpec(specFile);
  if (spec.name !== name) {
    throw new SpecError(specFile, [`name: "${spec.name}" should be the folder name "${name}"`]);
  }
  const modelFile = join(folder, "model.ts");
  if (isolated) await _importInWorker(modelFile);
  const module = await import(pathToFileURL(modelFile).href) as ReplicationModule;
  const missing: string[] = [];
  const need = (path: string, table: _Table, key: string) => {
    if (typeof moduleEntry(module, table, key) !== "function") {
      missing.push(`${path}: "${key}" is not exported in \`${table}\` of ${modelFile}`);
    }
  };
  // Params are checked (and their defaults filled in) by the schema model.ts gives for them.
  const params = (
    at: [string, number, ...string[]],
    name: string,
    given: Record<string, unknown>,
  ) => {
    const id = `protocol "${spec.protocols[at[1]].id}"`;
    const schema = moduleEntry(module, "params", name);
    if (!schema) {
      if (Object.keys(given).length) {
        missing.push(
          `${at.join(".")}: "${name}" takes no params (${modelFile} exports no ` +
            `schema for it in \`params\`)`,
        );
      }
      return given;
    }
    const r = check(schema, given, at);
    missing.push(...(r.issues ?? []).map((issue) => `${issue} (${id})`));
    return (r.data ?? given) as Record<string, unknown>;
  };
  spec.protocols.forEach((p, i) => {
    if (p.kind === "custom") {
      p.params = params(["protocols", i, "params"], p.trainer, p.params);
      return need(`protocols.${i}.trainer`, "trainers", p.trainer);
    }
    need(`protocols.${i}.model`, "models", p.model);
    if (p.inputs !== "images") {
      need(`protocols.${i}.inputs.derived`, "datasets", p.inputs.derived);
      p.inputs.params = params(
        ["protocols", i, "inputs", "params"],
        p.inputs.derived,
        p.inputs.params,
      );
    }
    if (typeof p.targets === "object") {
      need(`protocols.${i}.targets.function`, "targets", p.targets.function);
    }
  });
  for (const id of Object.keys(module.artifacts ?? {})) {
    if (!spec.protocols.some((p) => p.id === id)) {
      missing.push(
        `${modelFile}: \`artifacts\` names "${id}", which is not a protocol of the spec`,
      );
    }
  }
  if (missing.length) throw new SpecError(specFile, missing);
  return { name, dir, spec, module };
}

/** Imports already tried in a worker, by model.ts path (each is tried once per process). */
const _tried = new Map<string, Promise<void>>();

/** Imports `modelFile` in a worker, failing with a ModelImportError if that fails or hangs. */
function _importInWorker(modelFile: string): Promise<void> {
  let tried = _tried.get(modelFile);
  if (!tried) {
    tried = new Promise((resolve, reject) => {
      const w = new Worker(new URL("./_import_worker.ts", import.meta.url), { type: "module" });
      const end = (error?: string) => {
        clearTimeout(timer);
        w.terminate();
        if (error === undefined) return resolve();
        // Deno colours some import errors (a missing file, a bad specifier).
        const why = stripVTControlCharacters(error);
        reject(new ModelImportError(`${modelFile} did not load: ${why}`));
      };
      const timer = setTimeout(
        () =>
          end(
            `its import did not finish within ${MODEL_IMPORT_TIMEOUT_MS / 1000} s ` +
              "(an endless loop, or a wait, at import?)",
          ),
        MODEL_IMPORT_TIMEOUT_MS,
      );
      w.onmessage = ({ data }: MessageEvent<{ error?: string }>) => end(data.error);
      w.onerror = (e) => {
        e.preventDefault();
        end(e.message);
      };
      w.postMessage(pathToFileURL(modelFile).href);
    });
    _tried.set(modelFile, tried);
  }
  return tried;
}
