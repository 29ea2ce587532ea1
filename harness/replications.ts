/**
 * Finds replications: every folder with a spec.json and a model.ts under replications/ (or a
 * folder named with --replications). Adding a replication means adding such a folder; nothing
 * here names one. Folders whose name starts with "_" (the template) are not replications.
 * @module
 */
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { REPLICATIONS_DIR } from "./paths.ts";
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
 * Loads `<dir>/<name>`: validates spec.json and checks that model.ts exports every model,
 * derived dataset, target function and trainer the spec names.
 */
export async function loadReplication(
  name: string,
  dir: string = REPLICATIONS_DIR,
): Promise<Replication> {
  dir = resolve(dir);
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
