/**
 * Results of record (records/<name>/): what may become a record, the README blocks made from the
 * records, the site drawn from them without training, and a tampered record that verify names.
 */
import assert from "assert";
import { join } from "node:path";
import { loadResults, type Results } from "../harness/results/result.ts";
import { loadReplication } from "../harness/replications.ts";
import { claimResults, withDerivedClaims } from "../harness/score/claims.ts";
import {
  changesFile,
  changesText,
  type Checkout,
  RecordError,
  recordFile,
  recordFrom,
  recordJson,
  recordSeeds,
  verdictChanges,
} from "../harness/score/records.ts";
import { runGrid } from "../harness/train/plan.ts";
import { recordEntries, recordReadmes } from "../harness/commands/record.ts";
import { markedBlock, replaceMarkedBlock } from "../harness/report/records_markdown.ts";
import { buildSite } from "../harness/report/site.ts";
import { RECORDS_DIR } from "../harness/util/paths.ts";
import { fixtureResults, fixtureSpec } from "./_fixtures.ts";
import { runTask } from "./_task_cli.ts";

const spec = { ...fixtureSpec(), sha256: "ef".repeat(32) };
const good = (): Results => ({ ...fixtureResults(), code: { sha256: "c0de", files: [] } });
const clean: Checkout = {
  commit: "0123456789abcdef0123456789abcdef01234567",
  dirty: false,
  codeSha256: "c0de",
};

Deno.test("record: the default rerun of a clean commit is one, rescored from its default grid", () => {
  const extra = { ...good().runs[0], seed: 9 }; // a seed beyond the default 2
  const r = good();
  const record = recordFrom({ ...r, runs: [...r.runs, extra] }, spec, clean);
  assert.deepEqual(record.grid, runGrid(spec, recordSeeds(spec)));
  assert.deepEqual(record.runs, r.runs);
  assert.deepEqual(record.claims, r.claims);
  assert.match(record.deviations.at(-1)!, /left out 1 run\(s\) outside the default grid/);
  // Its file: one line per field and per run, the same results when read back.
  const text = recordJson(record);
  assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(record)));
  assert.equal(text.split("\n").length, Object.keys(record).length + 3 + record.runs.length);
});

Deno.test("record: a dirty tree, another commit, spec or code, a variant, a shard, fewer seeds are refused, each named", () => {
  const refused = (r: Results, now: Checkout, why: RegExp) =>
    assert.throws(() => recordFrom(r, spec, now), (e: Error) => {
      assert.ok(e instanceof RecordError);
      assert.match(e.message, why);
      assert.match(e.message, /deno task record keras-dense/);
      return true;
    });
  refused(good(), { ...clean, dirty: true }, /uncommitted changes/);
  refused(good(), { ...clean, commit: "f".repeat(40) }, /not at HEAD/);
  refused(good(), { ...clean, codeSha256: "other" }, /code .* changed/);
  refused({ ...good(), spec: { version: 2, sha256: "00" } }, clean, /spec\.json changed/);
  refused({ ...good(), variant: "epochs-1" }, clean, /variant run \(epochs-1\)/);
  refused({ ...good(), shard: { index: 1, count: 2 } }, clean, /one shard/);
  const oneSeed = good().runs.filter((r) => r.seed === 1);
  refused({ ...good(), runs: oneSeed }, clean, /lacks adam-b32 seed 2, sgd-b128 seed 2/);
  // Every reason at once, not the first only.
  refused({ ...good(), variant: "epochs-1" }, { ...clean, dirty: true }, /uncommitted.*variant/);
});

Deno.test("record: replacing one lists the verdicts that moved since its commit", () => {
  const old = good();
  const next = { ...good(), gitCommit: "feedbeef" };
  next.claims = next.claims.map((c) =>
    c.id === "bad-acc" ? { ...c, verdict: "reproduced", mean: 0.99 } : c
  );
  const moved = verdictChanges(old, next);
  assert.equal(moved.since, old.gitCommit);
  assert.deepEqual(moved.changes.map((c) => c.claim), ["bad-acc"]);
  assert.match(
    changesText(moved),
    /^Changed since 0123456: bad-acc not reproduced .* → reproduced \(0\.9900\)\.$/,
  );
  assert.match(
    changesText(verdictChanges(old, old)),
    /No verdict changed since the record of 0123456/,
  );
});

Deno.test("markers: a block is replaced between its markers, blank lines around it as deno fmt sets them; missing markers name the file", () => {
  const text = "# t\n<!-- x:begin -->\nold\n<!-- x:end -->\nrest\n";
  const replaced = replaceMarkedBlock(text, "x", "new | table", "T.md");
  assert.equal(replaced, "# t\n<!-- x:begin -->\n\nnew | table\n\n<!-- x:end -->\nrest\n");
  assert.equal(markedBlock(replaced, "x", "T.md"), "new | table");
  assert.throws(() => markedBlock("# t\n", "x", "T.md"), /T\.md: no "<!-- x:begin -->"/);
});

Deno.test("README.md's scoreboard and each replication's results section are what records/ make", async () => {
  for (const { file, text } of await recordReadmes()) {
    assert.equal(
      text.have,
      text.want,
      `${file}: its generated block differs from the records; rewrite it with ` +
        "deno task record --readmes (and never edit between its markers by hand)",
    );
  }
});

Deno.test("every record validates, holds its default grid, and its claims are what its runs give", async () => {
  const entries = await recordEntries();
  assert.ok(entries.some((e) => e.record), "no record in records/");
  for (const { spec, record } of entries) {
    if (!record) continue;
    const file = recordFile(spec.name);
    withDerivedClaims(await loadResults(file), spec, file); // throws when they disagree
    assert.deepEqual(record.grid, runGrid(spec, recordSeeds(spec)), file);
    assert.equal(record.variant, undefined, file);
    assert.match(record.gitCommit ?? "", /^[0-9a-f]{40}$/, `${file}: trained at a clean commit`);
  }
});

Deno.test("report draws every record's page without training, saying where it comes from", async () => {
  const out = await Deno.makeTempDir({ prefix: "claimcheck-records-" });
  try {
    const { written, skipped } = await buildSite(out, { records: RECORDS_DIR });
    assert.deepEqual(skipped, []);
    for (const { spec, record } of await recordEntries()) {
      if (!record) continue;
      const page = join(out, spec.name, "index.html");
      assert.ok(written.includes(page), `${page} not written`);
      const html = await Deno.readTextFile(page);
      assert.match(
        html,
        new RegExp(`Results of record: <code>records/${spec.name}/results\\.json`),
      );
      assert.match(html, /<svg/);
    }
    assert.match(await Deno.readTextFile(join(out, "index.html")), /Scoreboard/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("a replaced record's page says which verdicts moved since the old record's commit", async () => {
  const records = await Deno.makeTempDir({ prefix: "claimcheck-records-" });
  const out = await Deno.makeTempDir({ prefix: "claimcheck-site-" });
  try {
    await Deno.mkdir(join(records, "keras-dense"));
    await Deno.copyFile(recordFile("keras-dense"), recordFile("keras-dense", records));
    const old = await loadResults(recordFile("keras-dense"));
    const claim = old.claims.find((c) => c.id === "blog-acc")!;
    old.gitCommit = "abcdef0".padEnd(40, "0");
    old.claims = [{ ...claim, verdict: "not reproduced", mean: 0.9 }];
    const moved = verdictChanges(old, await loadResults(recordFile("keras-dense")));
    await Deno.writeTextFile(changesFile("keras-dense", records), JSON.stringify(moved));
    await buildSite(out, { records });
    const html = await Deno.readTextFile(join(out, "keras-dense", "index.html"));
    assert.match(
      html,
      /Changed since abcdef0: blog-acc not reproduced \(0\.9000\) → reproduced \(better\)/,
    );
  } finally {
    await Deno.remove(records, { recursive: true });
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("verify names a tampered copy of a record (so-scratch-mlp posted-100x3 seed 1, seconds to replay)", async () => {
  const file = recordFile("so-scratch-mlp");
  const record = await loadResults(file);
  const dir = await Deno.makeTempDir({ prefix: "claimcheck-tamper-" });
  try {
    const run = record.runs.find((r) => r.protocol === "posted-100x3" && r.seed === 1)!;
    // Beyond verify's cross-backend tolerance too, so the test holds whether the replay is exact
    // (the same code hash) or not; .ci/run's replay of keras-dense checks the exact case.
    run.epochs.at(-1)!.metrics.train_loss! += 0.001;
    // Claims rescored from the tampered runs, so that only the replay can tell.
    record.claims = claimResults((await loadReplication("so-scratch-mlp")).spec, record.runs);
    const tampered = join(dir, "results.json");
    await Deno.writeTextFile(tampered, JSON.stringify(record));
    const r = await runTask(
      "verify",
      "verify",
      tampered,
      "--seed",
      "1",
      "--protocol",
      "posted-100x3",
    );
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(r.stdout, /train_loss .* differs/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
