/**
 * Keeps a replication's code from ending claimcheck. `Deno.exit` called from a model builder or
 * at the import of a model.ts would end a rerun with nothing written, and with exit code 0 it
 * would look like success; while guarded, such a call throws instead, so it fails the run (or the
 * loading) it was made in like any other error. (In a worker, `Deno.exit` ends only the worker,
 * which would leave its runs waiting forever.)
 * @module
 */
import { fileURLToPath } from "node:url";

const _HARNESS = new URL("./", import.meta.url).href;

/**
 * Makes `Deno.exit` (and `process.exit`, which calls it) throw when called from outside
 * harness/; the harness's own calls still exit. Returns a function that undoes it.
 */
export function guardExit(): () => void {
  const deno = Deno as unknown as { exit: (code?: number) => never };
  const exit = deno.exit;
  deno.exit = (code?: number) => {
    const caller = _caller(new Error().stack ?? "");
    if (caller === undefined || caller.startsWith(_HARNESS)) return exit(code);
    throw new Error(
      `${_readable(caller)} called Deno.exit(${code ?? ""}) while claimcheck was running; ` +
        "a replication must not end the process: throw an error instead",
    );
  };
  return () => {
    deno.exit = exit;
  };
}

/** The `url:line:column` of the function that called the guarded exit (the stack's 3rd line). */
function _caller(stack: string): string | undefined {
  return stack.split("\n")[2]?.match(/([a-z]+:[^\s()]+:\d+:\d+)\)?$/)?.[1];
}

/** A file URL as a path; other locations (node:process) as they are. */
function _readable(location: string): string {
  return location.startsWith("file:") ? fileURLToPath(location) : location;
}
