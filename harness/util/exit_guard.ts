/**
 * Keeps a replication's code from ending claimcheck. `Deno.exit` called from a model builder or
 * at the import of a model.ts would end a rerun with nothing written, and with exit code 0 it
 * would look like success; while guarded, such a call throws instead, so it fails the run (or the
 * loading) it was made in like any other error. (In a worker, `Deno.exit` ends only the worker,
 * which would leave its runs waiting forever.)
 * @module
 */
import { fileURLToPath } from "node:url";

/** harness/, as a path: a call from a file below it is the harness's own. */
const _HARNESS = fileURLToPath(new URL("../", import.meta.url));

/**
 * Makes `Deno.exit` (and `process.exit`, which calls it) throw when called from outside
 * harness/; the harness's own calls still exit. Returns a function that undoes it.
 */
export function guardExit(): () => void {
  const deno = Deno as unknown as { exit: (code?: number) => never };
  const exit = deno.exit;
  deno.exit = (code?: number) => {
    const caller = _caller(new Error().stack ?? "");
    if (caller === undefined || caller.file.startsWith(_HARNESS)) return exit(code);
    const call = `Deno.exit(${code ?? ""})`;
    throw new Error(
      `${caller.file}:${caller.line} called ${call} while claimcheck was running; ` +
        "a replication must not end the process: throw an error instead",
    );
  };
  return () => {
    deno.exit = exit;
  };
}

/**
 * The file (a path for a file URL) and `line:column` of the function that called the guarded
 * exit (the stack's 3rd line). V8 writes a file URL percent-encoded in one place and decoded in
 * another (a worker), so the URL may hold spaces and is parsed, not matched.
 */
function _caller(stack: string): { file: string; line: string } | undefined {
  const at = stack.split("\n")[2]?.match(/^\s*at (?:[^(]*\()?(.+):(\d+:\d+)\)?$/);
  if (!at) return undefined;
  const [, location, line] = at;
  return { file: location.startsWith("file:") ? fileURLToPath(new URL(location)) : location, line };
}
