/**
 * The record `deno task bench` writes to reports/bench/bench.json, validated with zod before
 * it is written, so a page or a later comparison never reads a malformed file.
 * @module
 */
import { z } from "zod";

/** One timed repeat: at least two steps (or predict calls), stopped after a time budget. */
export const RepeatSchema = z.object({
  steps: z.number().int().positive(),
  samples: z.number().int().positive(),
  seconds: z.number().positive(),
  samplesPerSecond: z.number().positive(),
});

/** A measurement that completed: the warm-up apart, then the timed repeats and their median. */
const _MeasuredSchema = z.object({
  status: z.literal("ok"),
  /** First steps (kernel compilation, shader set-up, first allocations), not in the median. */
  warmupSeconds: z.number().min(0),
  warmupSteps: z.number().int().positive(),
  repeats: z.array(RepeatSchema).min(1),
  /** Median over `repeats`. */
  samplesPerSecond: z.number().positive(),
});

/** A measurement that could not run, e.g. a kernel the backend lacks; the bench goes on. */
const _FailedSchema = z.object({
  status: z.literal("error"),
  error: z.string(),
});

/**
 * A measurement not attempted because one step would take too long (extrapolated from probe
 * steps of batch 1 and 2, it exceeded --max-step-seconds), e.g. the cpu backend's conv
 * gradients.
 */
const _SkippedSchema = z.object({
  status: z.literal("skipped"),
  reason: z.string(),
  /** The batch size ÷ the extrapolated seconds of one step: a rough figure. */
  estimatedSamplesPerSecond: z.number().positive().nullable(),
});

export const MeasurementSchema = z.discriminatedUnion("status", [
  _MeasuredSchema,
  _FailedSchema,
  _SkippedSchema,
]);

export const BackendNameSchema = z.enum(["wasm", "cpu", "webgpu"]);

/** One backend as the bench found it. */
export const BackendSchema = z.object({
  name: BackendNameSchema,
  /** False when it could not start (or, for webgpu, no adapter was found). */
  available: z.boolean(),
  /** The WebGPU adapter's description; null off WebGPU. */
  adapter: z.string().nullable(),
  /** True for a software adapter such as Mesa's llvmpipe (a CPU pretending to be a GPU). */
  softwareAdapter: z.boolean().nullable(),
  /** Threads, SIMD, why it did not start, … */
  note: z.string().nullable(),
});

/** Where one training step's time goes, by kernel (bench/kernel_profile.ts). */
export const KernelProfileSchema = z.object({
  /** Wall milliseconds of a profiled step (profiling included). */
  stepMs: z.number().min(0),
  /** Milliseconds inside kernels per step. */
  kernelMs: z.number().min(0),
  /** Kernel calls per step. */
  calls: z.number().min(0),
  /** The kernels taking the most time: name, ms per step, share of kernelMs, calls per step. */
  top: z.array(z.object({
    kernel: z.string(),
    ms: z.number().min(0),
    share: z.number().min(0).max(1),
    calls: z.number().min(0),
  })),
});

/** One (model, backend) cell of the grid. */
export const CellSchema = z.object({
  model: z.string(),
  backend: BackendNameSchema,
  adapter: z.string().nullable(),
  softwareAdapter: z.boolean().nullable(),
  batchSize: z.number().int().positive(),
  params: z.number().int().nullable(),
  /** The runner's training step (harness/step.ts) on pre-made batches. */
  train: MeasurementSchema,
  /** `model.fit` on the same batches, compiled with the same optimizer, loss and metric. */
  fit: MeasurementSchema,
  /** `model.predict` on batches of the training batch size. */
  inference: MeasurementSchema,
  /** fit samples/s ÷ step samples/s; null unless both were measured. */
  fitVsStep: z.number().nullable(),
  /** Per-kernel profile of the training step; null where it was not measured. */
  profile: KernelProfileSchema.nullable().default(null),
  /** The 1-minute load average when the cell started: other processes compete for the CPU. */
  loadAverage: z.number().nullable(),
  /** Wall-clock seconds of the whole cell. */
  seconds: z.number().min(0),
});

/** The bench's PyTorch reference (bench/reference.py), run after the tfjs cells. */
const _PytorchModelSchema = z.object({
  model: z.string(),
  batchSize: z.number().int().positive(),
  params: z.number().int(),
  train: MeasurementSchema,
  inference: MeasurementSchema,
});

export const PytorchSchema = z.discriminatedUnion("status", [
  z.object({
    status: z.literal("ok"),
    python: z.string(),
    torch: z.string(),
    threads: z.number().int().positive(),
    /** Which BLAS torch ran: the build's BLAS_INFO, the libraries loaded, the alternatives link. */
    blas: z.object({
      buildInfo: z.string().nullable(),
      loadedLibraries: z.array(z.string()),
      alternative: z.string().nullable(),
      summary: z.string(),
    }),
    models: z.array(_PytorchModelSchema),
  }),
  z.object({ status: z.literal("unavailable"), reason: z.string() }),
  z.object({ status: z.literal("error"), reason: z.string() }),
]);

/** tfjs ÷ PyTorch training samples/s for one model, tfjs taking its best backend. */
export const RatioSchema = z.object({
  model: z.string(),
  tfjsBackend: BackendNameSchema,
  tfjsSamplesPerSecond: z.number().positive(),
  pytorchSamplesPerSecond: z.number().positive(),
  ratio: z.number().positive(),
});

export const BenchSchema = z.object({
  kind: z.literal("claimcheck-bench"),
  version: z.literal(1),
  timestamp: z.string(),
  commit: z.string().nullable(),
  machine: z.object({
    deno: z.string(),
    v8: z.string(),
    typescript: z.string(),
    os: z.string(),
    arch: z.string(),
    osRelease: z.string().nullable(),
    cpu: z.string().nullable(),
    hardwareConcurrency: z.number().int().positive(),
    /** 1-, 5- and 15-minute load averages at the start and at the end of the run. */
    loadAverageStart: z.array(z.number()).nullable(),
    loadAverageEnd: z.array(z.number()).nullable(),
  }),
  settings: z.object({
    backends: z.array(BackendNameSchema),
    models: z.array(z.string()),
    /** Each timed repeat stops after about this many seconds (and at least 2 steps). */
    seconds: z.number().positive(),
    /** Measurements whose estimated step takes longer are skipped. */
    maxStepSeconds: z.number().positive(),
    repeats: z.number().int().positive(),
    warmupSteps: z.number().int().positive(),
    seed: z.number().int(),
    vsPytorch: z.boolean(),
  }),
  models: z.array(z.object({
    name: z.string(),
    description: z.string(),
    optimizer: z.string(),
    loss: z.string(),
    batchSize: z.number().int().positive(),
  })),
  backends: z.array(BackendSchema),
  cells: z.array(CellSchema),
  /** Null when --vs-pytorch was not given. */
  pytorch: PytorchSchema.nullable(),
  ratios: z.array(RatioSchema),
  seconds: z.number().min(0),
});

export type Repeat = z.infer<typeof RepeatSchema>;
export type Measurement = z.infer<typeof MeasurementSchema>;
export type BackendName = z.infer<typeof BackendNameSchema>;
export type BackendRecord = z.infer<typeof BackendSchema>;
export type Cell = z.infer<typeof CellSchema>;
export type KernelProfile = z.infer<typeof KernelProfileSchema>;
export type Pytorch = z.infer<typeof PytorchSchema>;
export type Ratio = z.infer<typeof RatioSchema>;
export type Bench = z.infer<typeof BenchSchema>;
