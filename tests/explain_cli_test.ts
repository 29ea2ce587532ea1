/**
 * `deno task explain --variants`: only the variants named are trained and ranked, and the runs
 * `replicate` already made with the same key (code, commit, spec, backend, data) are taken, not
 * trained again.
 */
import assert from "assert";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { scratchReplication } from "./_scratch_replication.ts";

const CLI = fileURLToPath(new URL("../harness/cli.ts", import.meta.url));

Deno.test("explain --variants ranks the variants named, taking replicate's runs of the same key", async () => {
  const dir = await Deno.makeTempDir({ prefix: "claimcheck-explain-" });
  await scratchReplication(dir, "expl");
  const file = join(dir, "expl", "spec.json");
  const spec = JSON.parse(await Deno.readTextFile(file));
  spec.protocols.push({
    id: "slow",
    extends: "ok",
    description: "The same at a tenth of the learning rate.",
    optimizer: { name: "sgd", learningRate: 0.01 },
    exploratory: true,
  });
  await Deno.writeTextFile(file, JSON.stringify(spec, null, 2));
  const run = async (...args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, ...args, "--replications", dir, "--out", join(dir, "reports")],
    }).output();
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    return { code: out.code, out: text(out.stdout), err: text(out.stderr) };
  };
  const replicated = await run("replicate", "expl", "--protocols", "ok,slow", "--seeds", "1");
  assert.equal(replicated.code, 0, replicated.err);

  const explained = await run("explain", "expl", "--variants", "slow", "--seeds", "1");
  assert.equal(explained.code, 0, explained.err);
  assert.match(explained.err, /resume: 2 of 2 run\(s\) already done .*; training 0/);
  assert.match(explained.out, /as stated/);
  assert.match(explained.out, /slow/);
  assert.doesNotMatch(explained.out, /lr ×2|batch ×½/, "perturbations not named are not ranked");

  const unknown = await run("explain", "expl", "--variants", "nope", "--seeds", "1");
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /--variants: "nope" is not a variant of ok \(.*slow.*\)/);
  await Deno.remove(dir, { recursive: true });
});
