/**
 * Results that cannot mix or lie: runs are keyed by the content of the code that made them
 * (an edited model.ts never mixes with its old runs), stored claims must be what the runs give
 * (report and verify recompute them), and a rerun of a stored seed that gives other numbers is
 * said, not written over quietly.
 */
import assert from "assert";
import { join } from "node:path";
import { newReplication } from "../harness/commands/new.ts";
import { REPORTS_DIR } from "../harness/util/paths.ts";
import { loadResults } from "../harness/results/result.ts";
import { runTask } from "./_task_cli.ts";

/** A one-epoch, 100-step copy of the template under a scratch folder inside reports/. */
async function probe(): Promise<{ root: string; reps: string; out: string; model: string }> {
  await Deno.mkdir(REPORTS_DIR, { recursive: true });
  const root = await Deno.makeTempDir({ dir: REPORTS_DIR, prefix: ".test-" });
  const reps = join(root, "reps"), out = join(root, "out");
  const folder = await newReplication("probe", reps);
  const specFile = join(folder, "spec.json");
  const spec = JSON.parse(await Deno.readTextFile(specFile));
  Object.assign(spec.protocols[0], { batchSize: 600, epochs: 1 });
  await Deno.writeTextFile(specFile, JSON.stringify(spec, null, 2));
  return { root, reps, out, model: join(folder, "model.ts") };
}

/** Gives the model a bias drawn from outside any seed: the same seed gives other numbers each time. */
async function unseed(model: string): Promise<void> {
  const text = await Deno.readTextFile(model);
  await Deno.writeTextFile(
    model,
    text.replace(
      'units: 64, activation: "relu",',
      'units: 64, activation: "relu", biasInitializer: tf.initializers.constant({ ' +
        "value: crypto.getRandomValues(new Uint32Array(1))[0] / 2 ** 32 }),",
    ),
  );
}

const replicate = (p: { reps: string; out: string }, ...args: string[]) =>
  runTask("replicate", "replicate", "probe", "--replications", p.reps, "--out", p.out, ...args);

Deno.test("an edited model.ts makes new runs that never mix with the old ones", async () => {
  const p = await probe();
  const first = await replicate(p, "--seeds", "1");
  assert.equal(first.code, 0, first.stderr);
  const before = await loadResults(join(p.out, "probe", "results.json"));
  assert.match(before.code!.sha256, /^[0-9a-f]{64}$/);
  assert.ok(before.code!.files.includes("replication:model.ts"));

  // Another hidden layer's width: the folder is untracked, so the commit cannot tell.
  const text = await Deno.readTextFile(p.model);
  await Deno.writeTextFile(p.model, text.replace("units: 64", "units: 8"));
  const second = await replicate(p, "--seed", "2", "--seeds", "1");
  assert.equal(second.code, 0, second.stderr);
  const after = await loadResults(join(p.out, "probe", "results.json"));
  assert.notEqual(after.code!.sha256, before.code!.sha256);
  assert.deepEqual(after.runs.map((r) => r.seed), [2], "a run of the old model.ts was merged");
  assert.deepEqual(after.claims[0].seeds, [2]);
  assert.match(second.stderr, /moved the previous .*results\.json to .*history/);

  // --resume takes no run of the old model.ts either.
  const resumed = await replicate(p, "--seeds", "1,2", "--resume");
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resume: 1 of 2 run\(s\) already done/);
  await Deno.remove(p.root, { recursive: true });
});

Deno.test("report and verify derive claims from the runs: an edited claim or run is an error", async () => {
  const p = await probe();
  const r = await replicate(p, "--seeds", "1");
  assert.equal(r.code, 0, r.stderr);
  const file = join(p.out, "probe", "results.json");
  const honest = await Deno.readTextFile(file);
  const report = () => runTask("report", "report", "--out", p.out, "--replications", p.reps);
  assert.equal((await report()).code, 0);

  // A claim edited to look reproduced.
  const results = JSON.parse(honest);
  results.claims[0] = { ...results.claims[0], mean: 0.99, verdict: "reproduced" };
  await Deno.writeTextFile(file, JSON.stringify(results));
  const edited = await report();
  assert.equal(edited.code, 1, edited.stderr);
  assert.match(
    edited.stderr,
    /claims\.0 \(test-acc\): stored mean 0\.99 over 1 run\(s\), reproduced; its runs give mean 0\.\d+/,
  );
  const verify = await runTask(
    "verify",
    "verify",
    file,
    "--seed",
    "1",
    "--replications",
    p.reps,
  );
  assert.equal(verify.code, 1, verify.stderr);
  assert.match(verify.stdout, /the stored claims disagree with the recorded runs: claims\.0/);
  assert.match(verify.stdout, /not verified: 0 field\(s\) differ, 1 stored claim\(s\) are not/);

  // Runs edited under unchanged claims: the badge and scoreboard must not keep the old number.
  const runs = JSON.parse(honest);
  for (const run of runs.runs) for (const e of run.epochs) e.metrics.test_acc = 0.1;
  await Deno.writeTextFile(file, JSON.stringify(runs));
  const lowered = await report();
  assert.equal(lowered.code, 1, lowered.stderr);
  assert.match(lowered.stderr, /its runs give mean 0\.1 over 1 run\(s\), not reproduced/);
  const index = await Deno.readTextFile(join(p.out, "index.html"));
  assert.doesNotMatch(index, new RegExp(results.claims[0].mean.toFixed(4)));
  await Deno.remove(p.root, { recursive: true });
});

Deno.test("a rerun of a stored seed that gives other numbers says so and keeps both", async () => {
  const p = await probe();
  await unseed(p.model);
  const first = await replicate(p, "--seeds", "1");
  assert.equal(first.code, 0, first.stderr);
  const again = await replicate(p, "--seeds", "1");
  assert.equal(again.code, 1, again.stderr);
  assert.match(again.stderr, /not deterministic: probe stated seed 1 gave other numbers/);
  const results = await loadResults(join(p.out, "probe", "results.json"));
  assert.equal(results.rerunsDiffer?.length, 1);
  const kept = await loadResults(join(p.out, "probe", "results.json")).then(() =>
    Deno.readTextFile(results.rerunsDiffer![0].kept)
  );
  assert.notEqual(
    JSON.parse(kept).run.epochs[0].metrics.test_loss,
    results.runs[0].epochs[0].metrics.test_loss,
  );
  await Deno.remove(p.root, { recursive: true });
});

Deno.test("--check-determinism trains a short rerun twice first: unseeded randomness is named, not trained", async () => {
  const p = await probe();
  const clean = await replicate(p, "--seeds", "1", "--check-determinism");
  assert.equal(clean.code, 0, clean.stderr);
  assert.match(
    clean.stderr,
    /determinism: probe stated seed 1, trained twice \(--epochs 1; layers protocols on the first 256 training images, tested on the first 1,000\): all \d+ fields identical/,
  );
  await Deno.remove(p.out, { recursive: true });
  await unseed(p.model);
  const unseeded = await replicate(p, "--seeds", "1", "--check-determinism");
  assert.equal(unseeded.code, 1, unseeded.stderr);
  assert.match(
    unseeded.stderr,
    /not deterministic: probe stated seed 1, trained twice .* gave other numbers: stated epoch1\.train_loss [\d.]+ → [\d.]+;/,
  );
  assert.match(unseeded.stderr, /failed: probe: not trained, its --check-determinism probe/);
  const written = await Array.fromAsync(Deno.readDir(join(p.out, "probe"))).catch(() => []);
  assert.deepEqual(written, [], "a replication that failed the probe wrote results");
  await Deno.remove(p.root, { recursive: true });
});
