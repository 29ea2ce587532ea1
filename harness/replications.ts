/**
 * Finds replications: every folder under replications/ with a spec.json and a model.ts.
 * Adding a replication means adding such a folder; nothing here names one.
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import type { ImageDataset, TableDataset } from "./datasets.ts";
import type { Epoch, Results } from "./result.ts";
import type { TopLevelSpec } from "vega-lite";
import { type CustomProtocol, loadSpec, type ReplicationSpec, SpecError } from "./spec.ts";

/** The project root (the folder above harness/). */
export const PROJECT_ROOT = new URL("..", import.meta.url).pathname;
const REPLICATIONS_DIR = join(PROJECT_ROOT, "replications");

/** Builds an uncompiled model whose initializers are all seeded from `seed`. */
export type ModelBuilder = (seed: number) => tf.LayersModel;

/** What a custom trainer gets: its protocol, seed, training length and loaded data. */
export interface CustomRunContext {
  protocol: CustomProtocol;
  seed: number;
  /** The protocol's epochs (or iterations), or the --epochs override. */
  epochs: number;
  data: ImageDataset | TableDataset;
  /**
   * Reports an evaluation: the harness logs it (eval_accuracy event with `testAcc`), shows
   * progress, and keeps it as one of the run's epoch records.
   */
  checkpoint(record: Epoch): void;
}

/** What a custom trainer returns besides its checkpoints. */
export interface CustomRunOutput {
  params: number;
  /** Training samples processed per epoch (iteration), for samples/s. */
  samplesPerEpoch: number;
  diverged?: boolean;
  artifacts?: Record<string, unknown>;
}

/** A replication's own training algorithm, for protocols of kind "custom". */
export type CustomTrainer = (ctx: CustomRunContext) => Promise<CustomRunOutput>;

/** A chart of a replication's own, shown on its report page below the standard ones. */
export interface ReplicationChart {
  title: string;
  /** One or two sentences under the chart saying what it shows. */
  caption: string;
  spec: TopLevelSpec;
}

/** What a replication's model.ts exports: tfjs models, custom trainers, or both. */
export interface ReplicationModule {
  models?: Record<string, ModelBuilder>;
  trainers?: Record<string, CustomTrainer>;
  /** Charts this replication's issue asks for, built from its results (runs' artifacts). */
  charts?: (results: Results) => ReplicationChart[];
}

/** A replication folder, loaded and checked. */
export interface Replication {
  name: string;
  dir: string;
  spec: ReplicationSpec;
  module: ReplicationModule;
}

/** Names of all replication folders, sorted. */
export async function listReplications(): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(REPLICATIONS_DIR)) {
    if (entry.isDirectory) names.push(entry.name);
  }
  return names.sort();
}

/** Loads replications/<name>: validates spec.json and checks model.ts has every model it names. */
export async function loadReplication(name: string): Promise<Replication> {
  const known = await listReplications();
  if (!known.includes(name)) {
    throw new Error(`unknown replication "${name}" (known: ${known.join(", ")})`);
  }
  const dir = join(REPLICATIONS_DIR, name);
  const specFile = join(dir, "spec.json");
  const spec = await loadSpec(specFile);
  if (spec.name !== name) {
    throw new SpecError(specFile, [`name: "${spec.name}" should be the folder name "${name}"`]);
  }
  const module = await import(new URL(`file://${join(dir, "model.ts")}`).href) as ReplicationModule;
  const missing = spec.protocols.flatMap((p, i) => {
    const [field, name, table] = p.kind === "layers"
      ? ["model", p.model, module.models] as const
      : ["trainer", p.trainer, module.trainers] as const;
    return typeof table?.[name] === "function" ? [] : [
      `protocols.${i}.${field}: "${name}" is not exported in ${field}s of ${join(dir, "model.ts")}`,
    ];
  });
  if (missing.length) throw new SpecError(specFile, missing);
  return { name, dir, spec, module };
}
