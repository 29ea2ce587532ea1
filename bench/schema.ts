/**
 * The record `deno task bench` writes to reports/bench/bench.json, validated with zod before
 * it is written, so a page or a later comparison never reads a malformed file.
 * @module
 */
import { z } from "zod";

/** The fewest, the median and the most of a measurement's repeats (or of its paired ratios). */
export const SpreadSchema = z.object({
  min: z.number().positive(),
  median: z.number().positive(),
  max: z.number().positive(),
});

/** One timed repeat: at least two steps (or predict calls), stopped after a time budget. */
export const RepeatSchema = z.object({
  steps: z.number().int().positive(),
  samples: z.number().int().positive(),
  seconds: z.number().positive(),
  samplesPerSecond: z.number().positive(),
});

/**
 * One repeat of the whole-machine row: J jobs started together, each training until its own
 * budget is spent; `seconds` is the wall interval all of them were training (the latest start to
 * the earliest end) and `samples` what they trained in it together (steps that straddle its ends
 * counted in proportion), so `samplesPerSecond` is the machine's.
 */
export const MachineRepeatSchema = z.object({
  jobs: z.number().int().positive(),
  seconds: z.number().positive(),
  samples: z.number().positive(),
  samplesPerSecond: z.number().positive(),
  /** Steps each job ran in its repeat, the interval's edges included. */
  jobSteps: z.array(z.number().int().positive()),
});

/** A completed measurement of `repeat`s: the warm-up apart, then the timed repeats. */
function _measured<R extends z.ZodType>(repeat: R) {
  return z.object({
    status: z.literal("ok"),
    /** First steps (kernel compilation, shader set-up, first allocations), not in the spread. */
    warmupSeconds: z.number().min(0),
    warmupSteps: z.number().int().positive(),
    repeats: z.array(repeat).min(1),
    /** Min, median and max over `repeats`. */
    samplesPerSecond: SpreadSchema,
  });
}

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
  _measured(RepeatSchema),
  _FailedSchema,
  _SkippedSchema,
]);

/** A whole-machine measurement: its repeats each ran J jobs at once. */
export const MachineMeasurementSchema = z.discriminatedUnion("status", [
  _measured(MachineRepeatSchema),
  _FailedSchema,
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
  /** Threads the backend computes on (wasm: its thread pool; cpu: 1); null where unknown. */
  threads: z.number().int().positive().nullable(),
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
  /** The backend's threads (`--wasm-threads` on wasm). */
  threads: z.number().int().positive().nullable(),
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

/** One model in PyTorch (bench/reference.py), timed in turns with the wasm cell's measurements. */
const _PytorchModelSchema = z.object({
  model: z.string(),
  batchSize: z.number().int().positive(),
  params: z.number().int().nullable(),
  train: MeasurementSchema,
  inference: MeasurementSchema,
});

/** What bench/reference.py says of itself: its Python, torch, threads and BLAS. */
export const PytorchInfoSchema = z.object({
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
});

export const PytorchSchema = z.discriminatedUnion("status", [
  PytorchInfoSchema.extend({
    status: z.literal("ok"),
    models: z.array(_PytorchModelSchema),
  }),
  z.object({ status: z.literal("unavailable"), reason: z.string() }),
  z.object({ status: z.literal("error"), reason: z.string() }),
]);

/**
 * tfjs ÷ PyTorch training samples/s for one model: the ratio of the medians, and the spread of
 * the per-round ratios (round i: tfjs repeat i, then PyTorch repeat i).
 */
export const RatioSchema = z.object({
  model: z.string(),
  /** Which tfjs ran, in words: "wasm, 1 thread", "2 jobs × wasm, 1 thread". */
  tfjs: z.string(),
  /** Which PyTorch ran, in words: "2 threads", "2 processes × 1 thread". */
  pytorch: z.string(),
  tfjsSamplesPerSecond: z.number().positive(),
  pytorchSamplesPerSecond: z.number().positive(),
  /** Median tfjs ÷ median PyTorch. */
  ratio: z.number().positive(),
  /** Min, median and max of the rounds' ratios; `pairs` rounds. */
  pairs: SpreadSchema.extend({ count: z.number().int().positive() }),
});

/**
 * The whole machine training one model in J concurrent jobs, as multi-seed replication runs:
 * tfjs on J Deno workers (wasm, 1 thread each, like the runner's --jobs), PyTorch in J processes
 * (1 thread each); the two timed in turns, round by round.
 */
export const MachineRowSchema = z.object({
  model: z.string(),
  batchSize: z.number().int().positive(),
  tfjs: MachineMeasurementSchema,
  /** Null without --vs-pytorch or without torch (see `WholeMachine.pytorchNote`). */
  pytorch: MachineMeasurementSchema.nullable(),
  ratio: RatioSchema.nullable(),
});

export const WholeMachineSchema = z.object({
  /** Concurrent jobs: the machine's logical cores. */
  jobs: z.number().int().positive(),
  /** Threads each job computes on, either side. */
  threadsPerJob: z.number().int().positive(),
  /** Why there is no PyTorch side; null when there is one. */
  pytorchNote: z.string().nullable(),
  rows: z.array(MachineRowSchema),
});

/** The CPU the bench ran on. */
export const CpuSchema = z.object({
  /**
   * /proc/cpuinfo's "model name" (x86), else its vendor and family numbers, else its ARM
   * implementer and part; "unknown" when none could be read (`source` says why).
   */
  model: z.string(),
  /** Where `model` came from, or why it is unknown. */
  source: z.string(),
  /** Logical cores: navigator.hardwareConcurrency. */
  cores: z.number().int().positive(),
});

export const BenchSchema = z.object({
  kind: z.literal("claimcheck-bench"),
  /** 2: min/median/max, the CPU model, PyTorch in turns with wasm, the whole-machine row. */
  version: z.literal(2),
  timestamp: z.string(),
  commit: z.string().nullable(),
  machine: z.object({
    deno: z.string(),
    v8: z.string(),
    typescript: z.string(),
    os: z.string(),
    arch: z.string(),
    osRelease: z.string().nullable(),
    cpu: CpuSchema,
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
    wasmThreads: z.number().int().positive(),
    vsPytorch: z.boolean(),
    wholeMachine: z.boolean(),
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
  /** tfjs on wasm ÷ PyTorch, per model, from the measurements taken in turns. */
  ratios: z.array(RatioSchema),
  /** Null with --no-whole-machine. */
  wholeMachine: WholeMachineSchema.nullable(),
  seconds: z.number().min(0),
});

export type Spread = z.infer<typeof SpreadSchema>;
export type Repeat = z.infer<typeof RepeatSchema>;
export type MachineRepeat = z.infer<typeof MachineRepeatSchema>;
export type Measurement = z.infer<typeof MeasurementSchema>;
export type MachineMeasurement = z.infer<typeof MachineMeasurementSchema>;
export type Cpu = z.infer<typeof CpuSchema>;
export type BackendName = z.infer<typeof BackendNameSchema>;
export type BackendRecord = z.infer<typeof BackendSchema>;
export type Cell = z.infer<typeof CellSchema>;
export type KernelProfile = z.infer<typeof KernelProfileSchema>;
export type Pytorch = z.infer<typeof PytorchSchema>;
export type PytorchInfo = z.infer<typeof PytorchInfoSchema>;
export type Ratio = z.infer<typeof RatioSchema>;
export type MachineRow = z.infer<typeof MachineRowSchema>;
export type WholeMachine = z.infer<typeof WholeMachineSchema>;
export type Bench = z.infer<typeof BenchSchema>;
