/**
 * A model.ts that throws, hangs or calls Deno.exit fails its own replication, named, and the
 * others still run: `replicate --all` and `report` neither stop, hang nor exit 0 because of it.
 */
import assert from "assert";
import { join } from "node:path";
import { REPORTS_DIR } from "../harness/util/paths.ts";
import { loadResults } from "../harness/results/result.ts";
import { scratchReplication } from "./_scratch_replication.ts";
import { runTaskWithin } from "./_task_cli.ts";

Deno.test("replicate --all and report get past model.ts files that throw, hang or exit", async (t) => {
  // Inside reports/, which the report task may read (its replications folder too).
  await Deno.mkdir(REPORTS_DIR, { recursive: true });
  const scratch = await Deno.makeTempDir({ dir: REPORTS_DIR, prefix: ".test-" });
  const reps = join(scratch, "replications"), out = join(scratch, "out");
  await scratchReplication(reps, "good");
  await scratchReplication(reps, "boom", { atImport: 'throw new Error("boom at import");' });
  await scratchReplication(reps, "loop", { atImport: "while (true) { /* endless */ }" });
  await scratchReplication(reps, "quits", { atImport: "Deno.exit(0);" });
  await scratchReplication(reps, "exits", { inBuilder: "Deno.exit(0);" });

  await t.step("replicate --all: each named, the others run, exit 1", async () => {
    const args = ["--replications", reps, "--out", out, "--epochs", "1", "--quiet"];
    // wasm: the builder runs in this process too (is it convolutional?), besides the workers.
    const r = await runTaskWithin(
      120,
      "replicate",
      "replicate",
      "--all",
      "--backend",
      "wasm",
      ...args,
    );
    assert.equal(r.code, 1, r.stderr);
    for (
      const [name, why] of [
        ["boom", "boom at import"],
        ["loop", "its import did not finish within 10 s"],
        ["quits", "called Deno.exit\\(0\\)"],
      ]
    ) {
      const said = new RegExp(`^failed: ${name}: .*${name}/model\\.ts did not load: .*${why}`, "m");
      assert.match(r.stderr, said);
    }
    assert.match(
      r.stderr,
      /^failed: exits ok seed 1: .*exits\/model\.ts:\d+:\d+ called Deno\.exit\(0\)/m,
    );
    const good = await loadResults(join(out, "good", "results.epochs-1.json"));
    assert.equal(good.runs.length, 1);
    const exits = await loadResults(join(out, "exits", "results.epochs-1.json"));
    assert.deepEqual(exits.failures?.map((f) => f.protocol), ["ok"]);
  });

  await t.step("report: the page of a model.ts that hangs is left out, named; exit 1", async () => {
    // A results file for "loop", so that report loads its model.ts.
    const good = await Deno.readTextFile(join(out, "good", "results.epochs-1.json"));
    await Deno.mkdir(join(out, "loop"));
    await Deno.writeTextFile(
      join(out, "loop", "results.json"),
      JSON.stringify({ ...JSON.parse(good), replication: "loop" }),
    );
    await Deno.remove(join(out, "good", "index.epochs-1.html"));
    const r = await runTaskWithin(120, "report", "report", "--out", out, "--replications", reps);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /site: skipped .*loop\/results\.json: .*loop\/model\.ts did not load: its import did not finish/,
    );
    assert.ok(await Deno.stat(join(out, "good", "index.epochs-1.html")), "the rest is written");
  });
  await Deno.remove(scratch, { recursive: true });
});
