/**
 * claimcheck where users put it: a checkout under a path with a space and an accented letter
 * (the wasm backend must load from there, not fall back to the cpu backend), a broken install
 * (an error naming the missing binary, never a silent cpu run), and the installed `claimcheck`
 * command run from a folder outside the checkout on a replication folder given by its path.
 */
import assert from "assert";
import { dirname, join } from "node:path";
import { DEFAULT_CACHE_DIR, PROJECT_ROOT } from "../harness/util/paths.ts";

const _decoder = new TextDecoder();

/** Runs `command args` in `cwd`: exit code, stdout and stderr. */
async function _run(cwd: string, command: string, args: string[], env?: Record<string, string>) {
  const out = await new Deno.Command(command, { args, cwd, env, stdout: "piped", stderr: "piped" })
    .output();
  return {
    code: out.code,
    stdout: _decoder.decode(out.stdout),
    stderr: _decoder.decode(out.stderr),
  };
}

/** The files git would check out (tracked, and new ones not ignored), copied under `root`. */
async function _copyCheckout(root: string): Promise<void> {
  const listed = await _run(PROJECT_ROOT, "git", [
    "ls-files",
    "-z",
    "--cached",
    "--others",
    "--exclude-standard",
  ]);
  assert.equal(listed.code, 0, listed.stderr);
  for (const file of listed.stdout.split("\0").filter(Boolean)) {
    const from = join(PROJECT_ROOT, file);
    if (!await Deno.stat(from).then((s) => s.isFile, () => false)) continue; // deleted, unstaged
    await Deno.mkdir(dirname(join(root, file)), { recursive: true });
    await Deno.copyFile(from, join(root, file));
  }
  // The datasets: CLAIMCHECK_DATA_DIR is inherited; without it, the checkout's download cache.
  if (
    !Deno.env.get("CLAIMCHECK_DATA_DIR") && await Deno.stat(DEFAULT_CACHE_DIR).catch(() => null)
  ) {
    await Deno.symlink(DEFAULT_CACHE_DIR, join(root, "data", "cache"));
  }
}

/** The results `--json` printed, one per replication. */
function _results(stdout: string): { backend: { name: string; note: string | null } }[] {
  return JSON.parse(stdout);
}

Deno.test("a checkout under a path with a space and an accented letter", async (t) => {
  const tmp = await Deno.makeTempDir({ prefix: "claimcheck-anywhere-" });
  const root = join(tmp, "ci check é");
  try {
    await _copyCheckout(root);
    // Its own node_modules (hard links into Deno's cache: fast), so the wasm binaries lie under
    // the unusual path too; a link to this checkout's would resolve to the usual one.
    const installed = await _run(root, Deno.execPath(), ["install", "--frozen"]);
    assert.equal(installed.code, 0, installed.stderr);
    const replicate = (...args: string[]) =>
      _run(root, Deno.execPath(), [
        "task",
        "replicate",
        "pairs",
        "--replications",
        "tests/fixtures/replications",
        "--epochs",
        "1",
        "--jobs",
        "1",
        "--quiet",
        ...args,
      ]);

    await t.step("deno task replicate trains on the wasm backend and exits 0", async () => {
      const r = await replicate("--json");
      assert.equal(r.code, 0, r.stderr);
      const [results] = _results(r.stdout);
      assert.equal(results.backend.name, "wasm", results.backend.note ?? "");
      assert.match(results.backend.note ?? "", /^auto chose wasm: skipped WebGPU: /);
    });

    await t.step("a missing wasm binary is an error naming it, not a cpu run", async () => {
      // Moved aside, not changed: the files are hard links into Deno's cache.
      const dist = join(root, "node_modules/@tensorflow/tfjs-backend-wasm/dist");
      const binaries = [...Deno.readDirSync(dist)].filter((e) => e.name.endsWith(".wasm"));
      assert.ok(binaries.length >= 2, `no .wasm files in ${dist}`);
      for (const { name } of binaries) Deno.renameSync(join(dist, name), join(tmp, name));
      try {
        for (const backend of ["auto", "wasm"]) {
          const out = join("reports", `broken-${backend}`);
          const r = await replicate("--backend", backend, "--out", out);
          assert.equal(r.code, 1, `--backend ${backend}: ${r.stderr}`);
          assert.match(
            r.stderr,
            /error: wasm backend: cannot read \/.*\/tfjs-backend-wasm[-a-z]*\.wasm \(NotFound\); the install is broken: run `deno install`/,
          );
          assert.doesNotMatch(r.stderr, /backend: cpu/);
          assert.equal(await Deno.stat(join(root, out, "pairs")).catch(() => null), null);
        }
      } finally {
        for (const { name } of binaries) Deno.renameSync(join(tmp, name), join(dist, name));
      }
    });

    await t.step(
      "the installed claimcheck command checks a folder outside the checkout",
      async () => {
        // `deno task install-cli` as the README says, into a bin folder of our own.
        const bin = join(tmp, "bin é");
        const install = await _run(root, Deno.execPath(), ["task", "install-cli"], {
          DENO_INSTALL_ROOT: bin,
        });
        assert.equal(install.code, 0, install.stderr);
        // The user's folder: a replication that imports the harness as "claimcheck/plugin".
        const home = join(tmp, "my folder é");
        const claim = join(home, "my claims", "pairs");
        await Deno.mkdir(claim, { recursive: true });
        for (const file of ["spec.json", "model.ts"]) {
          await Deno.copyFile(
            join(root, "tests/fixtures/replications/pairs", file),
            join(claim, file),
          );
        }
        assert.match(await Deno.readTextFile(join(claim, "model.ts")), /from "claimcheck\/plugin"/);
        const r = await _run(home, join(bin, "bin", "claimcheck"), [
          "replicate",
          "./my claims/pairs",
          "--epochs",
          "1",
          "--jobs",
          "1",
          "--out",
          "./site",
          "--quiet",
          "--json",
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(_results(r.stdout)[0].backend.name, "wasm");
        for (
          const file of ["pairs/results.epochs-1.json", "pairs/index.epochs-1.html", "index.html"]
        ) {
          assert.ok(await Deno.stat(join(home, "site", file)), `site/${file} not written`);
        }
      },
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
