/**
 * Replaying a published result: a fixture replication is rerun here and its results written to
 * a temp folder; `verify`, with its task's permissions, finds the same numbers there, names a
 * tampered one, accepts a small difference only when the provenance relaxes the check, refuses
 * another spec or data before training and an unknown seed before anything, and writes nothing.
 */
import assert from "assert";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setupBackend } from "../harness/backend/backend.ts";
import { loadReplication } from "../harness/replications.ts";
import {
  compareProvenance,
  compareRuns,
  CROSS_BACKEND_TOLERANCE,
} from "../harness/results/compare_runs.ts";
import type { Results } from "../harness/results/result.ts";
import { variantOf, variantSettings } from "../harness/results/run_store.ts";
import { claimResults } from "../harness/score/claims.ts";
import { replicate } from "../harness/pipeline/replicate.ts";
import { fixtureResults } from "./_fixtures.ts";
import { runTask } from "./_task_cli.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/replications", import.meta.url));

/** `deno task verify <file> <args>` on the fixture replications. */
const verify = (file: string, ...args: string[]) =>
  runTask("verify", "verify", file, "--replications", FIXTURES, ...args);

/** Each file of `dir` with its size and modification time. */
const snapshot = (dir: string) =>
  [...Deno.readDirSync(dir)].map((e) => {
    const info = Deno.statSync(join(dir, e.name));
    return `${e.name} ${info.size} ${info.mtime?.getTime()}`;
  }).sort();

/** `results` with `change` applied, written to `<dir>/<name>.json`. */
async function altered(
  results: Results,
  dir: string,
  name: string,
  change: (r: Results) => void,
): Promise<string> {
  const copy = structuredClone(results);
  change(copy);
  const file = join(dir, `${name}.json`);
  await Deno.writeTextFile(file, JSON.stringify(copy, null, 2));
  return file;
}

Deno.test("verify: same numbers on a fixture, a tampered one named, nothing written", async () => {
  const rep = await loadReplication("frozen-probe", FIXTURES);
  const results = await replicate(rep, {
    seeds: [1],
    trainLimit: 512,
    backend: await setupBackend("wasm"),
    command: "verify_test",
  });
  const dir = await Deno.makeTempDir();
  const file = join(dir, "results.train-512.json");
  await Deno.writeTextFile(file, JSON.stringify(results, null, 2) + "\n");
  const before = snapshot(dir);

  const same = await verify(file, "--seed", "1");
  assert.equal(same.code, 0, same.stdout + same.stderr);
  assert.match(same.stdout, /check: same backend, code, tfjs, spec and data/);
  assert.match(same.stdout, /frozen-probe ae seed 1\n[^]*frozen-probe probe seed 1\n/);
  assert.match(same.stdout, /\nepoch1\.test_acc +(0\.\d+) +\1 +0 +identical\n/);
  assert.match(same.stdout, /verified: all \d+ fields of 2 run\(s\) identical to the recording/);
  assert.deepEqual(snapshot(dir), before, "verify wrote into the results folder");
  const copies = await Deno.makeTempDir();

  const probe = (r: Results) => r.runs.find((run) => run.protocol === "probe")!;
  const acc = probe(results).epochs[0].metrics.test_acc!;
  const tampered = await altered(
    results,
    copies,
    "tampered",
    (r) => probe(r).epochs[0].metrics.test_acc = acc + 0.25,
  );
  const differs = await verify(tampered, "--seed", "1", "--protocol", "probe");
  assert.equal(differs.code, 1, differs.stdout + differs.stderr);
  assert.doesNotMatch(differs.stdout, /frozen-probe ae seed 1/, "a stage it needs is not compared");
  assert.match(differs.stdout, /not verified: 2 field\(s\) differ/);
  assert.match(
    differs.stdout,
    new RegExp(`probe seed 1 epoch1\\.test_acc: recorded ${acc + 0.25}, rerun ${acc}\n`),
  );
  assert.match(differs.stdout, /probe seed 1 final\.test_acc: recorded/);

  // Recorded with another tfjs: a difference within the tolerance passes, and says why.
  const nudged = await altered(results, copies, "nudged", (r) => {
    r.versions.tfjs = "4.21.0";
    probe(r).epochs[0].metrics.test_acc = acc + CROSS_BACKEND_TOLERANCE / 2;
    r.claims = claimResults(rep.spec, r.runs); // as that recording scored its own runs
  });
  const relaxed = await verify(nudged, "--seed", "1", "--protocol", "probe");
  assert.equal(relaxed.code, 0, relaxed.stdout + relaxed.stderr);
  assert.match(relaxed.stdout, /tfjs +4\.21\.0 +4\.22\.0 +differs: another TensorFlow\.js/);
  assert.match(relaxed.stdout, /check: tfjs differs .*\n {2}metrics: .* ≤ 0\.0002·max\(1/);
  assert.match(relaxed.stdout, /\nepoch1\.test_acc .* within tolerance\n/);
  assert.match(relaxed.stdout, /verified: .* identical or within tolerance \(0\.0002 relative\)/);

  // Another spec or dataset file: refused once the data is loaded, before anything trains.
  const moved = await altered(results, copies, "moved", (r) => {
    r.spec.sha256 = "0".repeat(64);
    r.datasets[0].files[0].sha256 = "1".repeat(64);
  });
  const blocked = await verify(moved, "--seed", "1");
  assert.equal(blocked.code, 2, blocked.stdout + blocked.stderr);
  assert.match(blocked.stderr, /cannot replay .*: spec: spec\.json changed since the recording/);
  assert.match(blocked.stderr, /data mnist: the rerun's mnist files are not the recorded ones/);
  assert.doesNotMatch(blocked.stderr, /rerun ae seed 1/, "it trained");
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(copies, { recursive: true });
});

Deno.test("verify: a missing seed, an unknown seed or protocol, a bad file exit 2", async () => {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "results.json");
  await Deno.writeTextFile(file, JSON.stringify(fixtureResults()));
  const cases: [string[], RegExp][] = [
    [[file], /--seed: say which recorded seed to replay \(.*results\.json has 1, 2\)[^]*usage:/],
    [[file, "--seed", "7"], /records no run with seed 7 \(recorded seeds: 1, 2\)/],
    [
      [file, "--seed", "1", "--protocol", "nope"],
      /records no run of protocol "nope" with seed 1 \(recorded: adam-b32, sgd-b128\)/,
    ],
    [[`${file}.missing`, "--seed", "1"], /results\.json\.missing: no such file/],
    [[file, "--seed", "one"], /--seed: "one" is not a whole number[^]*usage:/],
  ];
  for (const [args, message] of cases) {
    const r = await verify(args[0], ...args.slice(1));
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
  }
  await Deno.writeTextFile(file, '{"schema": 2, "runs": "x"}');
  const invalid = await verify(file, "--seed", "1");
  assert.equal(invalid.code, 2, invalid.stderr);
  assert.match(invalid.stderr, /results\.json is not valid:[^]*runs: Invalid input/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("compareRuns: identical on one provenance, metrics within tolerance across", () => {
  const recorded = {
    ...fixtureResults().runs[0],
    artifacts: { confusion: { matrix: [[5, 1], [0, 6]] } },
  };
  const rerun = structuredClone(recorded);
  const statuses = (exact: boolean) =>
    Object.fromEntries(
      compareRuns(recorded, rerun, exact).map((f) => [f.field, `${f.status} ${f.required}`]),
    );
  assert.ok(Object.values(statuses(true)).every((s) => s === "identical true"));
  rerun.trainSeconds += 3; // timings are not compared
  rerun.samplesPerSecond /= 2;
  rerun.events[0].time += 1;
  rerun.epochs[1].seconds += 1;
  rerun.epochs[1].metrics.test_acc! += CROSS_BACKEND_TOLERANCE / 2;
  rerun.epochs[2].metrics.test_loss! += 2 * CROSS_BACKEND_TOLERANCE;
  rerun.params += 1;
  rerun.artifacts.confusion.matrix[1][0] = 1;
  const exact = statuses(true), relaxed = statuses(false);
  for (const s of [exact, relaxed]) {
    assert.ok(!Object.keys(s).some((f) => /seconds|samples|events/i.test(f)), "a timing compared");
    assert.equal(s["epoch3.test_loss"], "differs true");
    assert.equal(s["final.test_loss"], "differs true");
    assert.equal(s.params, "differs true", "counts must be equal even across backends");
    assert.equal(s["epoch1.test_acc"], "identical true");
  }
  assert.equal(exact["epoch2.test_acc"], "differs true");
  assert.equal(relaxed["epoch2.test_acc"], "within tolerance true");
  assert.equal(exact["artifacts.confusion"], "differs true");
  assert.equal(relaxed["artifacts.confusion"], "differs false");
  const confusion = compareRuns(recorded, rerun, true).find((f) =>
    f.field === "artifacts.confusion"
  );
  assert.equal(confusion?.note, "1 of 4 differ, first artifacts.confusion.matrix.1.0");
});

Deno.test("compareRuns: NaN equals NaN as stored; a missing epoch differs", () => {
  const recorded = structuredClone(fixtureResults().runs[0]);
  recorded.epochs[2].metrics.test_loss = null;
  recorded.epochs[2].nonFinite = { test_loss: "NaN" };
  const rerun = structuredClone(recorded);
  const field = (f: string, r = rerun) => compareRuns(recorded, r, true).find((x) => x.field === f);
  assert.equal(field("epoch3.test_loss")?.status, "identical");
  rerun.epochs[2].nonFinite = { test_loss: "Infinity" };
  assert.equal(field("epoch3.test_loss")?.status, "differs");
  const shorter = { ...recorded, epochs: recorded.epochs.slice(0, 2), finalEpoch: 2 };
  assert.deepEqual(
    [field("epochs", shorter), field("epoch3.test_acc", shorter)].map((f) => [f?.rerun, f?.status]),
    [[2, "differs"], [undefined, "differs"]],
  );
});

Deno.test("compareProvenance: spec and data block a replay; code, backend, commit, tfjs relax it; a commit of the same code is noted", () => {
  const recorded = fixtureResults();
  const effects = (now: Results) =>
    Object.fromEntries(compareProvenance(recorded, now).map((f) => [f.field, f.effect]));
  assert.deepEqual(effects(recorded), {
    spec: "same",
    "data mnist": "same",
    code: "same",
    commit: "same",
    backend: "same",
    tfjs: "same",
  });
  const edited = { ...recorded, code: { sha256: "0".repeat(64), files: ["replication:model.ts"] } };
  assert.equal(
    compareProvenance(recorded, edited).find((f) => f.field === "code")?.effect,
    "relaxes",
  );
  // Another commit with the recorded code hash is noted, and the check stays exact.
  const withCode = { ...recorded, code: { sha256: "c".repeat(64), files: [] } };
  const later = compareProvenance(withCode, { ...withCode, gitCommit: "f".repeat(40) });
  assert.deepEqual(later.filter((f) => f.effect !== "same").map((f) => [f.field, f.effect]), [
    ["commit", "noted"],
  ]);
  assert.equal(
    compareProvenance(recorded, { ...recorded, gitCommit: "f".repeat(40) }).find((f) =>
      f.field === "commit"
    )?.effect,
    "relaxes",
    "without the code's hash on both sides another commit relaxes the check",
  );
  const elsewhere = {
    ...recorded,
    backend: { ...recorded.backend, name: "cpu" as const },
    versions: { ...recorded.versions, tfjs: "4.21.0" },
    gitCommit: null,
  };
  const fields = compareProvenance(recorded, elsewhere);
  assert.deepEqual(fields.filter((f) => f.effect === "relaxes").map((f) => f.field), [
    "commit",
    "backend",
    "tfjs",
  ]);
  assert.match(fields.find((f) => f.field === "backend")!.why!, /float32/);
  assert.equal(fields.find((f) => f.field === "commit")!.now, "unknown");
  // Another GPU is another backend too.
  const gpu = (adapter: string) => ({
    ...recorded,
    backend: { ...recorded.backend, name: "webgpu" as const, adapter },
  });
  assert.deepEqual(
    compareProvenance(gpu("NVIDIA H200"), gpu("llvmpipe")).map((f) => f.effect),
    ["same", "same", "same", "same", "relaxes", "same"],
  );
  const otherData = structuredClone(recorded);
  otherData.datasets[0].files[0].sha256 = "00".repeat(32);
  otherData.spec.sha256 = "11".repeat(32);
  assert.deepEqual(
    compareProvenance(recorded, otherData).filter((f) => f.effect === "blocks").map((f) => f.field),
    ["spec", "data mnist"],
  );
  // Only the datasets the rerun loads count; a recorded one it does not use is no difference.
  assert.deepEqual(effects({ ...recorded, datasets: [] }), {
    spec: "same",
    code: "same",
    commit: "same",
    backend: "same",
    tfjs: "same",
  });
});

Deno.test("variantSettings inverts variantOf and rejects what variantOf never writes", () => {
  for (const epochs of [null, 1, 20]) {
    for (const trainLimit of [null, 512]) {
      for (const dataset of [null, "fashion-mnist"]) {
        const settings = { epochs, trainLimit, dataset };
        assert.deepEqual(variantSettings(variantOf(settings)), settings);
      }
    }
  }
  for (const bad of ["epochs-x", "train-512.epochs-1", "epochs-1.", "fast", "dataset-"]) {
    assert.equal(variantSettings(bad), null, bad);
  }
});
