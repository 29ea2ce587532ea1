/**
 * `deno task bench`: training and inference samples/s of three models on each tfjs backend,
 * optionally beside PyTorch; writes reports/bench/bench.json and reports/bench/index.html.
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { setupBackend } from "../harness/backend/backend.ts";
import { simdPoolThreads } from "../harness/backend/simd/simd_pool.ts";
import { writeFileAtomic } from "../harness/util/write_file_atomic.ts";
import { gitCommit } from "../harness/util/git_commit.ts";
import { PROJECT_ROOT } from "../harness/util/paths.ts";
import { type Beside, DEFAULT_TIMING, loadAverages, runCell, type TimingOptions } from "./cell.ts";
import { cpuInfo } from "./cpu_info.ts";
import { errorText } from "./error_text.ts";
import { formatProfile } from "./kernel_profile.ts";
import { BENCH_MODELS, type BenchModel } from "./models.ts";
import { pairedRatio } from "./paired_ratio.ts";
import {
  formatRate,
  formatSpread,
  renderBenchPage,
  runnerLabel,
  threadsLabel,
  unstable,
  UNSTABLE_SPREAD,
} from "./page.ts";
import { ReferenceProcess, torchMissing } from "./pytorch.ts";
import {
  type BackendName,
  BackendNameSchema,
  type BackendRecord,
  type Bench,
  BenchSchema,
  type Cell,
  type MachineMeasurement,
  type Measurement,
  type PytorchInfo,
  type Ratio,
} from "./schema.ts";
import { runWholeMachine } from "./whole_machine.ts";

const USAGE = `usage: deno task bench [options]

Training samples/s (runner's step and model.fit) and inference samples/s per model and backend.

options:
  --backends a,b     wasm, cpu, webgpu (default: wasm,cpu,webgpu; webgpu only with an adapter)
  --models a,b       ${BENCH_MODELS.map((m) => m.name).join(", ")} (default: all)
  --seconds S        stop each timed repeat after about S seconds of steps (default ${DEFAULT_TIMING.seconds})
  --repeats N        timed repeats per measurement; min, median and max reported (default ${DEFAULT_TIMING.repeats})
  --warmup-steps N   untimed first steps, reported apart (default ${DEFAULT_TIMING.warmupSteps}; one when
                     the first alone takes over --seconds)
  --max-step-seconds S
                     skip a measurement whose step, estimated from probe steps of batch 1 and 2, would take
                     longer (default ${DEFAULT_TIMING.maxStepSeconds}; the cpu backend's conv gradients take minutes)
  --wasm-threads N   threads of the wasm backend (default 1; >1 uses the threaded SIMD build)
  --seed S           seeds weights and random batches (default ${DEFAULT_TIMING.seed})
  --vs-pytorch       also time bench/reference.py with /usr/bin/python3 (Debian's python3-torch,
                     2 threads) in turns with the wasm cells, and print tfjs ÷ PyTorch training
                     samples/s; needs wasm in --backends
  --no-whole-machine leave out the whole-machine row (default: on): training samples/s of
                     one job a logical core training at once, tfjs on wasm with 1 thread a job
                     (and, with --vs-pytorch, PyTorch with 1 thread a process), in turns
  --out DIR          where bench.json and index.html go (default reports/bench)
  --quiet            no progress on stderr
  --help             this text`;

class UsageError extends Error {}

/** The parsed command line. */
export interface BenchOptions {
  backends: BackendName[];
  models: string[];
  timing: TimingOptions;
  vsPytorch: boolean;
  /** The whole-machine row: one job a core, tfjs (and PyTorch with vsPytorch), in turns. */
  wholeMachine: boolean;
  out: string;
  quiet: boolean;
  /** Threads of the wasm backend (1: the single-threaded build). */
  wasmThreads?: number;
}

function _number(flag: string, value: string | undefined, fallback: number, int: boolean): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (int && !Number.isInteger(n))) {
    throw new UsageError(`${flag}: "${value}" is not a positive ${int ? "integer" : "number"}`);
  }
  return n;
}

function _list(flag: string, value: string, known: readonly string[]): string[] {
  const items = value.split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = items.filter((s) => !known.includes(s));
  if (unknown.length || !items.length) {
    throw new UsageError(
      `${flag}: unknown ${unknown.join(", ") || "(empty)"}; choose from ${known.join(", ")}`,
    );
  }
  return [...new Set(items)];
}

/** Parses the command line; throws a usage error on unknown flags or bad values. */
export function parseBenchArgs(args: string[]): BenchOptions | "help" {
  let v;
  try {
    v = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      allowNegative: true,
      options: {
        backends: { type: "string" },
        models: { type: "string" },
        seconds: { type: "string" },
        repeats: { type: "string" },
        "warmup-steps": { type: "string" },
        "max-step-seconds": { type: "string" },
        seed: { type: "string" },
        "wasm-threads": { type: "string" },
        "vs-pytorch": { type: "boolean" },
        "whole-machine": { type: "boolean", default: true },
        out: { type: "string" },
        quiet: { type: "boolean" },
        help: { type: "boolean" },
      },
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (v.help) return "help";
  const seed = v.seed === undefined ? DEFAULT_TIMING.seed : Number(v.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed: "${v.seed}" is not an integer`);
  const backends = _list(
    "--backends",
    v.backends ?? "wasm,cpu,webgpu",
    BackendNameSchema.options,
  ) as BackendName[];
  if (v["vs-pytorch"] && !backends.includes("wasm")) {
    throw new UsageError("--vs-pytorch times PyTorch in turns with wasm: add wasm to --backends");
  }
  return {
    backends,
    models: _list(
      "--models",
      v.models ?? BENCH_MODELS.map((m) => m.name).join(","),
      BENCH_MODELS.map((m) => m.name),
    ),
    timing: {
      seconds: _number("--seconds", v.seconds, DEFAULT_TIMING.seconds, false),
      repeats: _number("--repeats", v.repeats, DEFAULT_TIMING.repeats, true),
      warmupSteps: _number("--warmup-steps", v["warmup-steps"], DEFAULT_TIMING.warmupSteps, true),
      maxStepSeconds: _number(
        "--max-step-seconds",
        v["max-step-seconds"],
        DEFAULT_TIMING.maxStepSeconds,
        false,
      ),
      seed,
    },
    vsPytorch: Boolean(v["vs-pytorch"]),
    wholeMachine: v["whole-machine"] !== false,
    wasmThreads: _number("--wasm-threads", v["wasm-threads"], 1, true),
    out: v.out ?? join(PROJECT_ROOT, "reports", "bench"),
    quiet: Boolean(v.quiet),
  };
}

async function _hasAdapter(): Promise<boolean> {
  try {
    const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
    return Boolean(await gpu?.requestAdapter({ powerPreference: "high-performance" }));
  } catch {
    return false;
  }
}

/** Starts `name` through the harness; describes it, or why it could not start. */
async function _startBackend(name: BackendName, wasmThreads = 1): Promise<BackendRecord> {
  const off = (note: string): BackendRecord => ({
    name,
    available: false,
    adapter: null,
    softwareAdapter: null,
    threads: null,
    note,
  });
  if (name === "webgpu" && !await _hasAdapter()) return off("no WebGPU adapter (navigator.gpu)");
  try {
    const info = await setupBackend(name, { wasmThreads });
    let note = info.note;
    if (name === "wasm") {
      const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
      const threads = simdPoolThreads(tf.backend());
      note = `${threads} thread(s)${
        wasmThreads > 1 ? " (threaded build: claimcheck's SIMD kernels; XNNPACK's ops on 1)" : ""
      }, SIMD ${simd ? "on" : "off"}`;
    } else if (name === "cpu") note = "plain JavaScript, one thread";
    return {
      name,
      available: true,
      adapter: info.adapter,
      softwareAdapter: info.fallbackAdapter,
      threads: name === "wasm" ? simdPoolThreads(tf.backend()) : name === "cpu" ? 1 : null,
      note,
    };
  } catch (e) {
    return off(`did not start: ${errorText(e)}`);
  }
}

/** Threads of the PyTorch process timed in turns with the wasm cells. */
const _PYTORCH_THREADS = 2;

/** "median [min–max]" of a measurement, else what became of it. */
function _rate(m: Measurement | MachineMeasurement): string {
  if (m.status === "ok") return formatSpread(m.samplesPerSecond);
  if (m.status === "error") return "error";
  return m.estimatedSamplesPerSecond === null
    ? "skipped"
    : `skip(~${formatRate(m.estimatedSamplesPerSecond)})`;
}

function _problem(m: Measurement | MachineMeasurement): string | null {
  if (m.status === "error") return `error: ${m.error}`;
  if (m.status === "skipped") return `skipped: ${m.reason}`;
  return null;
}

/** Rows as aligned columns: the first `text` columns left-aligned, the others right-aligned. */
function _table(rows: string[][], text: number): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) =>
    r.map((c, i) => i >= text ? c.padStart(widths[i]) : c.padEnd(widths[i])).join("  ").trimEnd()
  ).join("\n");
}

function _ratioCells(r: Ratio | null): string[] {
  if (!r) return ["-", "-"];
  return [r.ratio.toFixed(3), `${r.pairs.min.toFixed(3)}–${r.pairs.max.toFixed(3)}`];
}

/** The stdout summary: the CPU, the grid, its errors, PyTorch, the ratios, the whole machine. */
export function formatSummary(bench: Bench): string {
  const out: string[] = [];
  const { cpu } = bench.machine, repeats = bench.settings.repeats;
  out.push(`CPU: ${cpu.model} (${cpu.source}); ${cpu.cores} logical cores`);
  const rows = [["model", "runner", "train/s", "warm-up", "fit/s", "fit÷step", "infer/s"]];
  const errors: string[] = [], spreads: string[] = [];
  const check = (where: string, what: string, m: Measurement | MachineMeasurement) => {
    const problem = _problem(m), spread = unstable(m);
    if (problem) errors.push(`  ${where}, ${what}: ${problem}`);
    if (spread) spreads.push(`  ${where}, ${what}: repeats ${spread}`);
  };
  for (const c of bench.cells) {
    rows.push([
      c.model,
      runnerLabel(c),
      _rate(c.train),
      c.train.status === "ok" ? `${c.train.warmupSeconds.toFixed(2)}s` : "-",
      _rate(c.fit),
      c.fitVsStep === null ? "-" : c.fitVsStep.toFixed(2),
      _rate(c.inference),
    ]);
    for (
      const [what, m] of [["train", c.train], ["fit", c.fit], ["inference", c.inference]] as const
    ) {
      check(`${c.model} on ${c.backend}`, what, m);
    }
  }
  const p = bench.pytorch;
  if (p?.status === "ok") {
    for (const m of p.models) {
      rows.push([
        m.model,
        `PyTorch, ${threadsLabel(p.threads)}`,
        _rate(m.train),
        m.train.status === "ok" ? `${m.train.warmupSeconds.toFixed(2)}s` : "-",
        "-",
        "-",
        _rate(m.inference),
      ]);
      for (const [what, x] of [["train", m.train], ["inference", m.inference]] as const) {
        check(`${m.model} on PyTorch`, what, x);
      }
    }
  }
  out.push(
    `samples/s: median [min–max] of ${repeats} repeats, warm-up timed apart` +
      (p?.status === "ok" ? "; PyTorch timed in turns with wasm, repeat by repeat" : ""),
  );
  out.push(_table(rows, 2));
  const w = bench.wholeMachine;
  for (const r of w?.rows ?? []) {
    check(`${r.model} on the whole machine`, "tfjs", r.tfjs);
    if (r.pytorch) check(`${r.model} on the whole machine`, "PyTorch", r.pytorch);
  }
  if (errors.length) out.push("not measured:", ...errors);
  if (spreads.length) {
    out.push(
      `unstable (repeats more than ${
        Math.round((UNSTABLE_SPREAD - 1) * 100)
      } % apart; other load on the machine?):`,
      ...spreads,
    );
  }
  const profiled = bench.cells.filter((c) => c.profile);
  if (profiled.length) {
    out.push("where a training step's time goes (tf.profile, mean of 3 steps; top kernels):");
    for (const c of profiled) {
      out.push(...formatProfile(`${c.model} on ${runnerLabel(c)}`, c.profile!));
    }
  }
  const skipped = bench.backends.filter((b) => !b.available);
  for (const b of skipped) out.push(`skipped ${b.name}: ${b.note}`);
  if (p) {
    if (p.status === "ok") {
      out.push(`PyTorch BLAS: ${p.blas.summary}`);
      if (bench.ratios.length) {
        out.push(
          `tfjs ÷ PyTorch, training step samples/s: the ratio of the medians; per round: min–max ` +
            `of the ${repeats} rounds' ratios (round i: tfjs repeat i, then PyTorch repeat i)`,
        );
        out.push(_table([
          ["model", "tfjs", "PyTorch", "tfjs/s", "PyTorch/s", "ratio", "per round"],
          ...bench.ratios.map((r) => [
            r.model,
            r.tfjs,
            r.pytorch,
            formatRate(r.tfjsSamplesPerSecond),
            formatRate(r.pytorchSamplesPerSecond),
            ..._ratioCells(r),
          ]),
        ], 3));
      } else out.push("no model trained on both tfjs and PyTorch: no ratio");
    } else out.push(`PyTorch ${p.status}: ${p.reason}; no ratio`);
  }
  if (w) {
    out.push(
      `whole machine: ${w.jobs} jobs training one model at once (one a logical core, ` +
        `${threadsLabel(w.threadsPerJob)} each, weights and batches seeded apart); ` +
        `samples/s of all jobs together over the interval all were training, median [min–max] ` +
        `of ${repeats} rounds${w.pytorchNote ? "" : ", tfjs and PyTorch in turns"}`,
    );
    out.push(_table([
      [
        "model",
        `tfjs/s (${w.jobs} jobs × wasm)`,
        `PyTorch/s (${w.jobs} processes)`,
        "ratio",
        "per round",
      ],
      ...w.rows.map((r) => [
        r.model,
        _rate(r.tfjs),
        r.pytorch ? _rate(r.pytorch) : "-",
        ..._ratioCells(r.ratio),
      ]),
    ], 1));
    if (w.pytorchNote) out.push(`whole machine, PyTorch not run: ${w.pytorchNote}`);
  }
  const load = bench.machine.loadAverageEnd?.[0];
  if (load !== undefined && load > 0.5) {
    out.push(
      `note: 1-minute load average ${load.toFixed(2)} at the end on ` +
        `${cpu.cores} cores; other processes may have slowed these figures`,
    );
  }
  return out.join("\n");
}

/** The PyTorch process timed beside the wasm cells, or why there is none. */
async function _startPytorch(
  o: BenchOptions,
  log: (msg: string) => void,
): Promise<
  | { reference: ReferenceProcess; info: PytorchInfo }
  | { status: "unavailable" | "error"; reason: string }
> {
  const missing = await torchMissing();
  if (missing) return { status: "unavailable", reason: missing };
  let reference: ReferenceProcess | null = null;
  try {
    reference = new ReferenceProcess(_PYTORCH_THREADS, o.timing, log);
    const info = await reference.info();
    log(`[pytorch] torch ${info.torch}, ${threadsLabel(info.threads)}, ${info.blas.summary}`);
    return { reference, info };
  } catch (e) {
    await reference?.close().catch(() => {});
    return { status: "error", reason: `bench/reference.py: ${errorText(e)}` };
  }
}

/** `m` set up in `reference` for training and inference, to be timed beside a wasm cell. */
async function _beside(
  reference: ReferenceProcess,
  m: BenchModel,
  seed: number,
): Promise<{ beside: Beside; params: number | null }> {
  let params: number | null = null;
  const side = async (what: "train" | "inference"): Promise<Beside["train"]> => {
    try {
      const prepared = await reference.prepare(m.name, what, seed);
      params = prepared.params;
      return prepared.timed;
    } catch (e) {
      return { status: "error", error: `not set up: ${errorText(e)}` };
    }
  };
  const beside = {
    name: "pytorch",
    train: await side("train"),
    inference: await side("inference"),
  };
  return { beside, params };
}

/** Runs the whole bench and returns the validated record (written by {@link main}). */
export async function runBench(o: BenchOptions, log: (msg: string) => void): Promise<Bench> {
  const t0 = performance.now();
  const loadAverageStart = loadAverages();
  const cpu = await cpuInfo();
  const models = BENCH_MODELS.filter((m) => o.models.includes(m.name));
  const backends: BackendRecord[] = [];
  const cells: Cell[] = [];
  const ratios: Ratio[] = [];
  const started = o.vsPytorch ? await _startPytorch(o, log) : null;
  const ref = started && "reference" in started ? started : null;
  const pytorchModels: Extract<Bench["pytorch"], { status: "ok" }>["models"] = [];
  try {
    for (const name of o.backends) {
      const backend = await _startBackend(name, o.wasmThreads);
      backends.push(backend);
      if (!backend.available) {
        log(`skipped ${name}: ${backend.note}`);
        continue;
      }
      log(
        `backend ${name}${backend.adapter ? ` (${backend.adapter})` : ""}: ${backend.note ?? ""}`,
      );
      for (const m of models) {
        if (!ref || name !== "wasm") {
          cells.push((await runCell(m, backend, o.timing, log)).cell);
          continue;
        }
        const { beside, params } = await _beside(ref.reference, m, o.timing.seed);
        const run = await runCell(m, backend, o.timing, log, beside);
        cells.push(run.cell);
        const measured = run.beside!;
        pytorchModels.push({ model: m.name, batchSize: m.batchSize, params, ...measured });
        const ratio = pairedRatio(
          m.name,
          runnerLabel(run.cell),
          `PyTorch, ${threadsLabel(ref.info.threads)}`,
          run.cell.train,
          measured.train,
        );
        if (ratio) ratios.push(ratio);
      }
    }
  } finally {
    await ref?.reference.close();
  }
  let pytorch: Bench["pytorch"] = null;
  if (ref) {
    pytorch = backends.some((b) => b.name === "wasm" && b.available)
      ? { status: "ok", ...ref.info, models: pytorchModels }
      : { status: "error", reason: "not timed: it takes turns with wasm, which did not start" };
  } else if (started && "status" in started) pytorch = started;
  if (pytorch && pytorch.status !== "ok") log(`PyTorch ${pytorch.status}: ${pytorch.reason}`);
  const wholeMachine = o.wholeMachine
    ? await runWholeMachine(models, {
      jobs: cpu.cores,
      timing: o.timing,
      pytorch: ref ? () => Promise.resolve(new ReferenceProcess(1, o.timing, log)) : null,
      pytorchNote: !o.vsPytorch
        ? "no --vs-pytorch"
        : started && "status" in started
        ? started.reason
        : null,
      onProgress: log,
    })
    : null;
  const v = Deno.version;
  let osRelease: string | null = null;
  try {
    osRelease = Deno.osRelease();
  } catch { /* not permitted or unknown */ }
  return BenchSchema.parse(
    {
      kind: "claimcheck-bench",
      version: 2,
      timestamp: new Date().toISOString(),
      commit: (await gitCommit()).commit,
      machine: {
        deno: v.deno,
        v8: v.v8,
        typescript: v.typescript,
        os: Deno.build.os,
        arch: Deno.build.arch,
        osRelease,
        cpu,
        loadAverageStart,
        loadAverageEnd: loadAverages(),
      },
      settings: {
        backends: o.backends,
        models: o.models,
        seconds: o.timing.seconds,
        repeats: o.timing.repeats,
        warmupSteps: o.timing.warmupSteps,
        maxStepSeconds: o.timing.maxStepSeconds,
        seed: o.timing.seed,
        wasmThreads: o.wasmThreads ?? 1,
        vsPytorch: o.vsPytorch,
        wholeMachine: o.wholeMachine,
      },
      models: models.map((m) => ({
        name: m.name,
        description: m.description,
        optimizer: m.optimizerName,
        loss: m.loss,
        batchSize: m.batchSize,
      })),
      backends,
      cells,
      pytorch,
      ratios,
      wholeMachine,
      seconds: (performance.now() - t0) / 1000,
    } satisfies Bench,
  );
}

/** The command: exit 0 when the bench ran to the end (whatever failed inside), 2 on usage. */
export async function main(args: string[]): Promise<number> {
  let o;
  try {
    o = parseBenchArgs(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (o === "help") {
    console.log(USAGE);
    return 0;
  }
  const log = o.quiet ? () => {} : (msg: string) => console.error(msg);
  // Minutes of measuring must not end in a folder that cannot be written.
  try {
    await Deno.mkdir(o.out, { recursive: true });
    await Deno.remove(await Deno.makeTempFile({ dir: o.out, prefix: ".write-test-" }));
  } catch (e) {
    console.error(`--out: cannot write to ${o.out}: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  try {
    const bench = await runBench(o, log);
    const json = join(o.out, "bench.json"), html = join(o.out, "index.html");
    await writeFileAtomic(json, JSON.stringify(bench, null, 2) + "\n");
    await writeFileAtomic(html, await renderBenchPage(bench));
    log(`wrote ${json} and ${html}`);
    console.log(formatSummary(bench));
    return 0;
  } catch (e) {
    console.error(`bench failed: ${e instanceof Error ? e.stack ?? e.message : e}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
