/**
 * The result record written to reports/<replication>/results.json, validated with zod on
 * write and on read so that a report is never built from a malformed or foreign file.
 * @module
 */
import { z } from "zod";
import type { SameType } from "../util/same_type.ts";
import { type OptimizerRun, OptimizerRunSchema } from "../spec/optimizers.ts";
import {
  type PixelScalingRun,
  PixelScalingRunSchema,
  type ScalingRun,
  ScalingRunSchema,
} from "../spec/scaling.ts";
import {
  type Better,
  BetterSchema,
  type Compare,
  CompareSchema,
  type Metric,
  MetricSchema,
  SpecError,
  validate,
} from "../spec/spec.ts";

/** The results format this harness writes and reads. */
export const RESULTS_SCHEMA = 2;

/**
 * Metrics after one epoch, keyed by the names the spec's protocol records (e.g. `train_loss`,
 * `test_acc.sum_units`). A non-finite value is stored as null, and why in `nonFinite`.
 */
export const EpochSchema = z.strictObject({
  epoch: z.number().int().positive(),
  metrics: z.record(z.string(), z.number().nullable()),
  /** For each null metric: the value it had ("NaN", "Infinity", "-Infinity"). */
  nonFinite: z.record(z.string(), z.enum(["NaN", "Infinity", "-Infinity"])).optional(),
  /** Training seconds of this epoch (evaluation excluded). */
  seconds: z.number().min(0),
  evalSeconds: z.number().min(0),
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
const _EventSchema = z.strictObject({
  time: z.number(),
  key: EventKeySchema,
  epoch: z.number().int().positive().optional(),
  value: z.union([z.number(), z.string()]).optional(),
});

/**
 * How a classifier output's predictions on the test set spread over its classes (softmax
 * units: the argmax; one sigmoid unit: above 0.5 or not), for the run's final model.
 */
export const TestPredictionsSchema = z.strictObject({
  /** The output's name ("" for a protocol's one unnamed output). */
  output: z.string(),
  /** The classes it can predict. */
  classes: z.number().int().positive(),
  /** The classes it predicted at least once: 1 is a degenerate, constant model. */
  distinct: z.number().int().min(0),
  /** The class it predicted most often (the lowest of a tie). */
  top: z.number().int().min(0),
  /** The share of the test samples predicted as `top`. */
  topShare: z.number().min(0).max(1),
});

/**
 * The learning rate an epoch of a layers run trained with: that of its first and of its last
 * step (they differ under a per-step schedule or the legacy decay), after the legacy decay.
 */
export const LearningRateRecordSchema = z.strictObject({
  epoch: z.number().int().positive(),
  first: z.number(),
  last: z.number(),
});

/** One protocol trained with one seed. */
export const RunSchema = z.strictObject({
  protocol: z.string(),
  seed: z.number().int(),
  params: z.number().int(),
  epochsPlanned: z.number().int().positive(),
  epochs: z.array(EpochSchema),
  /**
   * The epoch whose weights the run ends with (its metrics are the run's final metrics):
   * the last epoch, or the best one when early stopping restored it.
   */
  finalEpoch: z.number().int().positive().nullable(),
  /** Set when early stopping ended the run before its planned epochs. */
  earlyStop: z.strictObject({
    epoch: z.number().int().positive(),
    bestEpoch: z.number().int().positive(),
    monitor: z.string(),
    restored: z.boolean(),
  }).nullable(),
  /** Kernel compilation and first-step costs, measured on a throwaway model. */
  warmupSeconds: z.number().min(0),
  trainSeconds: z.number().min(0),
  samplesPerSecond: z.number().min(0),
  /** Set when a metric became non-finite: where, and the run stopped there. */
  diverged: z.strictObject({ epoch: z.number().int().positive(), metric: z.string() }).nullable(),
  events: z.array(_EventSchema),
  /** Data for the replication's and the harness's charts (confusion matrix, images, curves). */
  artifacts: z.record(z.string(), z.unknown()).optional(),
  /**
   * Per classifier output of a layers run that did not diverge: how the final model's test
   * predictions spread over the classes. Absent in older results and for other outputs.
   */
  testPredictions: z.array(TestPredictionsSchema).optional(),
  /**
   * How this run departed from its protocol as written, e.g. a batch larger than the training
   * set clipped to it (as Keras does); each is also listed in the results' deviations.
   */
  notes: z.array(z.string()).optional(),
  /**
   * The optimizer of a layers run exactly as it ran: name, every argument, the Keras version
   * named and whose update rule ran. Absent in older results and for custom trainers.
   */
  optimizer: OptimizerRunSchema.optional(),
  /**
   * Per trained epoch of a layers run, the learning rate it ran with (see
   * LearningRateRecordSchema). Absent in older results and for custom trainers.
   */
  learningRates: z.array(LearningRateRecordSchema).optional(),
  /**
   * The input scaling of a layers run that standardised its inputs, as it ran: the division,
   * mean and std (computed from the training images for `standardize: "dataset"`), or the
   * summary of the per-pixel ones (`standardize: "pixel"`). Absent where the inputs were only
   * divided.
   */
  scaling: z.union([ScalingRunSchema, PixelScalingRunSchema]).optional(),
});

/** The verdicts claimcheck can give (rules in verdict.ts and the README). */
const _VerdictSchema = z.enum([
  "reproduced",
  "reproduced (better)",
  "not reproduced",
  "inconclusive",
  "fails as claimed",
  "diverged",
]);

/** A claim beside what the rerun measured. */
export const ClaimResultSchema = z.strictObject({
  id: z.string(),
  source: z.string(),
  statement: z.string(),
  protocol: z.string(),
  metric: MetricSchema,
  /** Which side of the metric is better, as the spec declares it. */
  better: BetterSchema,
  /** The epoch the claim is read at; null for the run's final model. */
  epoch: z.number().int().positive().nullable(),
  claimed: z.number(),
  compare: CompareSchema,
  epsilon: z.number(),
  seeds: z.array(z.number().int()),
  /** One per seed; null where the run's value was not finite (see the run's `diverged`). */
  values: z.array(z.number().nullable()),
  mean: z.number().nullable(),
  /** Over seeds: n, mean, sd, 95 % CI (Student t), min, max, olympic mean; null if diverged. */
  stats: z.strictObject({
    n: z.number().int().positive(),
    mean: z.number(),
    sd: z.number(),
    ci95: z.tuple([z.number(), z.number()]).nullable(),
    min: z.number(),
    max: z.number(),
    olympicMean: z.number(),
  }).nullable(),
  verdict: _VerdictSchema,
  evidence: z.string(),
  /**
   * Time-to-accuracy (MLPerf): per seed, seconds from run_start to the first evaluation at or
   * above `target`, and the epochs that took; null where never reached. Warm-up and data loading
   * are outside this clock. Null for claims without a target (not a final test accuracy).
   */
  timeToTarget: z.strictObject({
    target: z.number(),
    perSeed: z.array(z.strictObject({
      seed: z.number().int(),
      seconds: z.number().nullable(),
      epochs: z.number().int().nullable(),
    })),
    /** Olympic mean of the seconds; null when more than one run (or any of < 3) never got there. */
    olympicSeconds: z.number().nullable(),
  }).nullable(),
  /**
   * Shown beside the verdict: "degenerate: every test output is class 3" where a run's final
   * model predicted one class for every test sample (see the runs' `testPredictions`).
   */
  note: z.string().optional(),
});

/** Where a dataset's bytes came from: its manifest name and each file's SHA-256. */
const _DatasetProvenanceSchema = z.strictObject({
  name: z.string(),
  files: z.array(z.strictObject({ file: z.string(), sha256: z.string() })),
});

/** A whole results.json. */
export const ResultsSchema = z.strictObject({
  schema: z.literal(RESULTS_SCHEMA),
  replication: z.string(),
  title: z.string(),
  /** The spec format version and the SHA-256 of the spec.json that was run. */
  spec: z.strictObject({ version: z.number().int(), sha256: z.string() }),
  /**
   * The code the runs executed (see codeHash): model.ts, what it imports and the training path.
   * Absent in files written before it was recorded.
   */
  code: z.strictObject({ sha256: z.string(), files: z.array(z.string()) }).optional(),
  createdAt: z.string(),
  command: z.string(),
  gitCommit: z.string().nullable(),
  versions: z.strictObject({ deno: z.string(), v8: z.string(), tfjs: z.string() }),
  backend: z.strictObject({
    name: z.enum(["webgpu", "wasm", "cpu"]),
    adapter: z.string().nullable(),
    fallbackAdapter: z.boolean().nullable(),
    note: z.string().nullable(),
  }),
  /** Backend start-up and data loading, once per replication. */
  setupSeconds: z.number().min(0),
  /** Every dataset the rerun's protocols used. */
  datasets: z.array(_DatasetProvenanceSchema),
  /** The whole (protocol × seed) grid asked for; a shard's runs cover part of it. */
  grid: z.array(z.strictObject({ protocol: z.string(), seed: z.number().int() })),
  /** Set on one shard's results (--shard i/n) until `merge` combines them. */
  shard: z.strictObject({ index: z.number().int().positive(), count: z.number().int().positive() })
    .nullable(),
  /** Every way this rerun departs from the spec's protocols (e.g. --epochs). */
  deviations: z.array(z.string()),
  runs: z.array(RunSchema),
  claims: z.array(ClaimResultSchema),
  /** Why the commit is unknown when git could not tell (not permitted, not installed, …). */
  gitError: z.string().optional(),
  /**
   * Set for results of a rerun that changes what is trained (e.g. `epochs-1` for --epochs 1):
   * they are written beside the full-protocol results, never over them.
   */
  variant: z.string().optional(),
  /** Set when a signal stopped the rerun: the runs it did not finish (the first was running). */
  interrupted: z.strictObject({
    signal: z.string(),
    unfinished: z.array(z.strictObject({ protocol: z.string(), seed: z.number().int() })),
  }).optional(),
  /**
   * Cells trained again under the key of their stored run that gave other numbers: the
   * replication is not deterministic (e.g. an unseeded random layer). The stored run is kept.
   */
  rerunsDiffer: z.array(z.strictObject({
    protocol: z.string(),
    seed: z.number().int(),
    fields: z.array(z.string()),
    kept: z.string(),
  })).optional(),
  /** Runs that failed with an error (the others ran and are scored without them). */
  failures: z.array(
    z.strictObject({ protocol: z.string(), seed: z.number().int(), error: z.string() }),
  ).optional(),
});

/** What a claim's per-seed values say. */
export interface Summary {
  /** How many values (seeds) were summarised. */
  n: number;
  /** Arithmetic mean of the values. */
  mean: number;
  /** Sample standard deviation (n − 1); 0 for one value. */
  sd: number;
  /** 95 % confidence interval of the mean; null below two values. */
  ci95: [number, number] | null;
  /** Smallest value. */
  min: number;
  /** Largest value. */
  max: number;
  /** Mean without one best and one worst value (needs n ≥ 3; else the plain mean). */
  olympicMean: number;
}

/** Metrics after one epoch, by the names the protocol records (see EpochSchema). */
export interface Epoch {
  /** The epoch (or iteration), from 1. */
  epoch: number;
  /** Each metric's value; null where it was not finite. */
  metrics: Record<string, number | null>;
  /** For each null metric: the value it had. */
  nonFinite?: Record<string, "NaN" | "Infinity" | "-Infinity">;
  /** Training seconds of this epoch (evaluation excluded). */
  seconds: number;
  /** Evaluation seconds after this epoch. */
  evalSeconds: number;
}

/** The MLPerf-style event keys. */
export type EventKey =
  | "init_start"
  | "init_stop"
  | "run_start"
  | "epoch_start"
  | "epoch_stop"
  | "eval_accuracy"
  | "run_stop";

/** One logged event of a run. */
export interface RunEvent {
  /** Unix milliseconds. */
  time: number;
  /** What happened. */
  key: EventKey;
  /** The epoch it belongs to. */
  epoch?: number;
  /** Its value (a metric, or "success" / "diverged"). */
  value?: number | string;
}

/** How a classifier output's test predictions spread over its classes (see TestPredictionsSchema). */
export interface TestPredictions {
  /** The output's name ("" for a protocol's one unnamed output). */
  output: string;
  /** The classes it can predict. */
  classes: number;
  /** The classes it predicted at least once. */
  distinct: number;
  /** The class it predicted most often. */
  top: number;
  /** The share of the test samples predicted as `top`. */
  topShare: number;
}

/** One protocol trained with one seed (see RunSchema for each field's meaning). */
export interface Run {
  /** The protocol's id. */
  protocol: string;
  /** The seed. */
  seed: number;
  /** The model's parameter count. */
  params: number;
  /** Epochs the run was to train. */
  epochsPlanned: number;
  /** The evaluated epochs. */
  epochs: Epoch[];
  /** The epoch whose weights the run ends with. */
  finalEpoch: number | null;
  /** Set when early stopping ended the run. */
  earlyStop: { epoch: number; bestEpoch: number; monitor: string; restored: boolean } | null;
  /** Warm-up seconds, timed apart. */
  warmupSeconds: number;
  /** Training seconds. */
  trainSeconds: number;
  /** Training samples per second. */
  samplesPerSecond: number;
  /** Where a metric became non-finite, if one did. */
  diverged: { epoch: number; metric: string } | null;
  /** The run's events. */
  events: RunEvent[];
  /** Data for the charts. */
  artifacts?: Record<string, unknown>;
  /** Per classifier output: how the final model's test predictions spread over the classes. */
  testPredictions?: TestPredictions[];
  /** How this run departed from its protocol as written. */
  notes?: string[];
  /** The optimizer of a layers run exactly as it ran. */
  optimizer?: OptimizerRun;
  /** The input scaling of a layers run that standardised its inputs, as it ran. */
  scaling?: ScalingRun | PixelScalingRun;
  /** Per trained epoch of a layers run, the learning rate of its first and last step. */
  learningRates?: LearningRateRecord[];
}

/** The learning rate of one epoch's first and last step (see LearningRateRecordSchema). */
export interface LearningRateRecord {
  /** The epoch, from 1. */
  epoch: number;
  /** The learning rate of its first step. */
  first: number;
  /** The learning rate of its last step. */
  last: number;
}

/** The verdicts claimcheck can give (rules in verdict.ts and the README). */
export type Verdict =
  | "reproduced"
  | "reproduced (better)"
  | "not reproduced"
  | "inconclusive"
  | "fails as claimed"
  | "diverged";

/** A claim beside what the rerun measured (see ClaimResultSchema for each field's meaning). */
export interface ClaimResult {
  /** The claim's id. */
  id: string;
  /** The source's id. */
  source: string;
  /** The claim in words. */
  statement: string;
  /** The protocol it was judged on. */
  protocol: string;
  /** The metric it names. */
  metric: Metric;
  /** Which side of the metric is better. */
  better: Better;
  /** The epoch it was read at; null for the final model. */
  epoch: number | null;
  /** The claimed value. */
  claimed: number;
  /** The comparison. */
  compare: Compare;
  /** The tolerance. */
  epsilon: number;
  /** The seeds measured. */
  seeds: number[];
  /** One value per seed; null where not finite. */
  values: (number | null)[];
  /** The mean over seeds; null if a run diverged. */
  mean: number | null;
  /** Statistics over seeds; null if a run diverged. */
  stats: Summary | null;
  /** The verdict. */
  verdict: Verdict;
  /** Why: n, mean, interval, claimed value and ε. */
  evidence: string;
  /** Time to accuracy; null for claims without a target. */
  timeToTarget: {
    target: number;
    perSeed: { seed: number; seconds: number | null; epochs: number | null }[];
    olympicSeconds: number | null;
  } | null;
  /** Shown beside the verdict, e.g. "degenerate: every test output is class 3". */
  note?: string;
}

/** Where a dataset's bytes came from: its manifest name and each file's SHA-256. */
export interface DatasetProvenance {
  /** The manifest's name. */
  name: string;
  /** Each file and its SHA-256. */
  files: { file: string; sha256: string }[];
}

/** A whole results.json (see ResultsSchema for each field's meaning). */
export interface Results {
  /** The results format version. */
  schema: typeof RESULTS_SCHEMA;
  /** The replication's name. */
  replication: string;
  /** Its title. */
  title: string;
  /** The spec's format version and SHA-256. */
  spec: { version: number; sha256: string };
  /** The SHA-256 of the code the runs executed and the files it covers (see codeHash). */
  code?: { sha256: string; files: string[] };
  /** When the results were written (ISO 8601). */
  createdAt: string;
  /** The command line. */
  command: string;
  /** The git commit, where known. */
  gitCommit: string | null;
  /** Deno, V8 and TensorFlow.js versions. */
  versions: { deno: string; v8: string; tfjs: string };
  /** The backend and adapter. */
  backend: {
    name: "webgpu" | "wasm" | "cpu";
    adapter: string | null;
    fallbackAdapter: boolean | null;
    note: string | null;
  };
  /** Backend start-up and data loading seconds. */
  setupSeconds: number;
  /** Every dataset the rerun used. */
  datasets: DatasetProvenance[];
  /** The whole (protocol × seed) grid asked for. */
  grid: { protocol: string; seed: number }[];
  /** Set on one shard's results. */
  shard: { index: number; count: number } | null;
  /** Every way the rerun departs from the spec's protocols. */
  deviations: string[];
  /** The runs. */
  runs: Run[];
  /** The claims beside their reruns. */
  claims: ClaimResult[];
  /** Why the commit is unknown, when git failed. */
  gitError?: string;
  /** The variant (e.g. `epochs-1`) of results that change what is trained. */
  variant?: string;
  /** Set when a signal stopped the rerun. */
  interrupted?: { signal: string; unfinished: { protocol: string; seed: number }[] };
  /** Cells whose rerun under the same key gave other numbers than the stored run. */
  rerunsDiffer?: { protocol: string; seed: number; fields: string[]; kept: string }[];
  /** Runs that failed with an error. */
  failures?: { protocol: string; seed: number; error: string }[];
}

// The public types above are the schemas' output types: a change to one that is not made to
// the other fails type checking here.
const _sameAsSchemas: [
  SameType<Epoch, z.infer<typeof EpochSchema>>,
  SameType<RunEvent, z.infer<typeof _EventSchema>>,
  SameType<TestPredictions, z.infer<typeof TestPredictionsSchema>>,
  SameType<LearningRateRecord, z.infer<typeof LearningRateRecordSchema>>,
  SameType<Run, z.infer<typeof RunSchema>>,
  SameType<Verdict, z.infer<typeof _VerdictSchema>>,
  SameType<ClaimResult, z.infer<typeof ClaimResultSchema>>,
  SameType<DatasetProvenance, z.infer<typeof _DatasetProvenanceSchema>>,
  SameType<Results, z.infer<typeof ResultsSchema>>,
] = [true, true, true, true, true, true, true, true, true];

/**
 * Parses results.json text. A file from an older claimcheck (another `schema`) is rejected
 * with a message that says to rerun; anything else malformed names the field.
 */
export function parseResults(text: string, file: string): Results {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new SpecError(file, [`cannot read as JSON: ${(e as Error).message}`]);
  }
  const schema = (data as { schema?: unknown } | null)?.schema;
  if (schema !== RESULTS_SCHEMA) {
    const name = (data as { replication?: unknown } | null)?.replication;
    throw new SpecError(file, [
      `schema: ${JSON.stringify(schema)} is not ${RESULTS_SCHEMA}: this file was written by ` +
      `another version of claimcheck; rerun \`deno task replicate ${
        typeof name === "string" ? name : "<name>"
      }\` to rewrite it`,
    ]);
  }
  return validate(ResultsSchema, data, file);
}

/** Reads and validates a results.json. */
export async function loadResults(file: string): Promise<Results> {
  return parseResults(await Deno.readTextFile(file), file);
}

/**
 * The runs' departures from their protocols (their `notes`), once per protocol, as deviations
 * ("big-batch: batchSize 100000 is more than …"): a rerun lists them, and a page shows them also
 * for runs merged in from earlier reruns.
 */
export function runDeviations(runs: Run[]): string[] {
  return [...new Set(runs.flatMap((r) => (r.notes ?? []).map((n) => `${r.protocol}: ${n}`)))];
}

/** The value of `metric` in an epoch record as a number: NaN or ±Infinity where stored as null. */
export function epochValue(e: Epoch, metric: string): number | undefined {
  if (!(metric in e.metrics)) return undefined;
  const v = e.metrics[metric];
  if (v !== null) return v;
  const why = e.nonFinite?.[metric];
  return why === "Infinity" ? Infinity : why === "-Infinity" ? -Infinity : NaN;
}

/**
 * An epoch record from raw metrics: non-finite values become null with the reason kept, so a
 * diverged run still serialises as valid JSON.
 */
export function epochRecord(
  epoch: number,
  metrics: Record<string, number>,
  seconds: number,
  evalSeconds: number,
): Epoch {
  const stored: Record<string, number | null> = {};
  const nonFinite: Record<string, "NaN" | "Infinity" | "-Infinity"> = {};
  for (const [k, v] of Object.entries(metrics)) {
    if (Number.isFinite(v)) stored[k] = v;
    else {
      stored[k] = null;
      nonFinite[k] = String(v) as "NaN" | "Infinity" | "-Infinity";
    }
  }
  return {
    epoch,
    metrics: stored,
    ...(Object.keys(nonFinite).length ? { nonFinite } : {}),
    seconds,
    evalSeconds,
  };
}
