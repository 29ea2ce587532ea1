/**
 * Finished runs on disk, one file per (protocol, seed), written the moment a run ends, so an
 * interrupted or crashed rerun loses only the run in progress. Each file carries the settings
 * the run depends on (its key); runs with equal keys are interchangeable: `--resume` takes them
 * instead of training, and results merge them by run.
 * @module
 */
import { basename, dirname, join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../util/write_file_atomic.ts";
import { compareRuns } from "./compare_runs.ts";
import { type Results, type Run, RunSchema } from "./result.ts";

/** Everything a run's numbers depend on besides its protocol and seed. */
export interface RunKey {
  /** The spec.json's SHA-256. */
  spec: string;
  /** The SHA-256 of the code the run executed (model.ts, its imports, the training path). */
  code: string | null;
  /** The commit, where known. */
  gitCommit: string | null;
  /** The backend's name. */
  backend: string;
  /** The TensorFlow.js version. */
  tfjs: string;
  /** The datasets' file hashes. */
  datasets: string[];
  /** --epochs, where given. */
  epochs: number | null;
  /** The training-set limit, where given (the accuracy gate). */
  trainLimit: number | null;
  /** --dataset: the dataset every protocol trained on instead of its own, where given. */
  dataset: string | null;
}

const _RunKeySchema = z.strictObject({
  spec: z.string(),
  // Run files written before the code was hashed never match a rerun's key.
  code: z.string().nullable().default(null),
  gitCommit: z.string().nullable(),
  backend: z.string(),
  tfjs: z.string(),
  datasets: z.array(z.string()),
  epochs: z.number().int().nullable(),
  trainLimit: z.number().int().nullable(),
  // Run files written before --dataset existed trained on their protocols' own datasets.
  dataset: z.string().nullable().default(null),
});

const _StoredRunSchema = z.strictObject({
  schema: z.literal(1),
  key: _RunKeySchema,
  command: z.string(),
  createdAt: z.string(),
  run: RunSchema,
});

/**
 * The variant of a rerun that changes what is trained: "" for the protocols as specified,
 * else e.g. `epochs-1`. Its results and runs are kept apart from the full protocol's.
 */
export function variantOf(key: VariantSettings): string {
  return [
    key.epochs !== null ? `epochs-${key.epochs}` : "",
    key.trainLimit !== null ? `train-${key.trainLimit}` : "",
    key.dataset !== null ? `dataset-${key.dataset}` : "",
  ].filter(Boolean).join(".");
}

/** The settings of a rerun that make it a variant (see variantOf). */
export type VariantSettings = Pick<RunKey, "epochs" | "trainLimit" | "dataset">;

/**
 * The settings a variant stands for, the inverse of variantOf (`epochs-1` → epochs 1); null
 * for a string variantOf does not write.
 */
export function variantSettings(variant: string): VariantSettings | null {
  const of = (name: string) =>
    variant.match(new RegExp(`(?:^|\\.)${name}-([a-z0-9-]+)(?:\\.|$)`))?.[1];
  const number = (text: string | undefined) =>
    text === undefined || !/^\d+$/.test(text) ? null : Number(text);
  const settings = {
    epochs: number(of("epochs")),
    trainLimit: number(of("train")),
    dataset: of("dataset") ?? null,
  };
  return variantOf(settings) === variant ? settings : null;
}

/** A file's name for a variant: `results.json`, or `results.epochs-1.json` for `epochs-1`. */
export function variantFileName(stem: string, ext: string, variant = ""): string {
  return variant ? `${stem}.${variant}.${ext}` : `${stem}.${ext}`;
}

/** The results file of a variant in a replication's report folder. */
export function resultsFile(dir: string, variant: string): string {
  return join(dir, variantFileName("results", "json", variant));
}

const _same = (a: RunKey, b: RunKey) => JSON.stringify(a) === JSON.stringify(b);

/** Where a rerun's numbers come from, as recorded: spec, commit, versions, backend, data. */
export type RunProvenance = Pick<
  Results,
  "spec" | "code" | "gitCommit" | "backend" | "versions" | "datasets"
>;

/** The key of the runs of a rerun: its results' provenance and the settings it trains with. */
export function runKey(
  results: RunProvenance,
  settings: { epochs?: number; trainLimit?: number; dataset?: string },
): RunKey {
  return {
    spec: results.spec.sha256,
    code: results.code?.sha256 ?? null,
    gitCommit: results.gitCommit,
    backend: results.backend.name,
    tfjs: results.versions.tfjs,
    datasets: results.datasets.flatMap((d) => d.files.map((f) => f.sha256)),
    epochs: settings.epochs ?? null,
    trainLimit: settings.trainLimit ?? null,
    dataset: settings.dataset ?? null,
  };
}

/** A cell trained again under the same key that gave other numbers than its stored run. */
export interface RerunDifference {
  /** The protocol. */
  protocol: string;
  /** The seed. */
  seed: number;
  /** Each differing field, `name stored → rerun`. */
  fields: string[];
  /** Where the stored run was moved (its history/ folder). */
  kept: string;
}

const _stamp = (stored: { createdAt: string }) => stored.createdAt.replace(/[:.]/g, "-");

/** A replication's finished runs of one variant: `<dir>/runs[.<variant>]/<protocol>.seed-<n>.json`. */
export class RunStore {
  /** The folder holding the run files. */
  readonly dir: string;

  /**
   * A store in a replication's report folder.
   *
   * @param reportDir the replication's report folder, e.g. reports/keras-dense
   * @param variant the variant (see variantOf); "" for the protocols as specified
   */
  constructor(reportDir: string, variant: string) {
    this.dir = join(reportDir, variant ? `runs.${variant}` : "runs");
  }

  /** The file of one run. */
  file(run: { protocol: string; seed: number }): string {
    return join(this.dir, `${run.protocol}.seed-${run.seed}.json`);
  }

  /**
   * Saves a finished run atomically. It replaces the same cell's earlier run, except where that
   * run was made with the same key and has other numbers: the same computation gave two
   * answers, so the earlier run is moved to `history/` and the difference returned.
   */
  async save(run: Run, key: RunKey, command: string): Promise<RerunDifference | null> {
    const file = this.file(run);
    const earlier = await Deno.readTextFile(file).then(
      (text) => _StoredRunSchema.safeParse(JSON.parse(text)).data,
      () => undefined,
    );
    // Compared as stored: the earlier run went through JSON.
    const now: Run = JSON.parse(JSON.stringify(run));
    const differs = earlier && _same(earlier.key, key)
      ? compareRuns(earlier.run, now, true).filter((f) => f.status === "differs" && f.required)
      : [];
    let difference: RerunDifference | null = null;
    if (differs.length) {
      const kept = join(this.dir, "history", `${basename(file, ".json")}.${_stamp(earlier!)}.json`);
      await Deno.mkdir(dirname(kept), { recursive: true });
      await Deno.rename(file, kept);
      difference = {
        protocol: run.protocol,
        seed: run.seed,
        fields: differs.map((f) => `${f.field} ${f.recorded} → ${f.rerun}`),
        kept,
      };
    }
    const stored = { schema: 1, key, command, createdAt: new Date().toISOString(), run };
    await writeFileAtomic(file, JSON.stringify(_StoredRunSchema.parse(stored)) + "\n");
    return difference;
  }

  /**
   * The stored runs made with `key` (a run of another commit, spec, backend or data is not
   * the same run). Unreadable files are reported through `onSkip` and left alone.
   */
  async load(key: RunKey, onSkip?: (file: string, why: string) => void): Promise<Run[]> {
    const runs: Run[] = [];
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(this.dir));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw e;
    }
    for (const entry of entries.filter((e) => /\.seed-\d+\.json$/.test(e.name))) {
      const file = join(this.dir, entry.name);
      let parsed;
      try {
        parsed = _StoredRunSchema.safeParse(JSON.parse(await Deno.readTextFile(file)));
      } catch (e) {
        onSkip?.(file, (e as Error).message);
        continue;
      }
      if (!parsed.success) onSkip?.(file, "not a claimcheck run file");
      else if (_same(parsed.data.key, key)) runs.push(parsed.data.run);
    }
    return runs;
  }
}
