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
export type Run = z.infer<typeof RunSchema>;
export type Verdict = z.infer<typeof VerdictSchema>;
export type ClaimResult = z.infer<typeof ClaimResultSchema>;
export type Results = z.infer<typeof ResultsSchema>;

/** Reads and validates a results.json. */
export async function loadResults(file: string): Promise<Results> {
  return validate(ResultsSchema, JSON.parse(await Deno.readTextFile(file)), file);
}
