/**
 * The reports folder's lock file: a dead holder's is taken over at once, a live holder is named
 * while waited for, and a holder stopped by SIGINT or SIGTERM removes it.
 */
import assert from "assert";
import { join } from "node:path";
import { REPORTS_DIR } from "../harness/util/paths.ts";
import { runTaskWithin, taskCommand } from "./_task_cli.ts";

const WITH_LOCK = new URL("../harness/util/with_lock.ts", import.meta.url).href;

/** A scratch --out inside reports/, the one folder the report task may write. */
async function scratchOut(): Promise<string> {
  await Deno.mkdir(REPORTS_DIR, { recursive: true });
  return await Deno.makeTempDir({ dir: REPORTS_DIR, prefix: ".test-" });
}

/** A process that takes the lock of `out` (its command: "hold") and keeps it; once it has it. */
async function holder(out: string): Promise<Deno.ChildProcess> {
  const script = join(out, "hold.ts");
  await Deno.writeTextFile(
    script,
    `import { withLock } from "${WITH_LOCK}";
await withLock(Deno.args[0], async () => {
  console.log("held");
  await new Promise((r) => setTimeout(r, 600_000));
}, { command: "hold" });
`,
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", `--allow-write=${out}`, script, out],
    stdout: "piped",
  }).spawn();
  const { first, rest } = await firstLine(child.stdout);
  assert.equal(first, "held");
  rest.catch(() => {});
  return child;
}

/** The first line of `stream`, and a promise of the rest of it. */
async function firstLine(stream: ReadableStream<Uint8Array>) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  const readRest = async () => {
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += r.value;
    return text;
  };
  return { first: text.split("\n")[0], rest: readRest() };
}

const lockFile = (out: string) => join(out, ".claimcheck.lock");
const exists = (file: string) => Deno.stat(file).then(() => true, () => false);

Deno.test("a lock file left by a killed process is taken over at once, naming it", async () => {
  const out = await scratchOut();
  const dead = await holder(out);
  dead.kill("SIGKILL");
  await dead.status;
  assert.ok(await exists(lockFile(out)), "SIGKILL left no lock file to take over");
  const r = await runTaskWithin(120, "report", "report", "--out", out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `took over .*\\.claimcheck\\.lock: left by pid ${dead.pid} \\(.*hold\\) since `,
    ),
  );
  assert.ok(!await exists(lockFile(out)), "report left its lock behind");
  await Deno.remove(out, { recursive: true });
});

Deno.test("a live holder is named while waited for; SIGINT/SIGTERM remove its lock", async () => {
  const out = await scratchOut();
  const alive = await holder(out);
  const waiter = taskCommand("report", ["report", "--out", out]).spawn();
  await waiter.stdout.cancel();
  const silent = setTimeout(() => waiter.kill("SIGKILL"), 60_000); // it would wait 10 min
  const { first, rest } = await firstLine(waiter.stderr);
  clearTimeout(silent);
  assert.match(
    first,
    new RegExp(
      `^waiting for .*\\.claimcheck\\.lock: held by pid ${alive.pid} .*\\(hold\\) ` +
        "since \\d{4}-\\d\\d-\\d\\dT",
    ),
  );
  alive.kill("SIGTERM");
  assert.equal((await alive.status).code, 143);
  assert.equal((await waiter.status).code, 0, await rest);
  assert.ok(!await exists(lockFile(out)));

  const interrupted = await holder(out);
  interrupted.kill("SIGINT");
  assert.equal((await interrupted.status).code, 130);
  assert.ok(!await exists(lockFile(out)), "SIGINT left the lock file behind");
  await Deno.remove(out, { recursive: true });
});
