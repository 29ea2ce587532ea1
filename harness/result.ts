/**
 * The result record written to reports/<replication>/results.json, validated with zod on
 * write and on read so that a report is never built from a malformed or foreign file.
 * @module
 */
import { z } from "zod";
import { CompareSchema, MetricSchema, validate } from "./spec.ts";

/** Metrics after one epoch: the training averages fit reports and a full test-set pass. */
export const EpochSchema = z.object({
  epoch: z.number().int().positive(),
  trainLoss: z.number(),
  trainAcc: z.number(),
  testLoss: z.number(),
  testAcc: z.number(),
  /** Training seconds of this epoch (evaluation excluded). */
  seconds: z.number().min(0),
  evalSeconds: z.number().min(0),
  /** Further metrics a custom trainer records (claims may name them). */
  extra: z.record(z.string(), z.number()).optional(),
});

/** MLPerf-style log events, with wall-clock timestamps (Unix ms). */
export const EventKeySchema = z.enum([
  "init_start",
  "init_stop",
  "run_start",
  "epoch_start",
  "epoch_stop",
  "eval_accuracy",
  "run_stop",
]);

/** One logged event of a run. */
export const EventSchema = z.object({
  time: z.number(),
  key: EventKeySchema,
  epoch: z.number().int().positive().optional(),
  value: z.union([z.number(), z.string()]).optional(),
});

/** One protocol trained with one seed. */
export const RunSchema = z.object({
  protocol: z.string(),
  seed: z.number().int(),
  params: z.number().int(),
  epochsPlanned: z.number().int().positive(),
  epochs: z.array(EpochSchema),
  /** Kernel compilation and first-step costs, measured on a throwaway model. */
  warmupSeconds: z.number().min(0),
  trainSeconds: z.number().min(0),
  samplesPerSecond: z.number().min(0),
  diverged: z.boolean(),
  events: z.array(EventSchema),
  /** Data a replication's own charts need (e.g. output distributions), as it chooses. */
  artifacts: z.record(z.string(), z.unknown()).optional(),
});

/** The verdicts claimcheck can give (rules in verdict.ts and the README). */
export const VerdictSchema = z.enum([
  "reproduced",
  "reproduced (better)",
  "not reproduced",
  "inconclusive",
  "fails as claimed",
  "diverged",
]);

/** A claim beside what the rerun measured. */
export const ClaimResultSchema = z.object({
  id: z.string(),
  source: z.string(),
  statement: z.string(),
  protocol: z.string(),
  metric: MetricSchema,
  epoch: z.number().int().positive().nullable(),
  claimed: z.number(),
  compare: CompareSchema,
  epsilon: z.number(),
  seeds: z.array(z.number().int()),
  values: z.array(z.number()),
  mean: z.number().nullable(),
  /** Over seeds: n, mean, sd, 95 % CI (Student t), min, max, olympic mean; null if diverged. */
  stats: z.object({
    n: z.number().int().positive(),
    mean: z.number(),
    sd: z.number(),
    ci95: z.tuple([z.number(), z.number()]).nullable(),
    min: z.number(),
    max: z.number(),
    olympicMean: z.number(),
  }).nullable(),
  verdict: VerdictSchema,
  evidence: z.string(),
  /**
   * Time-to-accuracy (MLPerf): per seed, seconds from run_start to the first evaluation at or
   * above `target`, and the epochs that took; null where never reached. Warm-up and data loading
   * are outside this clock. Null for claims without a target (not a final test accuracy).
   */
  timeToTarget: z.object({
    target: z.number(),
    perSeed: z.array(z.object({
      seed: z.number().int(),
      seconds: z.number().nullable(),
      epochs: z.number().int().nullable(),
    })),
    /** Olympic mean of the seconds; null when more than one run (or any of < 3) never got there. */
    olympicSeconds: z.number().nullable(),
  }).nullable(),
});

/** A whole results.json. */
export const ResultsSchema = z.object({
  schema: z.literal(1),
  replication: z.string(),
  title: z.string(),
  createdAt: z.string(),
  command: z.string(),
  gitCommit: z.string().nullable(),
  versions: z.object({ deno: z.string(), v8: z.string(), tfjs: z.string() }),
  backend: z.object({
    name: z.enum(["webgpu", "wasm", "cpu"]),
    adapter: z.string().nullable(),
    fallbackAdapter: z.boolean().nullable(),
    note: z.string().nullable(),
  }),
  /** Backend start-up and data loading, once per replication. */
  setupSeconds: z.number().min(0),
  dataset: z.object({
    name: z.string(),
    files: z.array(z.object({ file: z.string(), sha256: z.string() })),
  }),
  /** The whole (protocol × seed) grid asked for; a shard's runs cover part of it. */
  grid: z.array(z.object({ protocol: z.string(), seed: z.number().int() })),
  /** Set on one shard's results (--shard i/n) until `merge` combines them. */
  shard: z.object({ index: z.number().int().positive(), count: z.number().int().positive() })
    .nullable(),
  /** Every way this rerun departs from the spec's protocols (e.g. --epochs). */
  deviations: z.array(z.string()),
  runs: z.array(RunSchema),
  claims: z.array(ClaimResultSchema),
});

export type Epoch = z.infer<typeof EpochSchema>;
export type RunEvent = z.infer<typeof EventSchema>;
export type Run = z.infer<typeof RunSchema>;
export type Verdict = z.infer<typeof VerdictSchema>;
export type ClaimResult = z.infer<typeof ClaimResultSchema>;
export type Results = z.infer<typeof ResultsSchema>;

/** Reads and validates a results.json. */
export async function loadResults(file: string): Promise<Results> {
  return validate(ResultsSchema, JSON.parse(await Deno.readTextFile(file)), file);
}
