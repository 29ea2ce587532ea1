/**
 * `--dataset`: a fixture replication rerun on Fashion-MNIST is a variant written beside the
 * MNIST results (its key, deviation and provenance say which data it trained on), the page and
 * transfer.md show the transfer table, and a dataset of another shape is refused before training
 * with exit 2.
 */
import assert from "assert";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Epoch, loadResults } from "../harness/results/result.ts";
import { buildSite } from "../harness/report/site.ts";
import { transferRows, transferVerdict } from "../harness/report/transfer_table.ts";
import { REPORTS_DIR } from "../harness/util/paths.ts";
import { runTask } from "./_task_cli.ts";
import { fixtureResults, fixtureSpec, withRuns } from "./_fixtures.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/replications", import.meta.url));

/** `deno task replicate` (its permissions) on the fixture replications into `out`. */
const replicateTask = (out: string, ...args: string[]) =>
  runTask("replicate", "replicate", "--replications", FIXTURES, "--out", out, "--quiet", ...args);

Deno.test("--dataset: a transfer run is written beside the main results with its table", async () => {
  // Under reports/: the replicate task may write only there.
  await Deno.mkdir(REPORTS_DIR, { recursive: true });
  const out = await Deno.makeTempDir({ dir: REPORTS_DIR, prefix: ".test-transfer-" });
  try {
    const args = ["frozen-probe", "--seeds", "1", "--epochs", "1", "--jobs", "1"];
    const main = await replicateTask(out, ...args, "--protocols", "probe");
    assert.equal(main.code, 0, main.stderr);
    const moved = await replicateTask(
      out,
      ...args,
      "--protocols",
      "probe",
      "--dataset",
      "fashion-mnist",
    );
    assert.equal(moved.code, 0, moved.stderr);
    const dir = join(out, "frozen-probe");
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    for (const f of ["results.epochs-1.json", "results.epochs-1.dataset-fashion-mnist.json"]) {
      assert.ok(names.includes(f), `${f} in ${names}`);
    }
    const mnist = await loadResults(join(dir, "results.epochs-1.json"));
    const fashion = await loadResults(join(dir, "results.epochs-1.dataset-fashion-mnist.json"));
    assert.deepEqual(mnist.datasets.map((d) => d.name), ["mnist"]);
    assert.deepEqual(fashion.datasets.map((d) => d.name), ["fashion-mnist"]);
    assert.equal(fashion.variant, "epochs-1.dataset-fashion-mnist");
    assert.ok(
      fashion.deviations.some((d) => /--dataset fashion-mnist: .*instead of mnist/.test(d)),
    );
    assert.notDeepEqual(mnist.runs[1].epochs, fashion.runs[1].epochs);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("--dataset of another input size or its own dataset: exit 2 before training", async () => {
  await Deno.mkdir(REPORTS_DIR, { recursive: true });
  const out = await Deno.makeTempDir({ dir: REPORTS_DIR, prefix: ".test-transfer-" });
  try {
    const digits = await replicateTask(out, "frozen-probe", "--dataset", "sklearn-digits");
    assert.equal(digits.code, 2, digits.stderr);
    assert.match(
      digits.stderr,
      /--dataset sklearn-digits: frozen-probe\/ae trains on mnist \(28×28 images, 10 classes\) and sklearn-digits has 64 features, 10 classes/,
    );
    const same = await replicateTask(out, "frozen-probe", "--dataset", "mnist");
    assert.equal(same.code, 2, same.stderr);
    assert.match(same.stderr, /already trains on mnist/);
    const unknown = await replicateTask(out, "frozen-probe", "--dataset", "cifar");
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /--dataset: .*cifar/);
    assert.doesNotMatch(digits.stderr + same.stderr, /epoch 1\//);
    assert.deepEqual([...Deno.readDirSync(out)].filter((e) => !e.name.startsWith(".")), []);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("the transfer table: verdicts on the other dataset, on the page and in transfer.md", async () => {
  const main = fixtureResults();
  // Rerun on fashion-mnist with --protocols sgd-b128 only: adam-b32's claims (final-acc first)
  // were not run there, and the test accuracies are a tenth lower, so sgd-acc-e2 fails.
  const lower = (e: Epoch) => ({
    ...e,
    metrics: { ...e.metrics, test_acc: e.metrics.test_acc! * 0.9 },
  });
  const other = withRuns(
    {
      ...structuredClone(main),
      variant: "dataset-fashion-mnist",
      datasets: [{ name: "fashion-mnist", files: [] }],
    },
    fixtureSpec(),
    main.runs.filter((r) => r.protocol === "sgd-b128").map((r) => ({
      ...r,
      epochs: r.epochs.map(lower),
    })),
  );
  const rows = transferRows(main, [other]);
  assert.equal(rows.length, main.claims.length);
  assert.equal(rows[0].others[0].verdict, "not run"); // the claim missing on the other dataset
  assert.equal(rows[1].others[0].verdict, "does not transfer");
  assert.equal(transferVerdict({ ...main.claims[0], verdict: "reproduced (better)" }), "holds");
  assert.equal(transferVerdict({ ...main.claims[0], verdict: "inconclusive" }), "inconclusive");
  // An --epochs smoke run on another dataset is not a transfer of the claims.
  assert.equal(
    transferRows(main, [{ ...other, variant: "epochs-1.dataset-fashion-mnist" }])[0]
      .others.length,
    0,
  );

  const site = await Deno.makeTempDir();
  try {
    const dir = join(site, main.replication);
    await Deno.mkdir(dir);
    await Deno.writeTextFile(join(dir, "results.json"), JSON.stringify(main));
    await Deno.writeTextFile(
      join(dir, "results.dataset-fashion-mnist.json"),
      JSON.stringify(other),
    );
    await buildSite(site, { loadReplication: () => Promise.resolve({ spec: fixtureSpec() }) });
    const page = await Deno.readTextFile(join(dir, "index.html"));
    assert.match(page, /<h2>Does the claim transfer\?<\/h2>/);
    assert.match(page, /On fashion-mnist/);
    assert.match(page, /data-transfer="does not transfer"/);
    const md = await Deno.readTextFile(join(dir, "transfer.md"));
    assert.match(md, /^\| claim \| claimed \| on .* \(source\) \| on fashion-mnist \| transfer \|/);
    assert.match(md, /does not transfer/);
    // The variant's own page has no transfer table of its own.
    const variantPage = await Deno.readTextFile(join(dir, "index.dataset-fashion-mnist.html"));
    assert.doesNotMatch(variantPage, /Does the claim transfer/);
  } finally {
    await Deno.remove(site, { recursive: true });
  }
});
