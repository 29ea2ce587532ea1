/**
 * The content hash of the code a run executes: a replication's model.ts and every local file it
 * imports, and the harness's training path with every local file that imports. Runs are keyed
 * by it (beside spec, data, backend and tfjs), so editing model.ts, a file it imports or the
 * trainer makes new runs that never mix with old ones, committed or not, tracked or not.
 * @module
 */
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "@babel/parser";
import { PROJECT_ROOT } from "./paths.ts";
import { sha256Hex } from "./sha256_hex.ts";

/** What a run's code hash covers. */
export interface CodeHash {
  /** SHA-256 over every file's name and SHA-256, in name order. */
  sha256: string;
  /** The files hashed: `replication:<path>` inside the replication folder, else a project path. */
  files: string[];
}

/** The entry points of the harness's training path (the in-process and the worker one). */
const _HARNESS_ROOTS = ["harness/pipeline/replicate.ts", "harness/train/_run_worker.ts"].map((f) =>
  join(PROJECT_ROOT, f)
);
/** Code the training path reads rather than imports: the SIMD kernels, by their checksums. */
const _HARNESS_DATA = [join(PROJECT_ROOT, "harness/backend/simd/SHA256SUMS")];

/**
 * The code hash of a replication folder's runs: its model.ts and the harness's training path,
 * with every local module they import, and the SIMD kernels' checksums (npm: and node: modules
 * are versioned by the lock file and the recorded tfjs version). Names are relative, so two
 * checkouts of the same code agree.
 */
export async function codeHash(folder: string): Promise<CodeHash> {
  const files = [
    ...await _localImports([join(folder, "model.ts"), ..._HARNESS_ROOTS]),
    ..._HARNESS_DATA,
  ];
  const name = (file: string) => {
    const inFolder = relative(folder, file);
    return inFolder.startsWith("..") ? relative(PROJECT_ROOT, file) : `replication:${inFolder}`;
  };
  const entries = await Promise.all(
    files.map(async (f) => `${name(f)}\0${await sha256Hex(await Deno.readFile(f))}`),
  );
  entries.sort();
  return {
    sha256: await sha256Hex(entries.join("\n")),
    files: entries.map((e) => e.split("\0")[0]),
  };
}

/** The project's import map (deno.json `imports`), for bare names such as `claimcheck/plugin`. */
function _importMap(): Record<string, string> {
  const config = JSON.parse(Deno.readTextFileSync(join(PROJECT_ROOT, "deno.json")));
  return config.imports ?? {};
}

/** A specifier as a local file path, or null for a module outside the project (npm:, node:). */
function _localPath(specifier: string, from: string, map: Record<string, string>): string | null {
  const mapped = Object.entries(map).find(([k]) =>
    k.endsWith("/") ? specifier.startsWith(k) : specifier === k
  );
  if (mapped) {
    const [key, target] = mapped;
    const to = target + specifier.slice(key.length);
    return /^\.{0,2}\//.test(to) ? resolve(PROJECT_ROOT, to) : _localPath(to, from, {});
  }
  if (specifier.startsWith("file:")) return fileURLToPath(specifier);
  return /^\.{0,2}\//.test(specifier) ? resolve(dirname(from), specifier) : null;
}

/**
 * Every local file reachable from `roots` through static, type-only and dynamic imports and
 * re-exports with a literal specifier, read from a TypeScript parse (not a pattern over text).
 */
async function _localImports(roots: string[]): Promise<string[]> {
  const map = _importMap();
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of await _specifiersOf(file)) {
      const path = _localPath(specifier, file, map);
      if (path !== null && !seen.has(path)) queue.push(path);
    }
  }
  return [...seen];
}

/** Each file's specifiers by its text: replications share the harness's files. */
const _parsed = new Map<string, string[]>();

async function _specifiersOf(file: string): Promise<string[]> {
  if (!/\.[cm]?[jt]sx?$/.test(file)) return []; // an imported JSON file is hashed, not parsed
  const text = await Deno.readTextFile(file);
  const found = _parsed.get(text) ?? _specifiers(text);
  _parsed.set(text, found);
  return found;
}

/** A node of Babel's syntax tree, as far as the walk needs it. */
type _Node = { type?: string; value?: unknown; [field: string]: unknown };

/** The module specifiers a TypeScript source imports or re-exports. */
function _specifiers(source: string): string[] {
  const ast = parse(source, { sourceType: "module", plugins: ["typescript"] });
  const found: string[] = [];
  const literal = (n: unknown) => {
    const node = n as _Node | undefined;
    if (node?.type === "StringLiteral") found.push(node.value as string);
  };
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (n === null || typeof n !== "object") return;
    const node = n as _Node;
    if (/^(Import|ExportNamed|ExportAll)Declaration$/.test(node.type ?? "")) literal(node.source);
    if (node.type === "ImportExpression") literal(node.source);
    if (node.type === "CallExpression" && (node.callee as _Node).type === "Import") {
      literal((node.arguments as unknown[])[0]);
    }
    if (node.type === "TSImportType") {
      literal(node.argument);
      literal((node.argument as _Node | undefined)?.literal);
    }
    for (const [key, value] of Object.entries(node)) {
      if (key !== "loc" && key !== "extra") walk(value);
    }
  };
  walk(ast.program);
  return found;
}
