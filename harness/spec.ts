/**
 * The replication spec: sources, protocols and claims of one folder under replications/,
 * validated with zod so that a typo names its file and field instead of failing mid-run.
 * @module
 */
import { z } from "zod";

/** A source document in ../shared/seeds, cited by file name. */
export const SourceSchema = z.object({
  id: z.string().regex(/^\d{3}$/, "a three-digit id such as 002"),
  file: z.string().regex(
    /^\d{3}_[0-9a-f]{16}\.txt$/,
    "a seed file name such as 002_5dcc19fec036a721.txt",
  ),
  title: z.string().min(1),
});

/** Optimizer settings; omitted values take Keras' defaults. */
export const OptimizerSchema = z.discriminatedUnion("name", [
  z.object({ name: z.literal("adam"), learningRate: z.number().positive().default(0.001) }),
  z.object({
    name: z.literal("sgd"),
    learningRate: z.number().positive().default(0.01),
    momentum: z.number().min(0).max(1).default(0),
  }),
]);

const _protocolBase = {
  id: z.string().regex(/^[a-z0-9.-]+$/),
  source: z.string(),
  description: z.string().min(1),
  /** Training length: epochs, or full-batch iterations for a custom trainer. */
  epochs: z.number().int().positive(),
  /** Exploratory protocols (sweeps) run only when named with --protocols. */
  exploratory: z.boolean().default(false),
};

/** A tfjs-layers model trained by the harness: what a source says was run, or a variant. */
export const LayersProtocolSchema = z.object({
  ..._protocolBase,
  kind: z.literal("layers").default("layers"),
  /** Name of a model builder exported in `models` by the replication's model.ts. */
  model: z.string().min(1),
  dataset: z.enum(["mnist", "fashion-mnist"]),
  /** Multiplier applied to raw 0..255 pixels (1/255 for the usual [0,1] scaling). */
  pixelScale: z.number().positive(),
  optimizer: OptimizerSchema,
  loss: z.enum(["categoricalCrossentropy", "binaryCrossentropy"]),
  batchSize: z.number().int().positive(),
});

/**
 * An algorithm the replication implements itself (e.g. a from-scratch network): the harness
 * loads the data, times the run and logs its events; the trainer does the rest.
 */
export const CustomProtocolSchema = z.object({
  ..._protocolBase,
  kind: z.literal("custom"),
  /** Name of a trainer exported in `trainers` by the replication's model.ts. */
  trainer: z.string().min(1),
  /** A dataset manifest name (data/<name>.json). */
  dataset: z.string().regex(/^[a-z0-9-]+$/),
  /** Trainer-specific settings, validated by the trainer. */
  params: z.record(z.string(), z.unknown()).default({}),
});

/** One training protocol. */
export const ProtocolSchema = z.discriminatedUnion("kind", [
  LayersProtocolSchema,
  CustomProtocolSchema,
]);

/** How a reproduced value is compared with the claimed one. */
export const CompareSchema = z.enum(["approx", "atLeast", "atMost", "fails"]);

/**
 * Metrics a claim can name: `params`, the four standard epoch metrics, or a metric a custom
 * trainer records in each epoch's `extra`. Epoch metrics are read at `epoch` (default: the last).
 * Names ending in `_acc` count higher as better, `_loss` or `_error` lower as better.
 */
export const MetricSchema = z.string().regex(/^[a-z][a-z0-9_]*$/, "a metric name such as test_acc");

/** A claim restated as a number with its tolerance and the place it was found. */
export const ClaimSchema = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/),
  source: z.string(),
  /** Short reference to where the source states it, e.g. "model.evaluate output". */
  where: z.string().min(1),
  statement: z.string().min(1),
  protocol: z.string(),
  metric: MetricSchema,
  epoch: z.number().int().positive().optional(),
  claimed: z.number(),
  compare: CompareSchema,
  epsilon: z.number().min(0),
  /**
   * For `approx`: a value beyond ε on the "better" side also fails. Set for exact counts and
   * for points of a logged curve, where a higher value means a different protocol, not a win.
   */
  twoSided: z.boolean().default(false),
});

/** The accuracy gate `deno test` runs for this replication. */
export const GateSchema = z.object({
  claim: z.string(),
  seeds: z.array(z.number().int()).min(1),
  /** The asserted bound on the claim's metric (≥ for accuracies, ≤ for losses). */
  threshold: z.number(),
  why: z.string().min(1),
});

/** A whole replication spec (spec.json). */
export const ReplicationSpecSchema = z.object({
  name: z.string().regex(/^[a-z0-9-]+$/),
  title: z.string().min(1),
  sources: z.array(SourceSchema).min(1),
  protocols: z.array(ProtocolSchema).min(1),
  claims: z.array(ClaimSchema).min(1),
  /** Seeds a rerun uses unless --seeds says otherwise: 5 where a seed takes minutes, else ≥ 3. */
  defaultSeeds: z.number().int().min(1),
  gates: z.array(GateSchema),
}).superRefine((spec, ctx) => {
  const sources = new Set(spec.sources.map((s) => s.id));
  const protocols = new Set(spec.protocols.map((p) => p.id));
  const claims = new Set(spec.claims.map((c) => c.id));
  const refs = [
    ...spec.protocols.map((p, i) => ["protocols", i, "source", p.source, sources] as const),
    ...spec.claims.map((c, i) => ["claims", i, "source", c.source, sources] as const),
    ...spec.claims.map((c, i) => ["claims", i, "protocol", c.protocol, protocols] as const),
    ...spec.gates.map((g, i) => ["gates", i, "claim", g.claim, claims] as const),
  ];
  for (const [list, i, field, value, known] of refs) {
    if (!known.has(value)) {
      ctx.addIssue({
        code: "custom",
        path: [list, i, field],
        message: `unknown ${field} "${value}" (known: ${[...known].join(", ")})`,
      });
    }
  }
});

export type Source = z.infer<typeof SourceSchema>;
export type Optimizer = z.infer<typeof OptimizerSchema>;
export type Protocol = z.infer<typeof ProtocolSchema>;
export type LayersProtocol = z.infer<typeof LayersProtocolSchema>;
export type CustomProtocol = z.infer<typeof CustomProtocolSchema>;
export type Claim = z.infer<typeof ClaimSchema>;
export type Compare = z.infer<typeof CompareSchema>;
export type Metric = z.infer<typeof MetricSchema>;
export type Gate = z.infer<typeof GateSchema>;
export type ReplicationSpec = z.infer<typeof ReplicationSpecSchema>;

/** Thrown for a spec or results file that does not validate; names the file and field. */
export class SpecError extends Error {
  constructor(readonly file: string, readonly issues: string[]) {
    super(
      `${file} is not valid:\n${issues.map((i) => `  - ${i}`).join("\n")}\nFix the field(s) above.`,
    );
    this.name = "SpecError";
  }
}

/** Validates `data` with `schema`, turning zod issues into a SpecError that names `file`. */
export function validate<T extends z.ZodType>(schema: T, data: unknown, file: string): z.infer<T> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  throw new SpecError(
    file,
    parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`),
  );
}

/** Reads and validates a spec.json. */
export async function loadSpec(file: string): Promise<ReplicationSpec> {
  let data: unknown;
  try {
    data = JSON.parse(await Deno.readTextFile(file));
  } catch (e) {
    throw new SpecError(file, [`cannot read as JSON: ${(e as Error).message}`]);
  }
  return validate(ReplicationSpecSchema, data, file);
}
