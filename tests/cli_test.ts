import assert from "assert";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { claimsTable } from "../harness/commands/_claims_table.ts";
import { parseSeeds } from "../harness/commands/_options.ts";
import { duration } from "../harness/commands/_progress.ts";

const CLI = fileURLToPath(new URL("../harness/cli.ts", import.meta.url));

async function cli(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("parseSeeds: a count from --seed, or an explicit list", () => {
  assert.deepEqual(parseSeeds(), [1]);
  assert.deepEqual(parseSeeds("5", "3"), [5, 6, 7]);
  assert.deepEqual(parseSeeds(undefined, "4,9"), [4, 9]);
  assert.deepEqual(parseSeeds(undefined, " 4, 9 "), [4, 9]);
});

Deno.test("parseSeeds: repeated seeds, empty entries and non-numbers are usage errors", () => {
  assert.throws(() => parseSeeds(undefined, "1,1"), /--seeds: 1 is listed twice/);
  assert.throws(() => parseSeeds(undefined, "1,01"), /--seeds: 1 is listed twice/);
  assert.throws(() => parseSeeds(undefined, "1,,2"), /--seeds: entry 2 of "1,,2" is empty/);
  assert.throws(() => parseSeeds(undefined, "1,"), /entry 2 .* is empty/);
  assert.throws(() => parseSeeds("", "1"), /--seed: "" is not a whole number/);
  assert.throws(() => parseSeeds("x", "1"), /--seed: "x" is not a whole number/);
  assert.throws(() => parseSeeds("1e3", "1"), /--seed: "1e3" is not a whole number/);
  assert.throws(() => parseSeeds("1", "0"), /--seeds: need a whole number ≥ 1, got 0/);
  assert.throws(() => parseSeeds("1", "2,3"), /--seed: give either --seed with a count/);
});

Deno.test("claimsTable lines up claimed and reproduced values, a note beside the verdict", () => {
  const claim = { id: "acc", claimed: 0.97, mean: 0.96512, values: [0.96512] };
  const table = claimsTable([{
    replication: "r",
    claims: [
      { ...claim, verdict: "not reproduced" },
      {
        ...claim,
        id: "flat",
        verdict: "not reproduced",
        note: "degenerate: every test output is class 3",
      },
    ],
  }] as never);
  assert.match(table, /^replication\s+claim\s+claimed\s+reproduced\s+n\s+verdict$/m);
  assert.match(table, /^r\s+acc\s+0\.9700\s+0\.9651\s+1\s+not reproduced$/m);
  assert.match(
    table,
    /^r\s+flat\s+0\.9700\s+0\.9651\s+1\s+not reproduced \(degenerate: every test output is class 3\)$/m,
  );
});

Deno.test("usage errors exit 2 with the usage text", async () => {
  const none = await cli("replicate");
  assert.equal(none.code, 2);
  assert.match(none.stderr, /name a replication or pass --all[\s\S]*usage:/);
  const badBackend = await cli("replicate", "keras-dense", "--backend", "tpu");
  assert.equal(badBackend.code, 2);
  assert.match(badBackend.stderr, /--backend: "tpu" is not one of/);
  const unknown = await cli("replicate", "nope");
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown replication "nope"/);
  const twice = await cli("replicate", "keras-dense", "--seeds", "1,1");
  assert.equal(twice.code, 2);
  assert.match(twice.stderr, /--seeds: 1 is listed twice/);
  const protocols = await cli("replicate", "keras-dense", "--protocols", "slides,");
  assert.equal(protocols.code, 2);
  assert.match(protocols.stderr, /--protocols: entry 2 of "slides," is empty/);
  const epochs = await cli("replicate", "keras-dense", "--epochs", "0");
  assert.equal(epochs.code, 2);
  assert.match(epochs.stderr, /--epochs: need a whole number ≥ 1/);
});

Deno.test("a negative number after an option is rejected as that option's value", async () => {
  const cases: [string[], RegExp][] = [
    [["replicate", "keras-dense", "--seed", "-1"], /--seed: need a whole number ≥ 0, got -1/],
    [["replicate", "keras-dense", "--epochs", "-1"], /--epochs: need a whole number ≥ 1, got -1/],
    [["explain", "keras-dense", "--jobs", "-2"], /--jobs: need a whole number ≥ 1, got -2/],
  ];
  for (const [args, message] of cases) {
    const r = await cli(...args);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
  }
});

Deno.test("a grid of more than 100 runs needs --yes; --jobs is capped at the cores", async () => {
  const big = await cli("replicate", "keras-dense", "--seeds", "51");
  assert.equal(big.code, 2);
  assert.match(big.stderr, /this would train 102 runs \(more than 100\).* pass --yes/);
  assert.doesNotMatch(big.stderr, /backend:/, "it got as far as setting up a backend");
  // With --yes it goes on, to the next check (an --out that cannot be written).
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "file"), "not a folder");
  const jobs = navigator.hardwareConcurrency + 1;
  const out = ["--out", join(dir, "file", "reports")];
  const yes = await cli(
    "replicate",
    "keras-dense",
    "--seeds",
    "51",
    "--yes",
    "--jobs",
    `${jobs}`,
    ...out,
  );
  assert.equal(yes.code, 2);
  assert.match(yes.stderr, /--out: cannot write/);
  assert.match(
    yes.stderr,
    new RegExp(`--jobs ${jobs}: capped at ${jobs - 1}, the number of cores of this machine`),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a corrupted data file stops the run with a clear error and keeps old results", async () => {
  const tmp = await Deno.makeTempDir();
  const data = join(tmp, "data", "mnist");
  await Deno.mkdir(data, { recursive: true });
  for (const f of ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]) {
    await Deno.writeFile(join(data, f), new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]));
  }
  const out = join(tmp, "reports");
  const previous = join(out, "keras-dense", "results.json");
  await Deno.mkdir(join(out, "keras-dense"), { recursive: true });
  await Deno.writeTextFile(previous, "previous results");

  const run = await cli("replicate", "keras-dense", "--data-dir", join(tmp, "data"), "--out", out);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /error: .*mnist\/train-(images|labels)-idx[13]-ubyte\.gz/);
  assert.match(run.stderr, /SHA-256/);
  assert.equal(await Deno.readTextFile(previous), "previous results");
  assert.deepEqual([...Deno.readDirSync(join(out, "keras-dense"))].map((e) => e.name), [
    "results.json",
  ]);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("duration: whole seconds first, so a minute never shows 60 seconds", () => {
  assert.equal(duration(779.6), "13m00s");
  assert.equal(duration(59.6), "1m00s");
  assert.equal(duration(61.2), "1m01s");
  assert.equal(duration(12.4), "12s");
  assert.equal(duration(NaN), "?");
});
