import assert from "assert";
import { fileURLToPath } from "node:url";
import { setupBackend } from "../harness/backend/backend.ts";
import { loadReplication } from "../harness/replications.ts";
import { replicate } from "../harness/pipeline/replicate.ts";
import type { Results } from "../harness/results/result.ts";
import { probeDeterminism, probeText } from "../harness/train/determinism.ts";
import { runGrid, runJobs } from "../harness/train/plan.ts";
import { runJob, Trainer } from "../harness/train/trainer.ts";
import type { Run } from "../harness/results/result.ts";
import { scratchReplication } from "./_scratch_replication.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/replications", import.meta.url));

/** Everything a rerun measures except wall-clock times. */
function metrics(r: Results) {
  return r.runs.map((run) => ({
    seed: run.seed,
    params: run.params,
    epochs: run.epochs.map(({ seconds: _s, evalSeconds: _e, ...m }) => m),
  }));
}

Deno.test("same seed and backend give the same metrics; another seed does not", async () => {
  const backend = await setupBackend("wasm");
  const rep = await loadReplication("keras-dense");
  const opts = { protocols: ["slides"], epochs: 2, trainLimit: 3000, backend, command: "test" };
  const a = await replicate(rep, { ...opts, seeds: [7] });
  const b = await replicate(rep, { ...opts, seeds: [7] });
  const c = await replicate(rep, { ...opts, seeds: [8] });
  assert.deepEqual(metrics(a), metrics(b));
  assert.notDeepEqual(metrics(a)[0].epochs, metrics(c)[0].epochs);
  assert.ok(a.deviations.some((d) => d.includes("first 3000 training images")));
});

Deno.test("--jobs 2 (workers) gives the same runs as one process", async () => {
  const backend = await setupBackend("wasm");
  const rep = await loadReplication("keras-dense");
  const opts = {
    seeds: [3, 4],
    protocols: ["slides"],
    epochs: 1,
    trainLimit: 2000,
    backend,
    command: "test",
    data: { dataDir: Deno.env.get("CLAIMCHECK_DATA_DIR") },
  };
  const sequential = await replicate(rep, opts);
  const parallel = await replicate(rep, { ...opts, jobs: 2 });
  assert.deepEqual(metrics(parallel), metrics(sequential));
  assert.deepEqual(parallel.runs.map((r) => r.seed), [3, 4]);
});

Deno.test("the determinism probe names what unseeded randomness changes, and passes random layers", async () => {
  await setupBackend("wasm");
  const data = { dataDir: Deno.env.get("CLAIMCHECK_DATA_DIR") };
  const dir = await Deno.makeTempDir();
  // The builder draws its seed from outside the run's seed.
  await scratchReplication(dir, "unseeded", {
    inBuilder: "seed = crypto.getRandomValues(new Uint32Array(1))[0];",
  });
  const unseeded = await probeDeterminism(await loadReplication("unseeded", dir), { data });
  await Deno.remove(dir, { recursive: true });
  assert.deepEqual(unseeded.tasks, [{ protocol: "ok", seed: 1 }]);
  assert.ok(unseeded.differences.some((d) => /^ok epoch1\.train_loss \S+ → \S+$/.test(d)));
  assert.ok(unseeded.differences.some((d) => d.startsWith("ok final.test_acc ")));
  assert.match(probeText(unseeded), /^not deterministic: unseeded ok seed 1, trained twice/);

  // Every random layer of tfjs-layers, an augmentation and a custom trainer's draws, unseeded
  // in model.ts: the harness seeds them, so the probe finds nothing.
  const random = await probeDeterminism(await loadReplication("random-layers", FIXTURES), { data });
  assert.deepEqual(random.tasks.map((t) => t.protocol), [
    "dropout",
    "spatial-dropout-1d",
    "gaussian-noise",
    "gaussian-dropout",
    "alpha-dropout",
    "augmentation",
    "random-normal",
  ]);
  assert.deepEqual(random.failures, []);
  assert.deepEqual(random.differences, []);
  assert.ok(random.compared > 7 * 10);
});

Deno.test("random layers draw the same on a worker as in this process", async () => {
  const backend = await setupBackend("wasm");
  const rep = await loadReplication("random-layers", FIXTURES);
  const opts = {
    seeds: [1],
    protocols: ["dropout", "random-normal"],
    epochs: 2,
    trainLimit: 32,
    backend,
    command: "test",
    data: { dataDir: Deno.env.get("CLAIMCHECK_DATA_DIR") },
  };
  const here = await replicate(rep, opts);
  const worker = await replicate(rep, { ...opts, jobs: 1 });
  assert.deepEqual(metrics(worker), metrics(here));
  assert.deepEqual(worker.runs.map((r) => r.artifacts), here.runs.map((r) => r.artifacts));
});

Deno.test("a test limit scores the first N test images, or examples of a derived dataset", async () => {
  await setupBackend("wasm");
  const data = { dataDir: Deno.env.get("CLAIMCHECK_DATA_DIR") };
  const dir = await Deno.makeTempDir();
  await scratchReplication(dir, "images");
  const reps = [await loadReplication("images", dir), await loadReplication("pairs", FIXTURES)];
  await Deno.remove(dir, { recursive: true });
  for (const rep of reps) {
    // 7 is prime to the 10,000 (and 1,000) test examples: only a limit of 7 makes every
    // accuracy a multiple of 1/7.
    const trainer = new Trainer(rep, { data, epochs: 1, trainLimit: 256, testLimit: 7 });
    const runs: Run[] = [];
    try {
      for (const job of runJobs(rep.spec, runGrid(rep.spec, [1]))) {
        await runJob(trainer, job, {
          onRun: (r) => void runs.push(r),
          onFailure: (f) => assert.fail(f.error),
        });
      }
    } finally {
      trainer.dispose();
    }
    const accuracies = Object.entries(runs[0].epochs[0].metrics)
      .filter(([name]) => name.startsWith("test_acc"));
    assert.ok(accuracies.length > 0, rep.name);
    for (const [name, acc] of accuracies) {
      const sevenths = (acc as number) * 7;
      assert.ok(Math.abs(sevenths - Math.round(sevenths)) < 1e-6, `${rep.name} ${name} ${acc}`);
    }
  }
});
