/**
 * `deno task bench`: training and inference samples/s of three models on each tfjs backend,
 * optionally beside PyTorch; writes reports/bench/bench.json and reports/bench/index.html.
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { setupBackend } from "../harness/backend/backend.ts";
import { writeFileAtomic } from "../harness/util/write_file_atomic.ts";
import { gitCommit } from "../harness/util/git_commit.ts";
import { PROJECT_ROOT } from "../harness/util/paths.ts";
import { DEFAULT_TIMING, errorText, loadAverages, runCell, type TimingOptions } from "./cell.ts";
import { formatProfile } from "./kernel_profile.ts";
import { BENCH_MODELS } from "./models.ts";
import { formatRate, renderBenchPage, runnerLabel, unstable, UNSTABLE_SPREAD } from "./page.ts";
import { runPytorch, trainingRatios } from "./pytorch.ts";
import {
  type BackendName,
  BackendNameSchema,
  type BackendRecord,
  type Bench,
  BenchSchema,
  type Cell,
  type Measurement,
} from "./schema.ts";

const USAGE = `usage: deno task bench [options]

Training samples/s (runner's step and model.fit) and inference samples/s per model and backend.

options:
  --backends a,b     wasm, cpu, webgpu (default: wasm,cpu,webgpu; webgpu only with an adapter)
  --models a,b       ${BENCH_MODELS.map((m) => m.name).join(", ")} (default: all)
  --seconds S        stop each timed repeat after about S seconds of steps (default ${DEFAULT_TIMING.seconds})
  --repeats N        timed repeats per measurement, median reported (default ${DEFAULT_TIMING.repeats})
  --warmup-steps N   untimed first steps, reported apart (default ${DEFAULT_TIMING.warmupSteps}; one when
                     the first alone takes over --seconds)
  --max-step-seconds S
                     skip a measurement whose step, estimated from probe steps of batch 1 and 2, would take
                     longer (default ${DEFAULT_TIMING.maxStepSeconds}; the cpu backend's conv gradients take minutes)
  --wasm-threads N   threads of the wasm backend (default 1; >1 uses the threaded SIMD build)
  --seed S           seeds weights and random batches (default ${DEFAULT_TIMING.seed})
  --vs-pytorch       also run bench/reference.py with /usr/bin/python3 (Debian's python3-torch),
                     after the tfjs cells, and print tfjs ÷ PyTorch training samples/s
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
  return {
    backends: _list(
      "--backends",
      v.backends ?? "wasm,cpu,webgpu",
      BackendNameSchema.options,
    ) as BackendName[],
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
    wasmThreads: _number("--wasm-threads", v["wasm-threads"], 1, true),
    out: v.out ?? join(PROJECT_ROOT, "reports", "bench"),
    quiet: Boolean(v.quiet),
  };
}

async function _cpuModel(): Promise<string | null> {
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    return info.match(/^model name\s*:\s*(.+)$/m)?.[1].trim() ?? null;
  } catch {
    return null;
  }
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
    note,
  });
  if (name === "webgpu" && !await _hasAdapter()) return off("no WebGPU adapter (navigator.gpu)");
  try {
    const info = await setupBackend(name, { wasmThreads });
    let note = info.note;
    if (name === "wasm") {
      const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
      note = `${getThreadsCount()} thread(s)${wasmThreads > 1 ? " (threaded build)" : ""}, SIMD ${
        simd ? "on" : "off"
      }`;
    } else if (name === "cpu") note = "plain JavaScript, one thread";
    return {
      name,
      available: true,
      adapter: info.adapter,
      softwareAdapter: info.fallbackAdapter,
      note,
    };
  } catch (e) {
    return off(`did not start: ${errorText(e)}`);
  }
}

function _rate(m: Measurement): string {
  if (m.status === "ok") return formatRate(m.samplesPerSecond);
  if (m.status === "error") return "error";
  return m.estimatedSamplesPerSecond === null
    ? "skipped"
    : `skip(~${formatRate(m.estimatedSamplesPerSecond)})`;
}

function _problem(m: Measurement): string | null {
  if (m.status === "error") return `error: ${m.error}`;
  if (m.status === "skipped") return `skipped: ${m.reason}`;
  return null;
}

function _table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const numeric = (i: number) => i >= 2;
  return rows.map((r) =>
    r.map((c, i) => numeric(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])).join("  ").trimEnd()
  ).join("\n");
}

/** The stdout summary: the grid, its errors, PyTorch and the ratios. */
export function formatSummary(bench: Bench): string {
  const out: string[] = [];
  const rows = [["model", "backend", "train/s", "warm-up", "fit/s", "fit÷step", "infer/s"]];
  const errors: string[] = [], spreads: string[] = [];
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
      const problem = _problem(m), spread = unstable(m);
      if (problem) errors.push(`  ${c.model} on ${c.backend}, ${what}: ${problem}`);
      if (spread) spreads.push(`  ${c.model} on ${c.backend}, ${what}: repeats ${spread}`);
    }
  }
  const p = bench.pytorch;
  if (p?.status === "ok") {
    for (const m of p.models) {
      rows.push([
        m.model,
        `PyTorch (${p.threads} threads)`,
        _rate(m.train),
        m.train.status === "ok" ? `${m.train.warmupSeconds.toFixed(2)}s` : "-",
        "-",
        "-",
        _rate(m.inference),
      ]);
      for (const [what, x] of [["train", m.train], ["inference", m.inference]] as const) {
        const problem = _problem(x), spread = unstable(x);
        if (problem) errors.push(`  ${m.model} on PyTorch, ${what}: ${problem}`);
        if (spread) spreads.push(`  ${m.model} on PyTorch, ${what}: repeats ${spread}`);
      }
    }
  }
  out.push("samples/s (median of repeats; warm-up timed apart)");
  out.push(_table(rows));
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
        out.push("tfjs ÷ PyTorch, training samples/s (tfjs = its best backend per model):");
        out.push(_table([
          ["model", "tfjs backend", "tfjs/s", "PyTorch/s", "ratio"],
          ...bench.ratios.map((r) => [
            r.model,
            r.tfjsBackend,
            formatRate(r.tfjsSamplesPerSecond),
            formatRate(r.pytorchSamplesPerSecond),
            r.ratio.toFixed(3),
          ]),
        ]));
      } else out.push("no model trained on both tfjs and PyTorch: no ratio");
    } else out.push(`PyTorch ${p.status}: ${p.reason}; no ratio`);
  }
  const load = bench.machine.loadAverageEnd?.[0];
  if (load !== undefined && load > 0.5) {
    out.push(
      `note: 1-minute load average ${load.toFixed(2)} at the end on ` +
        `${bench.machine.hardwareConcurrency} cores; other processes may have slowed these figures`,
    );
  }
  return out.join("\n");
}

/** Runs the whole bench and returns the validated record (written by {@link main}). */
export async function runBench(o: BenchOptions, log: (msg: string) => void): Promise<Bench> {
  const t0 = performance.now();
  const loadAverageStart = loadAverages();
  const models = BENCH_MODELS.filter((m) => o.models.includes(m.name));
  const backends: BackendRecord[] = [];
  const cells: Cell[] = [];
  for (const name of o.backends) {
    const backend = await _startBackend(name, o.wasmThreads);
    backends.push(backend);
    if (!backend.available) {
      log(`skipped ${name}: ${backend.note}`);
      continue;
    }
    log(`backend ${name}${backend.adapter ? ` (${backend.adapter})` : ""}: ${backend.note ?? ""}`);
    for (const m of models) cells.push(await runCell(m, backend, o.timing, log));
  }
  let pytorch: Bench["pytorch"] = null;
  if (o.vsPytorch) {
    log("PyTorch reference (after the tfjs cells, never beside them)...");
    pytorch = await runPytorch({ models: o.models, ...o.timing, onProgress: log });
    if (pytorch.status !== "ok") log(`PyTorch ${pytorch.status}: ${pytorch.reason}`);
  }
  const v = Deno.version;
  let osRelease: string | null = null;
  try {
    osRelease = Deno.osRelease();
  } catch { /* not permitted or unknown */ }
  return BenchSchema.parse(
    {
      kind: "claimcheck-bench",
      version: 1,
      timestamp: new Date().toISOString(),
      commit: (await gitCommit()).commit,
      machine: {
        deno: v.deno,
        v8: v.v8,
        typescript: v.typescript,
        os: Deno.build.os,
        arch: Deno.build.arch,
        osRelease,
        cpu: await _cpuModel(),
        hardwareConcurrency: navigator.hardwareConcurrency,
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
        vsPytorch: o.vsPytorch,
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
      ratios: trainingRatios(cells, pytorch),
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
