/** The CLI run as a `deno task` runs it: with the task's permissions, from the project root. */
import assert from "assert";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PROJECT_ROOT } from "../harness/util/paths.ts";

const CLI = fileURLToPath(new URL("../harness/cli.ts", import.meta.url));

/** The permission flags deno.json's `task` declares (its paths are relative to the root). */
function _permissions(task: string): string[] {
  const config = JSON.parse(Deno.readTextFileSync(join(PROJECT_ROOT, "deno.json")));
  const words = (config.tasks[task] as string).split(/\s+/);
  assert.ok(!words.some((w) => w === "-A" || w === "--allow-all"), `${task} runs with -A`);
  return words.filter((w) => w.startsWith("--"));
}

/** `harness/cli.ts <args>` with `task`'s permissions, from the project root. */
export function taskCommand(task: string, args: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ..._permissions(task), CLI, ...args],
    cwd: PROJECT_ROOT,
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs `harness/cli.ts <args>` with `task`'s permissions: exit code, stdout and stderr. */
export async function runTask(task: string, ...args: string[]) {
  const out = await taskCommand(task, args).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * {@link runTask}, killed (SIGKILL, exit code 137) if it has not ended within `seconds`: a
 * command that hangs fails its test instead of stalling it.
 */
export async function runTaskWithin(seconds: number, task: string, ...args: string[]) {
  const child = taskCommand(task, args).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), seconds * 1000);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
