/**
 * The commands' options, each declared once: its parseArgs type, its default, the placeholder of
 * its value and its help line. A command picks the options it takes by name (parseOptions) and
 * lists them in its usage text (optionsHelp); the checks of their values are here too.
 * @module
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { type BackendChoice, BACKENDS } from "../backend/backend.ts";
import { REPLICATIONS_DIR, REPORTS_DIR } from "../util/paths.ts";
import { UsageError } from "./usage_error.ts";

/** A grid of more runs than this needs --yes: `--seeds 100000` is more likely a typo than a plan. */
const _MAX_RUNS = 100;

/** One option: parseArgs's type (and default), and where the usage lists it, its help. */
interface _Option {
  type: "string" | "boolean";
  default?: string;
  /** The placeholder of its value in the help, e.g. `DIR`. */
  value?: string;
  /**
   * Its help, `\n` between its lines; none for an option the usage text does not list (those
   * a command's synopsis names, and --resume, which the README's command line describes).
   */
  help?: string;
}

/** Every option of every command, in the order replicate's usage lists them. */
const _OPTIONS = {
  all: { type: "boolean" },
  seed: { type: "string", value: "S", help: "first seed (default 1)" },
  seeds: {
    type: "string",
    value: "N|a,b,c",
    help: "number of seeds starting at --seed, or an explicit list\n" +
      "(default: the spec's defaultSeeds, 5 for quick claims, 3 or more otherwise)",
  },
  backend: { type: "string", value: "B", help: "auto | webgpu | wasm | cpu (default auto)" },
  "data-dir": {
    type: "string",
    value: "DIR",
    help: "folder holding <dataset>/<file> (else $CLAIMCHECK_DATA_DIR, data/cache, download)",
  },
  epochs: {
    type: "string",
    value: "N",
    help: "override every protocol's epochs (recorded as a deviation)",
  },
  dataset: {
    type: "string",
    value: "NAME",
    help: "train and test every protocol on this dataset instead of its own (a\n" +
      "transfer test: same image size and classes; written beside the main results)",
  },
  protocols: {
    type: "string",
    value: "a,b",
    help: "run these protocols (default: all non-exploratory ones)",
  },
  out: {
    type: "string",
    default: REPORTS_DIR,
    value: "DIR",
    help: "where reports go (default reports/)",
  },
  replications: {
    type: "string",
    default: REPLICATIONS_DIR,
    value: "DIR",
    help: "folder holding the replication folders (default replications/)",
  },
  jobs: {
    type: "string",
    value: "N",
    help: "runs at once, each on its own worker (default and most: number of cores)",
  },
  yes: {
    type: "boolean",
    help: `train a grid of more than ${_MAX_RUNS} runs (asked for, against typos)`,
  },
  shard: {
    type: "string",
    value: "i/n",
    help: "run only slice i of n of the (replication, protocol, seed) grid and write\n" +
      "<out>/<name>/results.shard-i-of-n.json; combine them with deno task merge",
  },
  "check-determinism": {
    type: "boolean",
    help: "first train a short rerun of each replication twice (seed 1, 1 epoch,\n" +
      "layers protocols on 256 training images) and compare; one whose numbers\n" +
      "differ is named with the fields that differ and not trained",
  },
  json: { type: "boolean", help: "print the results as JSON on stdout instead of the table" },
  quiet: { type: "boolean", help: "no progress on stderr" },
  resume: { type: "boolean" },
  readmes: { type: "boolean" },
  variants: { type: "string" },
  protocol: {
    type: "string",
    value: "P",
    help: "only this protocol's run (with the stages it uses, which are not compared)",
  },
  from: { type: "string" },
  url: { type: "string" },
  keras: { type: "string" },
  fit: { type: "string" },
} as const satisfies Record<string, _Option>;

/** The name of an option, without its dashes. */
export type OptionName = keyof typeof _OPTIONS;

/** What a command gives the command line: its usage lines, and the options it takes. */
export interface CommandHelp {
  /** Its lines under `usage:`, as printed. */
  synopsis: string;
  /** The options it takes, as parseArgs reads them. */
  options: ParseArgsOptionsConfig;
  /** The help lines of its options, where the usage text lists them. */
  optionsHelp?: string;
}

/** The parseArgs options of `names`: their type and default, from the one table. */
export function pickOptions<const N extends OptionName>(
  names: readonly N[],
): { [K in N]: Omit<(typeof _OPTIONS)[K], "value" | "help"> } {
  return Object.fromEntries(names.map((name) => {
    const { value: _, help: __, ...parse } = _OPTIONS[name] as _Option;
    return [name, parse];
  })) as { [K in N]: Omit<(typeof _OPTIONS)[K], "value" | "help"> };
}

/** `args` parsed with the options `names` (positionals allowed); an unknown option throws. */
export function parseOptions<const N extends OptionName>(args: string[], names: readonly N[]) {
  return parseArgs({ args, allowPositionals: true, options: pickOptions(names) });
}

/**
 * The help lines of the options `names` that have help, in that order; `own` replaces the help
 * of an option that means something else to this command (verify's `--seed`).
 */
export function optionsHelp(
  names: readonly OptionName[],
  own: Partial<Record<OptionName, string>> = {},
): string {
  return names.flatMap((name) => {
    const option: _Option = _OPTIONS[name];
    const help = own[name] ?? option.help;
    if (help === undefined) return [];
    const flag = `--${name}${option.value ? ` ${option.value}` : ""}`;
    const [first, ...more] = help.split("\n");
    // Help starts in column 22; a flag that reaches it is set apart by two spaces.
    const column = flag.length < 19 ? flag.padEnd(19) : `${flag}  `;
    return [`  ${column}${first}`, ...more.map((line) => `${" ".repeat(21)}${line}`)];
  }).join("\n");
}

/** `--backend`'s value, checked (default auto). */
export function backendChoice(value = "auto"): BackendChoice {
  if (value !== "auto" && !(BACKENDS as readonly string[]).includes(value)) {
    throw new UsageError(`--backend: "${value}" is not one of auto, ${BACKENDS.join(", ")}`);
  }
  return value as BackendChoice;
}

/** `value` as a whole number ≥ `min`; anything else is a usage error naming `flag`. */
export function wholeNumber(flag: string, value: string, min = 0): number {
  if (!/^-?\d+$/.test(value.trim())) {
    throw new UsageError(`${flag}: "${value}" is not a whole number ≥ ${min}`);
  }
  const n = Number(value);
  if (n < min || !Number.isSafeInteger(n)) {
    throw new UsageError(`${flag}: need a whole number ≥ ${min}, got ${value}`);
  }
  return n;
}

/** Stops a grid of more than {@link _MAX_RUNS} runs unless --yes says it is meant. */
export function checkGridSize(runs: number, yes: boolean | undefined): void {
  if (runs > _MAX_RUNS && !yes) {
    throw new UsageError(
      `this would train ${runs} runs (more than ${_MAX_RUNS}); check --seeds and --protocols, ` +
        `or pass --yes to train them all`,
    );
  }
}

/** `--jobs`: at most the machine's cores (more workers than cores only wait), said when capped. */
export function jobCount(value: string | undefined): number {
  const cores = navigator.hardwareConcurrency;
  if (value === undefined) return cores;
  const asked = wholeNumber("--jobs", value, 1);
  if (asked > cores) {
    console.error(`--jobs ${asked}: capped at ${cores}, the number of cores of this machine`);
  }
  return Math.min(asked, cores);
}

/**
 * Parses `--seed`/`--seeds` (a count from --seed, or a list) into the seeds to run. Empty
 * entries and repeated seeds are errors: a seed listed twice is the same run counted twice.
 */
export function parseSeeds(seed?: string, seeds = "1"): number[] {
  if (!seeds.includes(",")) {
    const first = wholeNumber("--seed", seed ?? "1"), count = wholeNumber("--seeds", seeds, 1);
    return Array.from({ length: count }, (_, i) => first + i);
  }
  if (seed !== undefined) {
    throw new UsageError("--seed: give either --seed with a count in --seeds, or a --seeds list");
  }
  return _once("--seeds", _list("--seeds", seeds).map((s) => wholeNumber("--seeds", s)));
}

/** A comma-separated list of names, each once; an empty entry or a repeat is a usage error. */
export function nameList(flag: string, value: string): string[] {
  return _once(flag, _list(flag, value));
}

/** A comma-separated list; an empty entry is an error. */
function _list(flag: string, value: string): string[] {
  return value.split(",").map((s, i) => {
    if (!s.trim()) throw new UsageError(`${flag}: entry ${i + 1} of "${value}" is empty`);
    return s.trim();
  });
}

/** `items`, each once; a repeat is an error (a seed listed twice would count one run twice). */
function _once<T>(flag: string, items: T[]): T[] {
  const twice = items.find((s, i) => items.indexOf(s) !== i);
  if (twice !== undefined) {
    throw new UsageError(`${flag}: ${twice} is listed twice; list each once`);
  }
  return items;
}
