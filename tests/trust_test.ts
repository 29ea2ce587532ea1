/**
 * Trust: a spec typo, a bad seed list or an unwritable --out fails before training; a failing
 * or crashing run fails alone; SIGINT keeps finished runs and --resume trains only the rest; two
 * processes writing one replication keep each other's runs; a git failure is recorded as such;
 * a batch larger than the data is clipped and said, a constant model is flagged beside its verdict.
 */
import assert from "assert";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setupBackend } from "../harness/backend/backend.ts";
import { newReplication } from "../harness/commands/new.ts";
import { loadReplication } from "../harness/replications.ts";
import { claimsTable } from "../harness/commands/_claims_table.ts";
import { renderReplicationPage } from "../harness/report/report.ts";
import { REPORTS_DIR } from "../harness/util/paths.ts";
import { loadResults } from "../harness/results/result.ts";
import { RunStore } from "../harness/results/run_store.ts";
import { replicate } from "../harness/pipeline/replicate.ts";
import { runTask, taskCommand } from "./_task_cli.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/replications", import.meta.url));

/** The CLI with the replicate task's permissions, from the project root (its paths are relative). */
const cliCommand = (args: string[]) => taskCommand("replicate", args);

/** A scratch --out inside reports/, the one folder the replicate task may write. */
async function scratchOut(): Promise<string> {
  await Deno.mkdir(REPORTS_DIR, { recursive: true });
  return await Deno.makeTempDir({ dir: REPORTS_DIR, prefix: ".test-" });
}

const cli = (...args: string[]) => runTask("replicate", ...args);

Deno.test("a misspelled spec key fails before training, naming it and the likely key", async () => {
  const dir = await Deno.makeTempDir();
  const folder = await newReplication("typo", dir);
  const file = join(folder, "spec.json");
  const spec = JSON.parse(await Deno.readTextFile(file));
  spec.protocols[0].exploritory = true;
  spec.claims[0].twosided = true;
  await Deno.writeTextFile(file, JSON.stringify(spec));
  const r = await cli("replicate", "typo", "--replications", dir, "--out", join(dir, "out"));
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /protocols\.0: unknown key "exploritory" \(did you mean "exploratory"\?\)/,
  );
  assert.match(r.stderr, /claims\.0: unknown key "twosided" \(did you mean "twoSided"\?\)/);
  assert.doesNotMatch(r.stderr, /backend:/, "it got as far as setting up a backend");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("an --out that cannot be written is a usage error before any training", async () => {
  const dir = await Deno.makeTempDir();
  const blocker = join(dir, "file");
  await Deno.writeTextFile(blocker, "not a folder");
  const r = await cli("replicate", "keras-dense", "--out", join(blocker, "reports"));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--out: cannot write to .*file\/reports/);
  assert.doesNotMatch(r.stderr, /backend:/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a run that throws, and one that kills its worker, fail alone", async () => {
  const rep = await loadReplication("fails", FIXTURES);
  const dir = await Deno.makeTempDir();
  const store = new RunStore(dir, "train-512");
  const results = await replicate(rep, {
    seeds: [1],
    protocols: ["ok", "throws", "crashes"],
    trainLimit: 512,
    jobs: 2,
    backend: await setupBackend("wasm"),
    command: "test",
    store,
  });
  assert.deepEqual(results.runs.map((r) => r.protocol), ["ok"]);
  assert.deepEqual([...Deno.readDirSync(store.dir)].map((e) => e.name), ["ok.seed-1.json"]);
  const failed = Object.fromEntries((results.failures ?? []).map((f) => [f.protocol, f.error]));
  assert.match(failed.throws, /deliberate failure in the model builder/);
  assert.match(failed.crashes, /run worker crashed: .*deliberate crash outside any promise/);
  assert.equal(results.claims.find((c) => c.id === "acc")?.values.length, 1);
  assert.ok(results.deviations.some((d) => /throws seed 1 failed/.test(d)));
  await Deno.remove(dir, { recursive: true });
});

/** Waits until `file` exists (polling), or fails after `seconds`. */
async function appears(file: string, seconds: number): Promise<void> {
  for (let t = 0; t < seconds * 10; t++) {
    if (await Deno.stat(file).then(() => true, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${file} did not appear within ${seconds} s`);
}

const SMOKE = ["--protocols", "slides", "--epochs", "1", "--jobs", "1", "--quiet"];

Deno.test("SIGINT keeps the finished run in a valid results file; --resume trains the rest", async () => {
  const out = await scratchOut();
  const args = ["replicate", "keras-dense", "--seeds", "2", ...SMOKE, "--out", out];
  const child = cliCommand(args).spawn();
  await appears(join(out, "keras-dense", "runs.epochs-1", "slides.seed-1.json"), 300);
  // Twice at once, as Ctrl-C under `deno task` arrives (terminal + the task runner forwarding).
  child.kill("SIGINT");
  child.kill("SIGINT");
  const stopped = await child.output();
  const stderr = new TextDecoder().decode(stopped.stderr);
  assert.equal(stopped.code, 130, stderr);
  assert.match(stderr, /--resume/);
  const file = join(out, "keras-dense", "results.epochs-1.json");
  const partial = await loadResults(file);
  assert.deepEqual(partial.runs.map((r) => r.seed), [1]);
  assert.deepEqual(partial.interrupted, {
    signal: "SIGINT",
    unfinished: [{ protocol: "slides", seed: 2 }],
  });
  assert.ok(await Deno.stat(join(out, "keras-dense", "index.epochs-1.html")));

  const resumed = await cli(...args, "--resume");
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resume: 1 of 2 run\(s\) already done/);
  const full = await loadResults(file);
  assert.deepEqual(full.runs.map((r) => r.seed), [1, 2]);
  assert.equal(full.interrupted, undefined);
  // The run taken from disk is the one the interrupted process trained, unchanged.
  assert.deepEqual(full.runs[0], partial.runs[0]);
  await Deno.remove(out, { recursive: true });
});

Deno.test("two processes writing one replication keep each other's runs", async () => {
  const out = await scratchOut();
  const [a, b] = await Promise.all([
    cliCommand(["replicate", "keras-dense", "--seeds", "1", ...SMOKE, "--out", out]).output(),
    cliCommand(["replicate", "keras-dense", "--seeds", "2,3", ...SMOKE, "--out", out]).output(),
  ]);
  assert.equal(a.code, 0, new TextDecoder().decode(a.stderr));
  assert.equal(b.code, 0, new TextDecoder().decode(b.stderr));
  const results = await loadResults(join(out, "keras-dense", "results.epochs-1.json"));
  assert.deepEqual(results.runs.map((r) => r.seed), [1, 2, 3]);
  assert.equal(results.claims.find((c) => c.id === "test-acc")?.values.length, 3);

  // A results file of another commit is moved to history/, not overwritten (resume: no training).
  const file = join(out, "keras-dense", "results.epochs-1.json");
  await Deno.writeTextFile(file, JSON.stringify({ ...results, gitCommit: "0".repeat(40) }));
  const resume = ["replicate", "keras-dense", "--seeds", "1", ...SMOKE, "--out", out, "--resume"];
  const again = await cliCommand(resume).output();
  assert.equal(again.code, 0, new TextDecoder().decode(again.stderr));
  const history = [...Deno.readDirSync(join(out, "keras-dense", "history"))].map((e) => e.name);
  assert.equal(history.length, 1);
  assert.equal(
    (await loadResults(join(out, "keras-dense", "history", history[0]))).gitCommit,
    "0".repeat(40),
  );
  assert.deepEqual((await loadResults(file)).runs.map((r) => r.seed), [1, 2, 3]);

  // A results file that does not validate is moved there too, not overwritten.
  await Deno.writeTextFile(file, "{ not json");
  const third = await cliCommand(resume).output();
  assert.equal(third.code, 0, new TextDecoder().decode(third.stderr));
  assert.match(
    new TextDecoder().decode(third.stderr),
    /moved the previous .*: it does not validate/,
  );
  assert.equal([...Deno.readDirSync(join(out, "keras-dense", "history"))].length, 2);
  await Deno.remove(out, { recursive: true });
});

Deno.test("a git that cannot run is recorded with the reason, not as 'no commit'", async () => {
  const dir = await Deno.makeTempDir();
  const script = join(dir, "git.ts");
  const module = new URL("../harness/util/git_commit.ts", import.meta.url).href;
  await Deno.writeTextFile(
    script,
    `import { gitCommit } from "${module}";\nconsole.log(JSON.stringify(await gitCommit()));\n`,
  );
  const run = async (permissions: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", ...permissions, script],
      stdout: "piped",
    }).output();
    return JSON.parse(new TextDecoder().decode(out.stdout));
  };
  const denied = await run(["--allow-read"]);
  assert.equal(denied.commit, null);
  assert.match(denied.error, /cannot run git: .*run access/i);
  const allowed = await run(["--allow-read", "--allow-run=git"]);
  assert.match(allowed.commit, /^[0-9a-f]{40}(-dirty)?$/);
  assert.equal(allowed.error, undefined);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("report exits 1 naming a results file that does not validate", async () => {
  const out = await scratchOut();
  await Deno.mkdir(join(out, "broken"));
  await Deno.writeTextFile(join(out, "broken", "results.json"), '{"schema": 2, "runs": "x"}');
  const r = await cli("report", "--out", out);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /error: the site lacks 1 results file\(s\) .*broken\/results\.json/);
  assert.ok(await Deno.stat(join(out, "index.html")), "the rest of the site is still written");
  await Deno.remove(out, { recursive: true });
});

Deno.test("a batch larger than the training set is clipped (noted); a constant model is flagged", async () => {
  const rep = await loadReplication("degenerate", FIXTURES);
  const results = await replicate(rep, {
    seeds: [1],
    trainLimit: 512,
    backend: await setupBackend("wasm"),
    command: "test",
  });
  assert.equal(results.failures, undefined, JSON.stringify(results.failures));
  const [big, constant] = results.runs;
  const clipped = "batchSize 100000 is more than the 512 training samples: each epoch trained " +
    "one batch of all 512, as Keras clips it";
  assert.deepEqual(big.notes, [clipped]);
  assert.ok(results.deviations.includes(`big-batch: ${clipped}`), results.deviations.join("\n"));
  assert.equal(big.testPredictions?.[0].classes, 10);
  assert.ok(big.testPredictions![0].distinct > 1, "a trained model predicts several classes");
  assert.equal(results.claims.find((c) => c.id === "big-batch-acc")?.note, undefined);

  // Every pixel / 1e300 is 0 in float32: one input, so one prediction for every test image.
  const [spread] = constant.testPredictions!;
  assert.deepEqual(spread, { output: "", classes: 10, distinct: 1, top: spread.top, topShare: 1 });
  const claim = results.claims.find((c) => c.id === "constant-acc")!;
  const note = `degenerate: every test output is class ${spread.top}`;
  assert.equal(claim.verdict, "not reproduced");
  assert.equal(claim.note, note);
  assert.match(
    claimsTable([results]),
    new RegExp(`constant-acc .* not reproduced \\(${note}\\)$`, "m"),
  );
  // The page shows both, the clipped batch also where the run was merged in from an earlier rerun.
  const page = await renderReplicationPage({ ...results, deviations: [] }, rep.spec);
  assert.ok(page.includes(note), "the note is not on the page");
  assert.ok(page.includes(`big-batch: ${clipped}`), "the clipped batch is not on the page");
});
