/**
 * The command line: `deno task replicate <name…> | --all`, `report`, `merge`, `new`, `verify`,
 * `record` and `explain`, each a file of harness/commands/; this one sends the arguments to it.
 * @module
 */
import { guardExit } from "./util/exit_guard.ts";
import { explainCommand, explainHelp } from "./commands/explain.ts";
import { mergeCommand, mergeHelp } from "./commands/merge.ts";
import { newCommand, newHelp } from "./commands/new.ts";
import { recordCommand, recordHelp } from "./commands/record.ts";
import { replicateCommand, replicateHelp } from "./commands/replicate.ts";
import { reportCommand, reportHelp } from "./commands/report.ts";
import { isUsageError, UsageError } from "./commands/usage_error.ts";
import { verifyCommand, verifyHelp } from "./commands/verify.ts";

/** Each command's function and help (usage lines, options), in the order the usage lists them. */
export const COMMANDS = {
  replicate: { run: replicateCommand, help: replicateHelp },
  report: { run: reportCommand, help: reportHelp },
  merge: { run: mergeCommand, help: mergeHelp },
  new: { run: newCommand, help: newHelp },
  verify: { run: verifyCommand, help: verifyHelp },
  record: { run: recordCommand, help: recordHelp },
  explain: { run: explainCommand, help: explainHelp },
};

const USAGE = [
  "usage:",
  ...Object.values(COMMANDS).map((c) => c.help.synopsis),
  ...Object.entries(COMMANDS).flatMap(([name, c]) =>
    c.help.optionsHelp ? ["", `options (${name}):`, c.help.optionsHelp] : []
  ),
].join("\n");

/**
 * `--opt -1` as `--opt=-1`: node:util's parseArgs rejects an option value that starts with a
 * dash as "ambiguous", but a negative number after an option can only be its value, which the
 * option's own check then rejects clearly (`--seed: need a whole number ≥ 0, got -1`).
 */
function _joinNegativeValues(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    if (/^--[^=]+$/.test(args[i]) && next !== undefined && /^-\.?\d/.test(next)) {
      out.push(`${args[i]}=${next}`);
      i++;
    } else out.push(args[i]);
  }
  return out;
}

/** Runs the CLI and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = _joinNegativeValues(argv);
  const unguardExit = guardExit();
  try {
    if (!Object.hasOwn(COMMANDS, name ?? "")) {
      throw new UsageError(`unknown command "${name ?? ""}"`);
    }
    return await COMMANDS[name as keyof typeof COMMANDS].run(rest);
  } catch (e) {
    const usage = isUsageError(e);
    console.error(`error: ${(e as Error).message}${usage ? `\n\n${USAGE}` : ""}`);
    return usage ? 2 : 1;
  } finally {
    unguardExit();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
