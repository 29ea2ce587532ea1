/**
 * The replication spec: sources, protocols and claims of one folder under replications/,
 * validated with zod so that a typo names its file and field instead of failing mid-run.
 *
 * A spec is data. The common protocol shapes (a tfjs-layers model trained on a dataset's
 * images, with class labels, the input itself or a replication's function as targets, one or
 * several outputs, validation data held out, early stopping, a frozen model from an earlier
 * stage) are declared here; only what is truly a replication's own (its models, derived
 * datasets, target functions, a from-scratch trainer) is code in its model.ts.
 * @module
 */
import { z } from "zod";
import type { SameType } from "../util/same_type.ts";
import { closest, unknownKeysMessage } from "./_did_you_mean.ts";
import { type Augmentation, AugmentationSchema } from "./augmentation.ts";
import { type Scaling, ScalingSchema } from "./scaling.ts";
import {
  KerasVersionSchema,
  type Optimizer,
  optimizerIssues,
  OptimizerSchema,
  withKerasDefaults,
} from "./optimizers.ts";
import {
  type LearningRateSchedule,
  LearningRateScheduleSchema,
  LearningRateTableSchema,
  type ReduceLROnPlateau,
  ReduceLROnPlateauSchema,
  scheduledLearningRate,
  scheduleIssues,
} from "./schedules.ts";

export type { Optimizer, OptimizerName } from "./optimizers.ts";
export type { Augmentation } from "./augmentation.ts";
export type { Scaling } from "./scaling.ts";

/** The spec format this harness reads; recorded in every results.json. */
export const SPEC_VERSION = 2;

const _ID = /^[a-z0-9][a-z0-9.-]*$/;

/** A source document: a seed file in ../shared/seeds, a URL, or both. */
const _SourceSchema = z.strictObject({
  id: z.string().regex(_ID, "a short id such as 002"),
  file: z.string().regex(
    /^\d{3}_[0-9a-f]{16}\.txt$/,
    "a seed file name such as 002_5dcc19fec036a721.txt",
  ).optional(),
  url: z.url().optional(),
  title: z.string().min(1),
}).refine((s) => s.file !== undefined || s.url !== undefined, {
  message: "give the source's seed file, its url, or both",
});

/**
 * The losses the harness trains with, by their Keras names: cross-entropy on one-hot targets
 * (`categoricalCrossentropy`), on integer class targets (`sparseCategoricalCrossentropy`) and on
 * 0/1 targets (`binaryCrossentropy`), and the mean squared and mean absolute error.
 */
export const LossSchema = z.enum([
  "categoricalCrossentropy",
  "sparseCategoricalCrossentropy",
  "binaryCrossentropy",
  "meanSquaredError",
  "meanAbsoluteError",
]);

const _NAMED_METRICS = [
  "accuracy",
  "binaryAccuracy",
  "categoricalAccuracy",
  "sparseCategoricalAccuracy",
  "meanAbsoluteError",
  "meanSquaredError",
] as const;

/**
 * Keras' top-k accuracy: whether the target class is among the k highest outputs, on one-hot
 * targets (`topKCategoricalAccuracy`) or integer ones (`sparseTopKCategoricalAccuracy`).
 */
export const TopKMetricSchema = z.strictObject({
  name: z.enum(["topKCategoricalAccuracy", "sparseTopKCategoricalAccuracy"]),
  k: z.number().int().positive(),
});

/**
 * Metrics computed per output besides its loss: `accuracy` is Keras' "acc" (categorical, sparse
 * categorical or binary, chosen by the output's loss, as Keras does); the next three name the
 * kind outright; `meanAbsoluteError` (`mae`) is the mean |target − output| (e.g. per pixel of a
 * reconstruction), `meanSquaredError` (`mse`) the mean squared difference; `{"name":
 * "topKCategoricalAccuracy", "k": 5}` is top-k accuracy.
 */
export const OutputMetricSchema = z.union([z.enum(_NAMED_METRICS), TopKMetricSchema], {
  error: (issue) => issue.code === "invalid_union" ? _metricMessage(issue.input) : undefined,
});

/**
 * Why `input` is no metric: a top-k metric's own problems (an unknown key with the closest
 * allowed one), a name with the closest known one, or what a metric may be.
 */
function _metricMessage(input: unknown): string {
  const topK = input && typeof input === "object" ? TopKMetricSchema.safeParse(input) : undefined;
  if (topK?.error) {
    return topK.error.issues.map((i) =>
      (i.path.length ? `${i.path.join(".")}: ` : "") +
      (i.code === "unrecognized_keys"
        ? unknownKeysMessage(TopKMetricSchema, input, i.path, i.keys)
        : i.message)
    ).join("; ");
  }
  if (TopKMetricSchema.shape.name.safeParse(input).success) {
    return `${input} needs its k, as Keras' k=: {"name": "${input}", "k": 5}`;
  }
  const hint = typeof input === "string" ? closest(input, _NAMED_METRICS) : undefined;
  return (hint ? `unknown metric "${input}" (did you mean "${hint}"?); ` : "") +
    `a metric is one of ${_NAMED_METRICS.join(", ")}, or {"name": "topKCategoricalAccuracy" ` +
    'or "sparseTopKCategoricalAccuracy", "k": 5}';
}

/** Keras' label_smoothing of a cross-entropy: targets y·(1 − s) + s/K (s/2 for binary). */
const _labelSmoothing = z.number().min(0).max(1).optional();

/** One output of a model: its name (as claims cite it), loss and metrics. */
const _OutputSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, "a name such as sum_units"),
  loss: LossSchema,
  labelSmoothing: _labelSmoothing,
  metrics: z.array(OutputMetricSchema).default([]),
});

/** Which side of a metric is better: decides `reproduced (better)` and time to accuracy. */
export const BetterSchema = z.enum(["higher", "lower", "neither"]);

/** A metric a custom trainer records, declared so claims can cite it. */
const _MetricDeclSchema = z.strictObject({
  better: BetterSchema,
  description: z.string().min(1).optional(),
});

/**
 * A metric computed from two others each epoch: `ratio` a / b or `difference` a − b, e.g. a
 * test/train loss ratio for a claim that the two are close.
 */
const _DerivedMetricSchema = z.strictObject({
  of: z.tuple([z.string(), z.string()]),
  op: z.enum(["ratio", "difference"]),
  better: BetterSchema,
});

/** Keras' EarlyStopping, as a protocol option. */
const _EarlyStoppingSchema = z.strictObject({
  /** A metric the protocol records each epoch, e.g. `val_loss`. */
  monitor: z.string(),
  /** Epochs without improvement before stopping. */
  patience: z.number().int().min(0),
  /** Smallest change that counts as an improvement. */
  minDelta: z.number().min(0).default(0),
  /** Keras' restore_best_weights: on an early stop, go back to the best epoch's weights. */
  restoreBestWeights: z.boolean().default(false),
});

const _protocolBase = {
  id: z.string().regex(_ID, "lowercase letters, digits, '.' and '-'"),
  source: z.string(),
  description: z.string().min(1),
  /** Training length: epochs, or full-batch iterations for a custom trainer. */
  epochs: z.number().int().positive(),
  /** Exploratory protocols (sweeps, diagnostics) run only when named with --protocols. */
  exploratory: z.boolean().default(false),
  /**
   * The protocol an exploratory one is a variant of, for `deno task explain` (which ranks the
   * variants of a protocol by how well they reproduce its claims); default: the one it extends.
   */
  explains: z.string().optional(),
  /** A dataset manifest name (data/<name>.json). */
  dataset: z.string().regex(/^[a-z0-9-]+$/),
  /**
   * Protocols of this replication whose trained model (same seed) this one uses, e.g. a
   * frozen encoder. Each is trained once per seed, before this one, and handed to the model
   * builder and derived datasets.
   */
  uses: z.array(z.string()).default([]),
};

/** A tfjs-layers model trained by the harness: what a source says was run, or a variant. */
export const LayersProtocolSchema = z.strictObject({
  ..._protocolBase,
  kind: z.literal("layers").default("layers"),
  /** Name of a model builder exported in `models` by the replication's model.ts. */
  model: z.string().min(1),
  /**
   * How raw pixels 0..255 become inputs: divided, then standardised with a fixed or the
   * training set's mean and std (see ScalingSchema). Default: divided by 255.
   */
  scaling: ScalingSchema.optional(),
  /** The older form of `scaling: {"divide": d}`: raw pixel values 0..255 are divided by this. */
  pixelDivisor: z.number().positive().optional(),
  /**
   * Keras ImageDataGenerator's random transforms of each training image, per batch (see
   * AugmentationSchema); validation and test images are never augmented.
   */
  augmentation: AugmentationSchema.optional(),
  /**
   * `images`: the dataset's images in the shape the model declares; `{derived}`: a dataset
   * the replication builds (`datasets` in model.ts), e.g. pairs of images or frozen codes.
   */
  inputs: z.union([
    z.literal("images"),
    z.strictObject({
      derived: z.string().min(1),
      params: z.record(z.string(), z.unknown()).default({}),
    }),
  ]).default("images"),
  /**
   * `labels`: one-hot class labels (`classes` of them); `input`: the input itself
   * (reconstruction); `{function}`: a target function the replication exports (`targets`).
   */
  targets: z.union([
    z.literal("labels"),
    z.literal("input"),
    z.strictObject({ function: z.string().min(1) }),
  ]).default("labels"),
  classes: z.number().int().min(2).default(10),
  /** The model's outputs; one unnamed output is written as `loss` (and `metrics`) instead. */
  outputs: z.array(_OutputSchema).min(1).optional(),
  loss: LossSchema.optional(),
  /** Keras' label_smoothing of the one output's cross-entropy (named outputs give their own). */
  labelSmoothing: _labelSmoothing,
  metrics: z.array(OutputMetricSchema).optional(),
  /**
   * Keras' optimizers, with the defaults and update rule of the Keras version `keras` names
   * (see optimizers.ts); parsed, it holds every argument that version takes.
   */
  optimizer: OptimizerSchema,
  /** The Keras version the source ran, e.g. "2.2.4"; default: Keras 3. */
  keras: KerasVersionSchema.optional(),
  /**
   * A per-step schedule given as the optimizer's learning rate (see schedules.ts); parsed, the
   * optimizer's learningRate is its value at step 0.
   */
  learningRateSchedule: LearningRateScheduleSchema.optional(),
  /** Keras' LearningRateScheduler as a table of epochs and learning rates (see schedules.ts). */
  learningRateScheduler: LearningRateTableSchema.optional(),
  /** Keras' ReduceLROnPlateau. */
  reduceLROnPlateau: ReduceLROnPlateauSchema.optional(),
  batchSize: z.number().int().positive(),
  /** Keras' validation_split: the last fraction of the training set, held out (not shuffled in). */
  validationSplit: z.number().gt(0).lt(1).optional(),
  /**
   * The first N training images held out as validation data, as a notebook's `X_valid, X_train
   * = X_train_full[:N], X_train_full[N:]` passed to fit's `validation_data`: the model trains on
   * the rest, and a standardisation's statistics come from the rest alone.
   */
  validationFirst: z.number().int().positive().optional(),
  earlyStopping: _EarlyStoppingSchema.optional(),
  /** Metrics computed from the recorded ones each epoch, by name (see _DerivedMetricSchema). */
  derivedMetrics: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), _DerivedMetricSchema).default({}),
  /**
   * What to keep from the final model for the report: `confusion` (test confusion matrix) and
   * `misclassified` (up to 36 misclassified test images with true and predicted class).
   */
  record: z.array(z.enum(["confusion", "misclassified"])).default([]),
}).superRefine((p, ctx) => {
  if ((p.outputs === undefined) === (p.loss === undefined)) {
    ctx.addIssue({
      code: "custom",
      path: ["loss"],
      message: "give either `loss` (one output) or `outputs` (named outputs), not both or none",
    });
  }
  for (const key of ["metrics", "labelSmoothing"] as const) {
    if (p.outputs && p[key] !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: [key],
        message: `with \`outputs\`, give each output's ${key} there`,
      });
    }
  }
  const outputs = p.outputs?.map((o, i) => ({ o, at: ["outputs", i] })) ??
    (p.loss ? [{ o: { ...p, loss: p.loss, metrics: p.metrics }, at: [] }] : []);
  for (const { o, at } of outputs) {
    for (const [path, message] of _lossIssues(o, p.targets)) {
      ctx.addIssue({ code: "custom", path: [...at, ...path], message });
    }
  }
  if (p.record.length && p.targets !== "labels") {
    ctx.addIssue({
      code: "custom",
      path: ["record"],
      message: "confusion and misclassified need class labels as targets",
    });
  }
  for (const { path, message } of optimizerIssues(p.optimizer, p.keras)) {
    ctx.addIssue({ code: "custom", path, message });
  }
  for (const [path, message] of scheduleIssues(p)) ctx.addIssue({ code: "custom", path, message });
  if (p.scaling && p.pixelDivisor !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["pixelDivisor"],
      message: `give \`scaling\` or \`pixelDivisor\`, not both (\`"pixelDivisor": ` +
        `${p.pixelDivisor}\` is \`"scaling": {"divide": ${p.pixelDivisor}}\`)`,
    });
  }
  if (p.augmentation && p.inputs !== "images") {
    ctx.addIssue({
      code: "custom",
      path: ["augmentation"],
      message: 'augmentation transforms the dataset\'s images: it needs `inputs: "images"`',
    });
  }
  if (p.validationFirst !== undefined && p.validationSplit !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["validationFirst"],
      message: "give one of `validationFirst` (the first N training images) and " +
        "`validationSplit` (Keras' last fraction), not both",
    });
  }
  if (p.validationFirst !== undefined && p.inputs !== "images") {
    ctx.addIssue({
      code: "custom",
      path: ["validationFirst"],
      message: 'validationFirst holds out the dataset\'s first images: it needs `inputs: "images"`',
    });
  }
  if (p.augmentation && p.validationSplit !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["validationSplit"],
      message: "Keras' fit takes no validation_split with an ImageDataGenerator: drop it (the " +
        "test set is evaluated every epoch), or drop the augmentation",
    });
  }
}).transform(({ pixelDivisor, scaling, ...p }) => {
  const optimizer = withKerasDefaults(p.optimizer, p.keras);
  // A schedule is the optimizer's learning rate: its step-0 value is where training starts.
  if (p.learningRateSchedule) {
    optimizer.learningRate = scheduledLearningRate(p.learningRateSchedule, 0);
  }
  return { ...p, scaling: scaling ?? { divide: pixelDivisor ?? 255 }, optimizer };
});

/** Losses whose targets are classes (one-hot, integer or 0/1) and that take label smoothing. */
const _CROSS_ENTROPIES: readonly LossName[] = ["categoricalCrossentropy", "binaryCrossentropy"];

/**
 * The problems of one output's loss and metrics together, as `[path, message]`: label smoothing
 * on a loss without it, a metric that reads one-hot targets on integer ones or the reverse, an
 * `accuracy` Keras would have to guess, integer targets that are images.
 */
function _lossIssues(
  o: { loss: LossName; labelSmoothing?: number; metrics?: OutputMetric[] },
  targets: "labels" | "input" | { function: string },
): [PropertyKey[], string][] {
  const issues: [PropertyKey[], string][] = [];
  const sparse = o.loss === "sparseCategoricalCrossentropy";
  if (o.labelSmoothing !== undefined && !_CROSS_ENTROPIES.includes(o.loss)) {
    issues.push([
      ["labelSmoothing"],
      `${o.loss} takes no label smoothing (Keras' label_smoothing is categorical and binary ` +
      "cross-entropy's)",
    ]);
  }
  if (sparse && targets === "input") {
    issues.push([["loss"], "sparseCategoricalCrossentropy needs class targets, not the input"]);
  }
  (o.metrics ?? []).forEach((m, i) => {
    const name = typeof m === "string" ? m : m.name;
    const needsSparse = name === "sparseCategoricalAccuracy" ||
      name === "sparseTopKCategoricalAccuracy";
    const oneHot = name === "categoricalAccuracy" || name === "topKCategoricalAccuracy";
    if (needsSparse && !sparse) {
      issues.push([
        ["metrics", i],
        `${name} reads integer class targets, which only sparseCategoricalCrossentropy is ` +
        `trained on (this output's loss is ${o.loss})`,
      ]);
    } else if (oneHot && sparse) {
      issues.push([
        ["metrics", i],
        `${name} reads one-hot targets; with sparseCategoricalCrossentropy use ` +
        (name === "topKCategoricalAccuracy"
          ? "sparseTopKCategoricalAccuracy"
          : "sparseCategoricalAccuracy or accuracy"),
      ]);
    } else if (name === "accuracy" && !_isClassifierLoss(o.loss)) {
      issues.push([
        ["metrics", i],
        `accuracy with ${o.loss}: Keras picks its kind by the output's shape; name it ` +
        "(binaryAccuracy or categoricalAccuracy)",
      ]);
    }
  });
  return issues;
}

/** Whether `loss` trains a classifier, whose `accuracy` the loss decides. */
function _isClassifierLoss(loss: LossName): boolean {
  return loss !== "meanSquaredError" && loss !== "meanAbsoluteError";
}

/**
 * An algorithm the replication implements itself (e.g. a from-scratch network): the harness
 * loads the data, times the run and logs its events; the trainer does the rest.
 */
export const CustomProtocolSchema = z.strictObject({
  ..._protocolBase,
  kind: z.literal("custom"),
  /** Name of a trainer exported in `trainers` by the replication's model.ts. */
  trainer: z.string().min(1),
  /** Trainer-specific settings, validated by the trainer. */
  params: z.record(z.string(), z.unknown()).default({}),
});

/** One training protocol. */
const _ProtocolSchema = z.discriminatedUnion("kind", [
  LayersProtocolSchema,
  CustomProtocolSchema,
]);

/** How a reproduced value is compared with the claimed one. */
export const CompareSchema = z.enum(["approx", "atLeast", "atMost", "fails"]);

/**
 * A metric a claim names: `params`, or one a protocol records per epoch, e.g. `test_acc`,
 * `val_loss`, or `test_acc.sum_units` for one output of a model with named outputs.
 */
export const MetricSchema = z.string().regex(
  /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$/,
  "a metric name such as test_acc or test_acc.sum_units",
);

const _claimBase = {
  id: z.string().regex(_ID),
  source: z.string(),
  /** Short reference to where the source states it, e.g. "model.evaluate output". */
  where: z.string().min(1),
  statement: z.string().min(1),
  protocol: z.string(),
  metric: MetricSchema,
  compare: CompareSchema,
  epsilon: z.number().min(0),
  /**
   * For `approx`: a value beyond ε on the "better" side also fails. Set for exact counts and
   * for points of a logged curve, where a higher value means a different protocol, not a win.
   */
  twoSided: z.boolean().default(false),
};

/** A claim restated as a number with its tolerance, read at one epoch (default: the final model). */
export const ClaimSchema = z.strictObject({
  ..._claimBase,
  epoch: z.number().int().positive().optional(),
  claimed: z.number(),
  /**
   * The source's main number (its stated protocol's final test accuracy, say): the scoreboard
   * leads with headline claims and folds the rest. Not on curves: a headline is one number.
   */
  headline: z.boolean().default(false),
});

/**
 * A logged curve as one claim: `{epoch: value}` points, each judged as a claim of its own with
 * the id `<id>-epoch-<epoch>`.
 */
export const CurveClaimSchema = z.strictObject({
  ..._claimBase,
  curve: z.record(z.string().regex(/^[1-9]\d*$/, "an epoch number"), z.number()),
});

/** The accuracy gate `deno test` runs for this replication. */
const _GateSchema = z.strictObject({
  claim: z.string(),
  seeds: z.array(z.number().int()).min(1),
  /** The asserted bound on the claim's metric (≥ where higher is better, else ≤). */
  threshold: z.number(),
  /** Budget: train this many epochs instead of the protocol's (the claim is then read there). */
  epochs: z.number().int().positive().optional(),
  /**
   * Budget: train on the first this many training images only (the test set stays whole), for
   * a model whose one epoch takes minutes on a CPU.
   */
  trainImages: z.number().int().positive().optional(),
  why: z.string().min(1),
});

/** A whole replication spec (spec.json), as written (before curves are expanded). */
export const SpecFileSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(SPEC_VERSION, {
    error: `"version": ${SPEC_VERSION} (the spec format this claimcheck reads)`,
  }),
  name: z.string().regex(/^[a-z0-9-]+$/),
  title: z.string().min(1),
  sources: z.array(_SourceSchema).min(1),
  /** Metrics custom trainers record, with which side is better. */
  metrics: z.record(MetricSchema, _MetricDeclSchema).default({}),
  protocols: z.array(_ProtocolSchema).min(1),
  /** Claims (ClaimSchema, or CurveClaimSchema when they have a `curve`), checked one by one. */
  claims: z.array(z.record(z.string(), z.unknown())).min(1),
  /** Seeds a rerun uses unless --seeds says otherwise: 5 where a seed takes minutes, else ≥ 3. */
  defaultSeeds: z.number().int().min(1),
  gates: z.array(_GateSchema).default([]),
});

/** A source document: a seed file in ../shared/seeds, a URL, or both. */
export interface Source {
  /** Short id protocols and claims cite, e.g. "002". */
  id: string;
  /** Seed file name, e.g. 002_5dcc19fec036a721.txt. */
  file?: string;
  /** Where the document is published. */
  url?: string;
  /** What the document is. */
  title: string;
}

/** The losses the harness trains with, by their Keras names (see LossSchema). */
export type LossName =
  | "categoricalCrossentropy"
  | "sparseCategoricalCrossentropy"
  | "binaryCrossentropy"
  | "meanSquaredError"
  | "meanAbsoluteError";

/** Keras' top-k accuracy, on one-hot or integer targets (see TopKMetricSchema). */
export interface TopKMetric {
  /** Which targets it reads: one-hot (`topK…`) or integer (`sparseTopK…`). */
  name: "topKCategoricalAccuracy" | "sparseTopKCategoricalAccuracy";
  /** How many of the highest outputs may hold the target class. */
  k: number;
}

/** Metrics computed per output besides its loss (see OutputMetricSchema). */
export type OutputMetric =
  | "accuracy"
  | "binaryAccuracy"
  | "categoricalAccuracy"
  | "sparseCategoricalAccuracy"
  | "meanAbsoluteError"
  | "meanSquaredError"
  | TopKMetric;

/** One output of a model: its name (as claims cite it), loss and metrics. */
export interface Output {
  /** The output's name in metric names, e.g. sum_units; "" for a model's one unnamed output. */
  name: string;
  /** Its loss; several outputs' losses are summed. */
  loss: LossName;
  /** Keras' label_smoothing of its cross-entropy, where given. */
  labelSmoothing?: number;
  /** Its metrics besides the loss. */
  metrics: OutputMetric[];
}

/** Which side of a metric is better: decides `reproduced (better)` and time to accuracy. */
export type Better = "higher" | "lower" | "neither";

/** Keras' EarlyStopping, as a protocol option. */
export interface EarlyStopping {
  /** A metric the protocol records each epoch, e.g. val_loss. */
  monitor: string;
  /** Epochs without improvement before stopping. */
  patience: number;
  /** Smallest change that counts as an improvement. */
  minDelta: number;
  /** Keras' restore_best_weights: on an early stop, go back to the best epoch's weights. */
  restoreBestWeights: boolean;
}

/** A metric computed from two recorded ones each epoch. */
export interface DerivedMetric {
  /** The two metrics, a and b. */
  of: [string, string];
  /** a / b or a − b. */
  op: "ratio" | "difference";
  /** Which side of it is better. */
  better: Better;
}

/** What every protocol has. */
export interface ProtocolBase {
  /** Its id, cited by claims and --protocols. */
  id: string;
  /** The id of the source it comes from. */
  source: string;
  /** What it runs, in words (shown on the report). */
  description: string;
  /** Training length: epochs, or full-batch iterations for a custom trainer. */
  epochs: number;
  /** Exploratory protocols (sweeps, diagnostics) run only when named with --protocols. */
  exploratory: boolean;
  /** The protocol this one is a variant of (`deno task explain`), where it is one. */
  explains?: string;
  /** A dataset manifest name (data/<name>.json). */
  dataset: string;
  /** Earlier protocols whose trained model (same seed) this one uses. */
  uses: string[];
}

/** A tfjs-layers model trained by the harness (fields as in LayersProtocolSchema). */
export interface LayersProtocol extends ProtocolBase {
  /** Always "layers". */
  kind: "layers";
  /** Name of a model builder exported in `models` by the replication's model.ts. */
  model: string;
  /** How raw pixels 0..255 become inputs (a spec's `pixelDivisor` d is `{divide: d}`). */
  scaling: Scaling;
  /** Keras ImageDataGenerator's random transforms of the training images, if any. */
  augmentation?: Augmentation;
  /** The dataset's images, or a derived dataset the replication builds. */
  inputs: "images" | { derived: string; params: Record<string, unknown> };
  /** Class labels, the input itself, or a target function the replication exports. */
  targets: "labels" | "input" | { function: string };
  /** How many classes labels are one-hot encoded into. */
  classes: number;
  /** Named outputs; absent for one unnamed output given by `loss`. */
  outputs?: Output[];
  /** The loss of a model with one unnamed output. */
  loss?: LossName;
  /** Keras' label_smoothing of the one unnamed output's cross-entropy. */
  labelSmoothing?: number;
  /** The metrics of a model with one unnamed output (default: accuracy for a classifier). */
  metrics?: OutputMetric[];
  /** The optimizer, with the defaults of its Keras version filled in. */
  optimizer: Optimizer;
  /** The Keras version the source ran (its optimizers' defaults and rules); absent: Keras 3. */
  keras?: string;
  /** A per-step schedule given as the optimizer's learning rate. */
  learningRateSchedule?: LearningRateSchedule;
  /** Keras' LearningRateScheduler: the learning rate from each listed epoch on. */
  learningRateScheduler?: Record<string, number>;
  /** Keras' ReduceLROnPlateau. */
  reduceLROnPlateau?: ReduceLROnPlateau;
  /** Batch size. */
  batchSize: number;
  /** Keras' validation_split. */
  validationSplit?: number;
  /** The first N training images, held out as validation data (`validation_data`). */
  validationFirst?: number;
  /** Keras' EarlyStopping. */
  earlyStopping?: EarlyStopping;
  /** Metrics computed from the recorded ones each epoch. */
  derivedMetrics: Record<string, DerivedMetric>;
  /** What to keep from the final model for the report. */
  record: ("confusion" | "misclassified")[];
}

/** An algorithm the replication implements itself (fields as in CustomProtocolSchema). */
export interface CustomProtocol extends ProtocolBase {
  /** Always "custom". */
  kind: "custom";
  /** Name of a trainer exported in `trainers` by the replication's model.ts. */
  trainer: string;
  /** Trainer-specific settings, validated by the trainer. */
  params: Record<string, unknown>;
}

/** One training protocol, layers or custom. */
export type Protocol = LayersProtocol | CustomProtocol;

/** How a reproduced value is compared with the claimed one. */
export type Compare = "approx" | "atLeast" | "atMost" | "fails";

/** A metric name, e.g. test_acc or test_acc.sum_units. */
export type Metric = string;

/** A claim restated as a number with its tolerance (fields as in ClaimSchema). */
export interface Claim {
  /** Its id. */
  id: string;
  /** The id of the source that states it. */
  source: string;
  /** Where the source states it. */
  where: string;
  /** The claim in words. */
  statement: string;
  /** The protocol it is judged on. */
  protocol: string;
  /** The metric it names. */
  metric: Metric;
  /** How the reproduced value is compared with the claimed one. */
  compare: Compare;
  /** The tolerance. */
  epsilon: number;
  /** For approx: a value beyond ε on the better side also fails. */
  twoSided: boolean;
  /** The epoch it is read at; absent: the run's final model. */
  epoch?: number;
  /** The claimed value. */
  claimed: number;
  /** The source's main number: the scoreboard leads with it and folds the other claims. */
  headline: boolean;
  /** The id of the logged curve this claim is a point of, where it is one. */
  curve?: string;
}

/** The accuracy gate `deno test` runs for a claim. */
export interface Gate {
  /** The claim's id. */
  claim: string;
  /** Seeds to rerun. */
  seeds: number[];
  /** The asserted bound on the claim's metric. */
  threshold: number;
  /** Budget: train this many epochs instead of the protocol's. */
  epochs?: number;
  /** Budget: train on the first this many training images only. */
  trainImages?: number;
  /** How the threshold was derived. */
  why: string;
}

/** A loaded spec: curves expanded into one claim per point, every claim's direction known. */
export interface ReplicationSpec {
  /** The spec format version. */
  version: typeof SPEC_VERSION;
  /** The replication's name (its folder). */
  name: string;
  /** Its title. */
  title: string;
  /** The source documents. */
  sources: Source[];
  /** Metrics custom trainers record, with which side is better. */
  metrics: Record<string, { better: Better; description?: string }>;
  /** The protocols. */
  protocols: Protocol[];
  /** The claims, each curve claim expanded into one claim per epoch (`<id>-epoch-<n>`). */
  claims: Claim[];
  /** Seeds a rerun uses unless --seeds says otherwise. */
  defaultSeeds: number;
  /** The accuracy gates. */
  gates: Gate[];
  /** SHA-256 of spec.json as read (recorded in results). */
  sha256: string;
}

// The public types above are the schemas' output types: a change to one that is not made to
// the other fails type checking here.
const _sameAsSchemas: [
  SameType<Source, z.infer<typeof _SourceSchema>>,
  SameType<Output, z.infer<typeof _OutputSchema>>,
  SameType<OutputMetric, z.infer<typeof OutputMetricSchema>>,
  SameType<Better, z.infer<typeof BetterSchema>>,
  SameType<EarlyStopping, z.infer<typeof _EarlyStoppingSchema>>,
  SameType<DerivedMetric, z.infer<typeof _DerivedMetricSchema>>,
  SameType<LayersProtocol, z.infer<typeof LayersProtocolSchema>>,
  SameType<CustomProtocol, z.infer<typeof CustomProtocolSchema>>,
  SameType<Protocol, z.infer<typeof _ProtocolSchema>>,
  // `curve` is set by the loader when it expands a logged curve into points, never written.
  SameType<Omit<Claim, "curve">, z.infer<typeof ClaimSchema>>,
  SameType<Gate, z.infer<typeof _GateSchema>>,
  SameType<
    Omit<ReplicationSpec, "claims" | "sha256">,
    Omit<z.infer<typeof SpecFileSchema>, "claims" | "$schema">
  >,
] = [true, true, true, true, true, true, true, true, true, true, true, true];

/** Thrown for a spec or results file that does not validate; names the file and field. */
export class SpecError extends Error {
  /**
   * Creates a SpecError.
   *
   * @param file the file at fault
   * @param issues one line per problem, naming the field
   */
  constructor(readonly file: string, readonly issues: string[]) {
    super(
      `${file} is not valid:\n${issues.map((i) => `  - ${i}`).join("\n")}\nFix the field(s) above.`,
    );
    this.name = "SpecError";
  }
}

/**
 * Validates `data` with `schema`: its value, or one line per problem naming the field (an
 * unknown key with the closest allowed one), each path prefixed with `at`.
 */
export function check<T extends z.ZodType>(
  schema: T,
  data: unknown,
  at: PropertyKey[] = [],
): { data: z.infer<T>; issues?: undefined } | { data?: undefined; issues: string[] } {
  const parsed = schema.safeParse(data);
  if (parsed.success) return { data: parsed.data };
  return {
    issues: parsed.error.issues.map((i) => {
      const where = [...at, ...i.path].join(".") || "(root)";
      const message = i.code === "unrecognized_keys"
        ? unknownKeysMessage(schema, data, i.path, i.keys)
        : i.message;
      return `${where}: ${message}`;
    }),
  };
}

/** Validates `data` with `schema`, turning zod issues into a SpecError that names `file`. */
export function validate<T extends z.ZodType>(schema: T, data: unknown, file: string): z.infer<T> {
  const r = check(schema, data);
  if (r.issues) throw new SpecError(file, r.issues);
  return r.data;
}
