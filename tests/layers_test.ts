/**
 * The harness is a one-way stack of layers (ARCHITECTURE.md): a file may import its own layer
 * and the layers below it, never one above. Read from the sources with a real parser (imports,
 * re-exports, `import()` and worker URLs), so a new arrow pointing back fails here, with the
 * file and the import named. Also: `_`-prefixed files are private to their folder, and a
 * replication imports the harness only through `claimcheck/plugin`, never another replication.
 */
import assert from "assert";
import { dirname, join, relative, resolve } from "node:path";
import { parse } from "@babel/parser";
import { PROJECT_ROOT } from "../harness/util/paths.ts";

/** The layers, lowest first. */
const LAYERS = [
  "util",
  "spec",
  "data",
  "backend",
  "results",
  "contract",
  "train",
  "score",
  "pipeline",
  "report",
  "import",
  "commands",
] as const;

/** Files directly in harness/ and the layer each belongs to (the rest live in a layer's folder). */
const ROOT_FILES: Record<string, (typeof LAYERS)[number]> = {
  "plugin.ts": "contract",
  "replications.ts": "contract",
  "_import_worker.ts": "contract",
  "cli.ts": "commands",
};

/** The layer of a project path under harness/, or an error naming the file. */
function layerOf(path: string): string {
  const parts = path.split("/");
  if (parts[0] !== "harness") throw new Error(`${path}: not in harness/`);
  const layer = parts.length === 2 ? ROOT_FILES[parts[1]] : parts[1];
  if (!layer || !(LAYERS as readonly string[]).includes(layer)) {
    throw new Error(
      `${path}: in no layer; give it one in tests/layers_test.ts and ARCHITECTURE.md`,
    );
  }
  return layer;
}

/** The local modules a TypeScript source names: imports, re-exports, `import()`, `new URL()`. */
function localSpecifiers(source: string): string[] {
  const ast = parse(source, { sourceType: "module", plugins: ["typescript"] });
  const found: string[] = [];
  const visit = (node: unknown): void => {
    if (!node || typeof node !== "object") return;
    if (Array.isArray(node)) return node.forEach(visit);
    const n = node as Record<string, unknown> & { type?: string };
    const source = (n.source as { value?: unknown } | null | undefined)?.value;
    if (
      /^(Import|ExportNamed|ExportAll)Declaration$/.test(n.type ?? "") && typeof source === "string"
    ) found.push(source);
    const call = n.type === "ImportExpression" || n.type === "NewExpression" ||
      (n.type === "CallExpression" && (n.callee as { type?: string })?.type === "Import");
    const first = (n.arguments as { type?: string; value?: unknown }[] | undefined)?.[0] ??
      (n.source as { type?: string; value?: unknown } | undefined);
    if (call && first?.type === "StringLiteral" && typeof first.value === "string") {
      found.push(first.value);
    }
    for (const [key, value] of Object.entries(n)) {
      if (key !== "loc" && key !== "start" && key !== "end") visit(value);
    }
  };
  visit(ast.program);
  return found.filter((s) => /^\.\.?\//.test(s) && s.endsWith(".ts"));
}

/** Every .ts file under `dir` (a project path), recursively. */
async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(join(PROJECT_ROOT, dir))) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await tsFiles(path));
    else if (e.name.endsWith(".ts")) out.push(path);
  }
  return out.sort();
}

/** A project path's local imports, as project paths. */
async function importsOf(path: string): Promise<string[]> {
  const source = await Deno.readTextFile(join(PROJECT_ROOT, path));
  return localSpecifiers(source).map((s) =>
    relative(PROJECT_ROOT, resolve(PROJECT_ROOT, dirname(path), s))
  );
}

/** The imports that break the layer rule or a private file's folder, one line each. */
function violations(edges: [string, string][]): string[] {
  const rank = (path: string) => LAYERS.indexOf(layerOf(path) as (typeof LAYERS)[number]);
  const out: string[] = [];
  for (const [from, to] of edges) {
    if (!to.startsWith("harness/")) continue;
    if (rank(to) > rank(from)) {
      out.push(`${from} (${layerOf(from)}) imports ${to} (${layerOf(to)}), a layer above it`);
    }
    const name = to.split("/").at(-1)!;
    if (name.startsWith("_") && dirname(to) !== dirname(from)) {
      out.push(`${from} imports ${to}, private to ${dirname(to)}/`);
    }
  }
  return out;
}

Deno.test("layers: the rule catches an arrow pointing back and a private file used elsewhere", () => {
  assert.deepEqual(violations([["harness/spec/spec.ts", "harness/util/paths.ts"]]), []);
  assert.deepEqual(violations([["harness/train/trainer.ts", "harness/score/claims.ts"]]), [
    "harness/train/trainer.ts (train) imports harness/score/claims.ts (score), a layer above it",
  ]);
  assert.deepEqual(violations([["harness/report/site.ts", "harness/train/_run_worker.ts"]]), [
    "harness/report/site.ts imports harness/train/_run_worker.ts, private to harness/train/",
  ]);
  assert.throws(() => violations([["harness/x/y.ts", "harness/util/paths.ts"]]), /in no layer/);
});

Deno.test("layers: the specifier reader sees imports, re-exports, import() and worker URLs", () => {
  const source = `import type { A } from "./a.ts";
    import * as tf from "@tensorflow/tfjs";
    export { b } from "../b.ts";
    export * from "./c.ts";
    const d = await import("./d.ts");
    new Worker(new URL("./e.ts", import.meta.url), { type: "module" });`;
  assert.deepEqual(localSpecifiers(source), ["./a.ts", "../b.ts", "./c.ts", "./d.ts", "./e.ts"]);
});

Deno.test("layers: every harness import points down the stack (or within its layer)", async () => {
  const edges: [string, string][] = [];
  for (const file of await tsFiles("harness")) {
    for (const to of await importsOf(file)) edges.push([file, to]);
  }
  assert.ok(edges.length > 100, `only ${edges.length} imports found: is the reader broken?`);
  assert.deepEqual(violations(edges), []);
});

Deno.test("layers: a replication imports the harness only as claimcheck/plugin", async () => {
  const problems: string[] = [];
  for (const file of await tsFiles("replications")) {
    const folder = file.split("/").slice(0, 2).join("/");
    for (const to of await importsOf(file)) {
      if (!to.startsWith(`${folder}/`)) problems.push(`${file} imports ${to}`);
    }
  }
  assert.deepEqual(problems, []);
});
