import assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { formatSummary, main, parseBenchArgs, runBench } from "../bench/bench.ts";
import { type Beside, runCell } from "../bench/cell.ts";
import { cpuInfo, parseCpuinfo } from "../bench/cpu_info.ts";
import { interleaved, type Timed } from "../bench/interleaved.ts";
import { pairedRatio } from "../bench/paired_ratio.ts";
import { median, spread } from "../bench/spread.ts";
import {
  type JobTrace,
  machineRepeat,
  machineTimed,
  runWholeMachine,
} from "../bench/whole_machine.ts";
import { ReferenceProcess, torchMissing } from "../bench/pytorch.ts";
import { BENCH_MODELS, benchSettings } from "../bench/models.ts";
import { join } from "node:path";
import { REPLICATIONS_DIR } from "../harness/util/paths.ts";
import type { ReplicationModule } from "../harness/plugin.ts";
import { loadSpec } from "../harness/spec/load_spec.ts";
import { autoencoder as convAutoencoder } from "../replications/medium-autoencoder/model.ts";
import { cnn as cnnSgd } from "../replications/cnn-sgd/model.ts";
import { renderBenchPage } from "../bench/page.ts";
import {
  type Bench,
  BenchSchema,
  type KernelProfile,
  type Measurement,
  type Repeat,
} from "../bench/schema.ts";
import { profileStep } from "../bench/kernel_profile.ts";

Deno.test("bench: the dense model on cpu, tiny budget, gives a valid bench.json and page", async () => {
  // Other test modules set their backend up themselves; leave the one found (if any) active.
  const previous: string | undefined = tf.getBackend();
  try {
    await tf.setBackend("cpu");
    const tensors = tf.memory().numTensors;
    const bench = await runBench({
      backends: ["cpu"],
      models: ["keras-dense"],
      timing: { seconds: 0.05, repeats: 3, warmupSteps: 1, maxStepSeconds: 30, seed: 1 },
      vsPytorch: false,
      wholeMachine: false,
      out: "unused",
      quiet: true,
    }, () => {});
    assert.equal(tf.memory().numTensors, tensors, "the cell frees its tensors");
    // What main() writes, read back through the schema.
    const parsed = BenchSchema.parse(JSON.parse(JSON.stringify(bench)));
    assert.equal(parsed.cells.length, 1);
    const cell = parsed.cells[0];
    assert.equal(cell.model, "keras-dense");
    assert.equal(cell.backend, "cpu");
    assert.equal(cell.params, 50890);
    assert.equal(cell.threads, 1);
    for (const m of [cell.train, cell.fit, cell.inference]) {
      assert.equal(m.status, "ok", JSON.stringify(m));
      if (m.status !== "ok") continue;
      assert.equal(m.repeats.length, 3);
      assert.ok(m.repeats.every((r) => r.steps >= 2 && r.samples === r.steps * 32));
      assert.deepEqual(m.samplesPerSecond, spread(m.repeats.map((r) => r.samplesPerSecond)));
    }
    assert.equal(parsed.version, 2);
    assert.equal(parsed.machine.cpu.cores, navigator.hardwareConcurrency);
    assert.ok(parsed.machine.cpu.model.length > 0);
    assert.ok(cell.fitVsStep !== null && cell.fitVsStep > 0);
    // The step's profile: the dense layers' matrix products are among its kernels.
    const profile = cell.profile!;
    assert.ok(profile.calls > 10 && profile.kernelMs > 0, JSON.stringify(profile));
    assert.ok(profile.top.some((k) => /MatMul/.test(k.kernel)), JSON.stringify(profile.top));
    assert.ok(profile.top.every((k, i) => i === 0 || k.ms <= profile.top[i - 1].ms));
    assertShares(profile, 10);
    assert.equal(parsed.pytorch, null);
    assert.deepEqual(parsed.ratios, []);
    assert.equal(parsed.wholeMachine, null);

    const html = await renderBenchPage(parsed);
    assert.ok(html.includes("<svg"), "the chart is inline SVG");
    assert.ok(!/<script|https?:\/\/(?!www\.w3\.org)/i.test(html), "no script, no external URL");
    assert.match(formatSummary(parsed), /keras-dense\s+cpu, 1 thread/);
    assert.match(formatSummary(parsed), /keras-dense on cpu, 1 thread: \d+ kernel calls/);
  } finally {
    if (previous) await tf.setBackend(previous);
  }
});

/**
 * A profile's shares are each listed kernel's part of the kernel time: all of them sum to 1
 * where the list holds every kernel (fewer than `top`), the first `top` to at most 1.
 */
function assertShares(profile: KernelProfile, top: number) {
  const what = JSON.stringify(profile);
  for (const k of profile.top) {
    assert.ok(Math.abs(k.share * profile.kernelMs - k.ms) <= 1e-9 * profile.kernelMs, what);
  }
  const sum = profile.top.reduce((a, k) => a + k.share, 0);
  assert.ok(profile.top.length <= top, what);
  if (profile.top.length < top) assert.ok(Math.abs(sum - 1) < 1e-9, `Σ shares ${sum}: ${what}`);
  else assert.ok(sum <= 1 + 1e-9, `Σ shares ${sum}: ${what}`);
}

Deno.test("bench: a step's profile shares its kernel time out among its kernels", async () => {
  const previous: string | undefined = tf.getBackend();
  try {
    await tf.setBackend("cpu");
    const x = tf.randomUniform([64, 64], 0, 1, "float32", 1);
    const step = () => tf.tidy(() => x.matMul(x).relu().mul(2).sum());
    const all = await profileStep(step, 100);
    assert.ok(all.kernelMs > 0 && all.top.length >= 3, JSON.stringify(all));
    assertShares(all, 100);
    const two = await profileStep(step, 2);
    assert.equal(two.top.length, 2);
    assertShares(two, 2);
    x.dispose();
  } finally {
    if (previous) await tf.setBackend(previous);
  }
});

Deno.test("bench: model builders have the issue's shapes", () => {
  const cnn = cnnSgd(1), ae = convAutoencoder(1);
  try {
    assert.deepEqual(cnn.outputs[0].shape, [null, 10]);
    // 28 -5-> 24 -pool 3-> 8 -2-> 7 -pool 2-> 3: 3·3·64 = 576 inputs to Dense(500)
    assert.equal(cnn.countParams(), 832 + 8256 + 576 * 500 + 500 + 50100 + 1010);
    assert.deepEqual(ae.outputs[0].shape, [null, 28, 28, 1]);
  } finally {
    cnn.dispose();
    ae.dispose();
  }
  assert.deepEqual(BENCH_MODELS.map((m) => [m.name, m.batchSize]), [
    ["keras-dense", 32],
    ["cnn-sgd", 32],
    ["conv-autoencoder", 128],
  ]);
});

Deno.test("bench: each model trains as its replication's protocol does (spec.json's settings)", async () => {
  for (const m of BENCH_MODELS) {
    const { replication, id } = m.protocol;
    const dir = join(REPLICATIONS_DIR, replication);
    const p = (await loadSpec(join(dir, "spec.json"))).protocols.find((q) => q.id === id);
    assert.ok(p?.kind === "layers", `${replication}: ${id}`);
    const module = await import(join(dir, "model.ts")) as ReplicationModule;
    assert.equal(m.build, module.models?.[p.model], `${m.name}: the protocol's model`);
    assert.equal(m.batchSize, p.batchSize, `${m.name}: batch size`);
    assert.equal(m.loss, p.loss, `${m.name}: loss`);
    const o = m.optimizer();
    assert.equal(o.getConfig().learningRate, p.optimizer.learningRate, `${m.name}: learning rate`);
    o.dispose();
  }
  // Another protocol's settings are taken as they are.
  const slides = (await loadSpec(join(REPLICATIONS_DIR, "keras-dense", "spec.json"))).protocols[0];
  assert.ok(slides.kind === "layers");
  const s = benchSettings({
    ...slides,
    optimizer: { name: "sgd", learningRate: 0.05, momentum: 0.5, nesterov: false },
    loss: "binaryCrossentropy",
    batchSize: 64,
  });
  assert.deepEqual([s.optimizerName, s.loss, s.batchSize], [
    "SGD (lr 0.05, momentum 0.5)",
    "binaryCrossentropy",
    64,
  ]);
  const o = s.optimizer();
  assert.deepEqual(o.getConfig(), { learningRate: 0.05, momentum: 0.5, useNesterov: false });
  o.dispose();
  assert.throws(() => benchSettings({ ...slides, loss: "meanSquaredError" }), /cross-entropy/);
});

Deno.test("bench: command line", () => {
  const o = parseBenchArgs(["--backends", "cpu,wasm", "--seconds", "1.5", "--vs-pytorch"]);
  assert.ok(o !== "help");
  assert.deepEqual(o.backends, ["cpu", "wasm"]);
  assert.equal(o.timing.seconds, 1.5);
  assert.equal(o.timing.repeats, 5, "five repeats by default");
  assert.equal(o.vsPytorch, true);
  assert.equal(o.wholeMachine, true, "the whole-machine row by default");
  const off = parseBenchArgs(["--no-whole-machine"]);
  assert.ok(off !== "help" && off.wholeMachine === false);
  assert.throws(() => parseBenchArgs(["--backends", "webgl"]), /unknown webgl/);
  assert.throws(() => parseBenchArgs(["--repeats", "0"]), /positive integer/);
  assert.throws(() => parseBenchArgs(["--backends", "cpu", "--vs-pytorch"]), /add wasm/);
});

Deno.test("bench: an --out it cannot write stops it before measuring (exit 2)", async () => {
  const file = await Deno.makeTempFile();
  try {
    // A folder inside a plain file cannot be created.
    assert.equal(await main(["--out", `${file}/bench`, "--quiet", "--backends", "cpu"]), 2);
  } finally {
    await Deno.remove(file);
  }
});

// --- the CPU -------------------------------------------------------------------------------

const INTEL_CPUINFO = `processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 85
model name\t: Intel(R) Xeon(R) CPU @ 2.00GHz
stepping\t: 3
flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr avx512f

processor\t: 1
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 85
model name\t: Intel(R) Xeon(R) CPU @ 2.00GHz
`;

const AMD_CPUINFO = `processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC 7B13 64-Core Processor
stepping\t: 1
`;

Deno.test("bench: the CPU model is read from /proc/cpuinfo's text", () => {
  assert.deepEqual(parseCpuinfo(INTEL_CPUINFO), {
    model: "Intel(R) Xeon(R) CPU @ 2.00GHz",
    source: '/proc/cpuinfo "model name"',
  });
  assert.equal(parseCpuinfo(AMD_CPUINFO)?.model, "AMD EPYC 7B13 64-Core Processor");
  // No "model name" (some virtual machines), or an empty one: the vendor and family numbers.
  const unnamed = AMD_CPUINFO.replace(/^model name.*\n/m, "");
  assert.deepEqual(parseCpuinfo(unnamed), {
    model: "AuthenticAMD family 25 model 1",
    source: '/proc/cpuinfo "vendor_id", "cpu family" and "model" (no "model name")',
  });
  assert.equal(
    parseCpuinfo(AMD_CPUINFO.replace(/^model name.*$/m, "model name\t:"))?.model,
    "AuthenticAMD family 25 model 1",
  );
  // ARM64 kernels give implementer and part numbers only.
  assert.equal(
    parseCpuinfo("processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n")
      ?.model,
    "ARM implementer 0x41 part 0xd0c",
  );
  assert.equal(parseCpuinfo("processor\t: 0\nflags\t: fpu\n"), null);
  assert.equal(parseCpuinfo(""), null);
});

Deno.test("bench: the CPU falls back to os.cpus(), and is unknown only with the reason", async () => {
  const refused = () => Promise.reject(new Error('Requires all access to "/proc/cpuinfo"'));
  const cores = navigator.hardwareConcurrency;
  assert.deepEqual(
    await cpuInfo({ readTextFile: () => Promise.resolve(AMD_CPUINFO), cpus: () => [] }),
    { model: "AMD EPYC 7B13 64-Core Processor", source: '/proc/cpuinfo "model name"', cores },
  );
  assert.deepEqual(
    await cpuInfo({ readTextFile: refused, cpus: () => [{ model: "AMD EPYC 7B13 " }] }),
    { model: "AMD EPYC 7B13", source: 'node:os cpus(), from /proc/cpuinfo "model name"', cores },
  );
  const unknown = await cpuInfo({ readTextFile: refused, cpus: () => [] });
  assert.equal(unknown.model, "unknown");
  assert.match(unknown.source, /\/proc\/cpuinfo not read: Requires all access.*no model/);
  const nothing = await cpuInfo({
    readTextFile: () => Promise.resolve("processor\t: 0\n"),
    cpus: () => {
      throw new Error('Requires sys access to "cpus"');
    },
  });
  assert.equal(nothing.model, "unknown");
  assert.match(nothing.source, /names no model.*os\.cpus\(\) failed: Requires sys access/);
});

// --- repeats, turns and ratios --------------------------------------------------------------

Deno.test("bench: min, median and max of the repeats", () => {
  assert.deepEqual(spread([30, 10, 20, 50, 40]), { min: 10, median: 30, max: 50 });
  assert.deepEqual(spread([4, 1, 3, 2]), { min: 1, median: 2.5, max: 4 });
  assert.deepEqual(spread([7]), { min: 7, median: 7, max: 7 });
  assert.equal(median([3, 1, 2]), 2);
  assert.throws(() => spread([]), /no values/);
});

/** A runner that records its calls in `calls` and reports `rates`, one a repeat. */
function fakeTimed(name: string, calls: string[], rates: number[]): Timed<Repeat> {
  let r = 0;
  return {
    warmup() {
      calls.push(`${name} warm-up`);
      return Promise.resolve(1);
    },
    repeat() {
      calls.push(`${name} ${r + 1}`);
      const sps = rates[r++ % rates.length];
      if (!(sps > 0)) return Promise.reject(new Error(`${name} broke`));
      return Promise.resolve({ steps: 2, samples: 64, seconds: 64 / sps, samplesPerSecond: sps });
    },
  };
}

Deno.test("bench: measurements take turns, repeat by repeat", async () => {
  const calls: string[] = [], progress: string[] = [];
  const skipped: Measurement = { status: "skipped", reason: "slow", estimatedSamplesPerSecond: 1 };
  const turn = (what: string, timed: Timed<Repeat> | Measurement) => ({
    what,
    progress: (msg: string) => progress.push(`${what}: ${msg}`),
    timed,
  });
  const out = await interleaved<Repeat, Measurement>([
    turn("tfjs", fakeTimed("tfjs", calls, [10, 30, 20])),
    turn("pytorch", fakeTimed("pytorch", calls, [5, 5, 10])),
    turn("broken", fakeTimed("broken", calls, [1, NaN])),
    turn("skipped", skipped),
  ], 3);
  assert.deepEqual(calls, [
    "tfjs warm-up",
    "pytorch warm-up",
    "broken warm-up",
    "tfjs 1",
    "pytorch 1",
    "broken 1",
    "tfjs 2",
    "pytorch 2",
    "broken 2", // fails here and takes no more turns
    "tfjs 3",
    "pytorch 3",
  ]);
  assert.ok(out[0].status === "ok" && out[1].status === "ok");
  assert.deepEqual(out[0].samplesPerSecond, { min: 10, median: 20, max: 30 });
  assert.deepEqual(out[1].samplesPerSecond, { min: 5, median: 5, max: 10 });
  assert.deepEqual(out[2], { status: "error", error: "broken broke" });
  assert.equal(out[3], skipped);
  assert.ok(progress.includes("broken: broken failed: broken broke"));

  // The ratio: of the medians, and the range of the rounds' ratios (10/5, 30/5, 20/10).
  const ratio = pairedRatio("m", "wasm, 1 thread", "PyTorch, 2 threads", out[0], out[1] as never);
  assert.deepEqual(ratio, {
    model: "m",
    tfjs: "wasm, 1 thread",
    pytorch: "PyTorch, 2 threads",
    tfjsSamplesPerSecond: 20,
    pytorchSamplesPerSecond: 5,
    ratio: 4,
    pairs: { min: 2, median: 2, max: 6, count: 3 },
  });
  assert.equal(pairedRatio("m", "a", "b", out[0], out[2]), null);
  assert.equal(pairedRatio("m", "a", "b", out[0], null), null);
});

Deno.test("bench: a cell times the runner beside it in turns with its step, fit and inference", async () => {
  const previous: string | undefined = tf.getBackend();
  try {
    await tf.setBackend("cpu");
    const log: string[] = [];
    const beside: Beside = {
      name: "fake",
      train: fakeTimed("fake train", log, [100, 300, 200]),
      inference: fakeTimed("fake inference", log, [1000]),
    };
    const run = await runCell(
      BENCH_MODELS[0],
      {
        name: "cpu",
        available: true,
        adapter: null,
        softwareAdapter: null,
        threads: 1,
        note: null,
      },
      { seconds: 0.02, repeats: 3, warmupSteps: 1, maxStepSeconds: 30, seed: 1 },
      (msg) => log.push(msg),
      beside,
    );
    // The cell's own progress lines ("[cpu] keras-dense train: repeat 1/3: …") and the fake's calls.
    const order = log.flatMap((line) => {
      if (line.startsWith("[fake]")) return [];
      const m = line.match(/^\[cpu\] keras-dense (\w+): (warm-up|repeat (\d)\/3)/);
      if (m) return [`${m[1]} ${m[3] ?? "warm-up"}`];
      return line.startsWith("fake") ? [line] : [];
    });
    assert.deepEqual(order, [
      "train warm-up",
      "fit warm-up",
      "fake train warm-up",
      ...[1, 2, 3].flatMap((r) => [`train ${r}`, `fit ${r}`, `fake train ${r}`]),
      "inference warm-up",
      "fake inference warm-up",
      ...[1, 2, 3].flatMap((r) => [`inference ${r}`, `fake inference ${r}`]),
    ]);
    assert.equal(run.cell.train.status, "ok");
    const train = run.beside?.train;
    assert.ok(train?.status === "ok");
    assert.deepEqual(train.samplesPerSecond, { min: 100, median: 200, max: 300 });
    assert.equal(run.beside?.inference.status, "ok");
  } finally {
    if (previous) await tf.setBackend(previous);
  }
});

// --- the whole machine ----------------------------------------------------------------------

Deno.test("bench: the whole machine's samples/s is every job's over the interval all trained", () => {
  // Job A: 10 steps a second from t = 0 to 3; job B: 5 a second from t = 0.5 to 3.5.
  const a: JobTrace = { start: 0, marks: [[1, 10], [2, 20], [3, 30]] };
  const b: JobTrace = { start: 0.5, marks: [[1.5, 5], [2.5, 10], [3.5, 15]] };
  // Together from 0.5 to 3: A does 30 - 5 = 25 steps, B 12.5 (its last step counted in half).
  assert.deepEqual(machineRepeat([a, b], 32), {
    jobs: 2,
    seconds: 2.5,
    samples: 37.5 * 32,
    samplesPerSecond: 37.5 * 32 / 2.5,
    jobSteps: [30, 15],
  });
  // One job: its own rate.
  assert.equal(machineRepeat([a], 1).samplesPerSecond, 10);
  assert.throws(
    () => machineRepeat([a, { start: 3.2, marks: [[4, 2]] }], 32),
    /never trained at the same time/,
  );
  assert.throws(() => machineRepeat([a, { start: 0, marks: [] }], 32), /without a step/);
});

Deno.test("bench: the whole machine's jobs warm up and repeat all at once", async () => {
  const events: string[] = [];
  let release = () => {};
  const together = new Promise<void>((r) => release = r);
  // Run one after the other, the first job would wait for the second until this timer.
  const timer = setTimeout(() => release(), 2000);
  let started = 0;
  const job = (j: number) => ({
    warmup: () => Promise.resolve(2 + j),
    async repeat(): Promise<JobTrace> {
      events.push(`start ${j}`);
      if (++started === 2) release();
      await together;
      events.push(`end ${j}`);
      return { start: 0, marks: [[1, 10 * (j + 1)]] };
    },
  });
  try {
    const timed = machineTimed([job(0), job(1)], 4);
    assert.equal(await timed.warmup(), 2, "the fewest warm-up steps of any job");
    const rep = await timed.repeat();
    assert.deepEqual(events.slice(0, 2), ["start 0", "start 1"]);
    assert.equal(rep.samplesPerSecond, 120);
  } finally {
    clearTimeout(timer);
  }
});

Deno.test("bench: whole-machine row: tfjs workers and PyTorch's jobs in turns, and their ratio", async () => {
  const log: string[] = [];
  const rates = [[40, 80], [60, 60]]; // per PyTorch job, samples/s a round: 100 and 140 in all
  const fakeProcess = (j: number) => ({
    prepare: (model: string, what: string, seed: number) => {
      log.push(`pytorch prepare ${model} ${what} seed ${seed}`);
      let r = 0;
      return Promise.resolve({
        params: 1,
        batchSize: 32,
        timed: fakeTimed("unused", log, [1]),
        job: {
          warmup: () => Promise.resolve(2),
          repeat(): Promise<JobTrace> {
            if (j === 0) log.push(`pytorch round ${r + 1}`);
            const perStep = 32 / rates[j][r++];
            return Promise.resolve({ start: 0, marks: [[perStep, 1], [2 * perStep, 2]] });
          },
        },
      });
    },
    close: () => Promise.resolve(),
  });
  let j = 0;
  const w = await runWholeMachine([BENCH_MODELS[0]], {
    jobs: 2,
    timing: { seconds: 0.05, repeats: 2, warmupSteps: 1, maxStepSeconds: 30, seed: 3 },
    pytorch: () => Promise.resolve(fakeProcess(j++) as unknown as ReferenceProcess),
    pytorchNote: null,
    onProgress: (msg) => log.push(msg),
  });
  assert.equal(w.jobs, 2);
  const [row] = w.rows;
  assert.ok(row.tfjs.status === "ok", JSON.stringify(row.tfjs));
  assert.equal(row.tfjs.repeats.length, 2);
  for (const rep of row.tfjs.repeats) {
    assert.equal(rep.jobs, 2);
    assert.equal(rep.jobSteps.length, 2);
    assert.ok(rep.jobSteps.every((s) => s >= 2), JSON.stringify(rep));
  }
  assert.ok(row.pytorch?.status === "ok");
  const { min, median, max } = row.pytorch.samplesPerSecond;
  assert.deepEqual([min, median, max].map((x) => +x.toFixed(9)), [100, 120, 140]);
  assert.equal(row.ratio?.pairs.count, 2);
  assert.equal(row.ratio?.pytorch, "2 processes × 1 thread");
  // Each job seeded apart; tfjs round r, then PyTorch round r.
  assert.deepEqual(log.filter((l) => l.startsWith("pytorch prepare")).sort(), [
    "pytorch prepare keras-dense train seed 3",
    "pytorch prepare keras-dense train seed 4",
  ]);
  const rounds = log.flatMap((l) =>
    l.startsWith("pytorch round")
      ? [l]
      : /^\[whole machine, 2 jobs × wasm, 1 thread\] keras-dense train: repeat (\d)/.test(l)
      ? [`tfjs round ${l.match(/repeat (\d)/)![1]}`]
      : []
  );
  assert.deepEqual(rounds, ["tfjs round 1", "pytorch round 1", "tfjs round 2", "pytorch round 2"]);
});

const NO_TORCH = await torchMissing();

Deno.test({
  name: "bench: reference.py sets up, warms up and times a model on request",
  ignore: NO_TORCH !== null,
  async fn() {
    const p = new ReferenceProcess(1, { seconds: 0.05, warmupSteps: 1 });
    try {
      assert.equal((await p.info()).threads, 1);
      const m = await p.prepare("keras-dense", "train", 1);
      assert.equal(m.params, 50890, "the same weights as tfjs' keras-dense");
      assert.equal(m.batchSize, 32);
      assert.equal(await m.timed.warmup(), 1);
      const rep = await m.timed.repeat();
      assert.ok(rep.steps >= 2 && rep.samples === rep.steps * 32, JSON.stringify(rep));
      assert.deepEqual(Object.keys(rep).sort(), [
        "samples",
        "samplesPerSecond",
        "seconds",
        "steps",
      ]);
      const trace = await m.job.repeat();
      assert.ok(trace.marks.length >= 2 && trace.marks[0][0] >= trace.start);
      assert.ok(
        trace.marks.every(([t, s], i) => i === 0 || t >= trace.marks[i - 1][0] && s === i + 1),
      );
      await assert.rejects(p.prepare("nope", "train", 1), /unknown model 'nope'/);
      assert.equal((await p.prepare("conv-autoencoder", "inference", 1)).batchSize, 128);
    } finally {
      await p.close();
    }
  },
});

// --- the record, the summary and the page --------------------------------------------------

function ok(rates: number[]): Extract<Measurement, { status: "ok" }> {
  return {
    status: "ok",
    warmupSeconds: 0.5,
    warmupSteps: 2,
    repeats: rates.map((sps) => ({
      steps: 2,
      samples: 64,
      seconds: 64 / sps,
      samplesPerSecond: sps,
    })),
    samplesPerSecond: spread(rates),
  };
}

/** A small v2 record: keras-dense on wasm beside PyTorch, and the whole-machine row. */
function sampleBench(): Bench {
  const train = ok([900, 1000, 1100]), pytorchTrain = ok([450, 500, 440]);
  const machine = (rates: number[]) => ({
    ...ok(rates),
    repeats: rates.map((sps) => ({
      jobs: 2,
      seconds: 1,
      samples: sps,
      samplesPerSecond: sps,
      jobSteps: [10, 11],
    })),
  });
  const tfjsMachine = machine([1800, 2000, 1900]), pytorchMachine = machine([1000, 950, 1000]);
  return {
    kind: "claimcheck-bench",
    version: 2,
    timestamp: "2026-12-07T00:00:00.000Z",
    commit: null,
    machine: {
      deno: "2",
      v8: "1",
      typescript: "5",
      os: "linux",
      arch: "x86_64",
      osRelease: null,
      cpu: { model: "Intel(R) Xeon(R) CPU @ 2.00GHz", source: "test", cores: 2 },
      loadAverageStart: null,
      loadAverageEnd: null,
    },
    settings: {
      backends: ["wasm"],
      models: ["keras-dense"],
      seconds: 1,
      maxStepSeconds: 30,
      repeats: 3,
      warmupSteps: 2,
      seed: 1,
      wasmThreads: 1,
      vsPytorch: true,
      wholeMachine: true,
    },
    models: [{
      name: "keras-dense",
      description: "d",
      optimizer: "Adam",
      loss: "categoricalCrossentropy",
      batchSize: 32,
    }],
    backends: [{
      name: "wasm",
      available: true,
      adapter: null,
      softwareAdapter: null,
      threads: 1,
      note: null,
    }],
    cells: [{
      model: "keras-dense",
      backend: "wasm",
      adapter: null,
      softwareAdapter: null,
      threads: 1,
      batchSize: 32,
      params: 50890,
      train,
      fit: ok([500, 600, 700]),
      inference: ok([9000, 10000, 11000]),
      fitVsStep: 0.6,
      profile: null,
      loadAverage: null,
      seconds: 10,
    }],
    pytorch: {
      status: "ok",
      python: "3.11",
      torch: "1.13",
      threads: 2,
      blas: { buildInfo: null, loadedLibraries: [], alternative: null, summary: "OpenBLAS" },
      models: [{
        model: "keras-dense",
        batchSize: 32,
        params: 50890,
        train: pytorchTrain,
        inference: ok([20000, 21000, 22000]),
      }],
    },
    ratios: [
      pairedRatio("keras-dense", "wasm, 1 thread", "PyTorch, 2 threads", train, pytorchTrain)!,
    ],
    wholeMachine: {
      jobs: 2,
      threadsPerJob: 1,
      pytorchNote: null,
      rows: [{
        model: "keras-dense",
        batchSize: 32,
        tfjs: tfjsMachine,
        pytorch: pytorchMachine,
        ratio: pairedRatio("keras-dense", "2 jobs", "2 processes", tfjsMachine, pytorchMachine),
      }],
    },
    seconds: 60,
  };
}

Deno.test("bench: bench.json v2 keeps min, median and max; a v1 file does not pass", () => {
  const bench = sampleBench();
  assert.deepEqual(BenchSchema.parse(JSON.parse(JSON.stringify(bench))), bench);
  assert.throws(() => BenchSchema.parse({ ...bench, version: 1 }));
  // Version 1's measurements kept the median alone.
  const [cell] = bench.cells;
  const median = { ...cell, train: { ...cell.train, samplesPerSecond: 1000 } };
  assert.throws(() => BenchSchema.parse({ ...bench, cells: [median] }));
  const noCpu = { ...bench, machine: { ...bench.machine, cpu: "AMD EPYC" } };
  assert.throws(() => BenchSchema.parse(noCpu));
});

Deno.test("bench: the summary and the page name the CPU and show min / median / max and ratios", async () => {
  const bench = sampleBench();
  const text = formatSummary(bench);
  const lines = text.split("\n");
  assert.equal(lines[0], "CPU: Intel(R) Xeon(R) CPU @ 2.00GHz (test); 2 logical cores");
  assert.match(text, /median \[min–max\] of 3 repeats/);
  assert.match(
    text,
    /keras-dense\s+wasm, 1 thread\s+1,000 \[900–1,100\]\s+0\.50s\s+600 \[500–700\]/,
  );
  assert.match(text, /keras-dense\s+PyTorch, 2 threads\s+450 \[440–500\]/);
  // Ratio of the medians 1000 / 450; rounds 900/450, 1000/500, 1100/440.
  assert.match(
    text,
    /keras-dense\s+wasm, 1 thread\s+PyTorch, 2 threads\s+1,000\s+450\s+2\.222\s+2\.000–2\.500/,
  );
  assert.match(text, /whole machine: 2 jobs/);
  assert.match(
    text,
    /keras-dense\s+1,900 \[1,800–2,000\]\s+1,000 \[950–1,000\]\s+1\.900\s+1\.800–2\.105/,
  );

  const html = await renderBenchPage(bench);
  assert.ok(html.includes("<strong>Intel(R) Xeon(R) CPU @ 2.00GHz</strong>, 2 logical cores"));
  assert.ok(html.includes("min 900, max 1,100"));
  assert.ok(html.includes("<h2>Whole machine</h2>"));
  assert.ok(html.includes("rounds 2.000–2.500 (3)"));
  assert.ok(html.includes("2 jobs × wasm, 1 thread"));
});
