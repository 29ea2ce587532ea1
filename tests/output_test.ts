/**
 * Output failures do not lose a rerun: every folder a command will write is checked before
 * anything trains, and results that cannot be written after training are kept, saying where.
 */
import assert from "assert";
import { dirname, join } from "node:path";
import { DEFAULT_CACHE_DIR, REPORTS_DIR } from "../harness/util/paths.ts";
import { scratchReplication } from "./_scratch_replication.ts";
import { runTaskWithin } from "./_task_cli.ts";

/** A scratch folder inside reports/, the one folder the replicate task may write. */
async function scratchOut(): Promise<string> {
  await Deno.mkdir(REPORTS_DIR, { recursive: true });
  return await Deno.makeTempDir({ dir: REPORTS_DIR, prefix: ".test-" });
}

const replicate = (reps: string, out: string, ...names: string[]) =>
  runTaskWithin(
    300,
    "replicate",
    "replicate",
    ...names,
    ...["--replications", reps, "--out", out, "--epochs", "1", "--quiet"],
  );

Deno.test("a file where an output folder must be fails before anything trains", async () => {
  const scratch = await scratchOut();
  const reps = join(scratch, "replications");
  await scratchReplication(reps, "first");
  await scratchReplication(reps, "second");
  // The second replication's folder, runs folder or history folder: all are checked up front.
  for (const blocker of ["second", "second/runs.epochs-1", "second/history"]) {
    const out = join(scratch, `out-${blocker.replace("/", "-")}`);
    await Deno.mkdir(dirname(join(out, blocker)), { recursive: true });
    await Deno.writeTextFile(join(out, blocker), "in the way");
    const r = await replicate(reps, out, "first", "second");
    assert.equal(r.code, 1, r.stderr);
    const path = join(out, blocker).replaceAll(".", "\\.");
    assert.match(r.stderr, new RegExp(`error: .*${path} is a file where a folder must be`));
    assert.doesNotMatch(r.stderr, /backend:/, "it got as far as setting up a backend");
    assert.ok(!await Deno.stat(join(out, "first")).catch(() => null), "first was written");
  }
  await Deno.remove(scratch, { recursive: true });
});

/** The rescued results files of `name`, removed (they are written outside the scratch folder). */
async function takeRescued(name: string): Promise<string[]> {
  const dir = join(DEFAULT_CACHE_DIR, "rescued");
  const files = (await Array.fromAsync(Deno.readDir(dir)).catch(() => []))
    .filter((e) => e.name.startsWith(`${name}.`)).map((e) => join(dir, e.name));
  const texts = await Promise.all(files.map((f) => Deno.readTextFile(f)));
  await Promise.all(files.map((f) => Deno.remove(f)));
  await Deno.remove(dir).catch(() => {}); // where others are left there, it stays
  return texts;
}

/** Checks that a rerun whose writes failed exits 1, saying in one line where its run is kept. */
async function assertKept(r: { code: number; stderr: string }, name: string, reason: RegExp) {
  assert.equal(r.code, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /Uncaught|^\s+at /m, "a stack trace");
  const line = r.stderr.split("\n").findLast((l) => l.startsWith("error: "));
  assert.match(line ?? "", reason);
  assert.match(line ?? "", /this rerun's 1 run\(s\) are kept in .*data\/cache\/rescued\//);
  const [kept] = await takeRescued(name);
  assert.ok(kept, "no rescued results file");
  assert.deepEqual(JSON.parse(kept).runs.map((x: { protocol: string }) => x.protocol), ["ok"]);
}

Deno.test("a folder replaced by a file during training: the run is kept, and where is said", async () => {
  const scratch = await scratchOut();
  const reps = join(scratch, "replications"), out = join(scratch, "out");
  const folder = join(out, "swapped");
  // At training (after the checks), the model builder puts a file where the report folder is.
  await scratchReplication(reps, "swapped", {
    inBuilder: `try { Deno.removeSync(${JSON.stringify(folder)}, { recursive: true }); } catch {}
    Deno.writeTextFileSync(${JSON.stringify(folder)}, "in the way");`,
  });
  const r = await replicate(reps, out, "swapped");
  await assertKept(
    r,
    "swapped",
    /cannot write .*swapped\/results\.epochs-1\.json: Not a directory/,
  );
  assert.match(r.stderr, /error: cannot save .*swapped\/runs\.epochs-1\/ok\.seed-1\.json/);
  await Deno.remove(scratch, { recursive: true });
});

/** Mounts a tmpfs of `size` at `dir`; false where this machine does not let us (not root). */
async function mountTmpfs(dir: string, size: string): Promise<boolean> {
  if (Deno.build.os !== "linux") return false;
  const mount = new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
  });
  return await mount.output().then((o) => o.success, () => false);
}

const _probe = await Deno.makeTempDir();
const canMount = await mountTmpfs(_probe, "64k");
if (canMount) await new Deno.Command("umount", { args: [_probe] }).output();
await Deno.remove(_probe);

Deno.test({
  name: "a full disk (a tiny tmpfs): the run is kept, and where is said",
  ignore: !canMount,
  fn: async () => {
    const scratch = await scratchOut();
    const reps = join(scratch, "replications"), out = join(scratch, "out");
    await scratchReplication(reps, "full");
    await Deno.mkdir(out);
    assert.ok(await mountTmpfs(out, "64k"));
    try {
      // Fill it: empty files (the write checks) still fit, a run's file does not.
      await Deno.writeFile(join(out, "filler"), new Uint8Array(1 << 20)).catch(() => {});
      const r = await replicate(reps, out, "full");
      await assertKept(r, "full", /cannot write .*full\/results\.epochs-1\.json: No space left/);
    } finally {
      await new Deno.Command("umount", { args: [out] }).output();
    }
    await Deno.remove(scratch, { recursive: true });
  },
});
