/**
 * The GitHub Actions workflows (.github/workflows/replicate.yml, which retrains, and pages.yml,
 * which publishes the site of the records) cannot run here, so their wiring is checked instead:
 * they parse, their jobs depend on each other in order, every `deno task` they run exists and
 * every flag it passes is one its command takes (from the option table,
 * harness/commands/_options.ts), the shards cover the grid, and the folders handed between jobs
 * match.
 */
import assert from "assert";
import { relative } from "node:path";
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { parse } from "yaml";
import { PROJECT_ROOT, REPORTS_DIR } from "../harness/util/paths.ts";
import { parseShard } from "../harness/results/shard.ts";
import { COMMANDS } from "../harness/cli.ts";

const root = new URL("../", import.meta.url);
const read = (path: string) => Deno.readTextFile(new URL(path, root));

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string | string[];
  permissions?: Record<string, string>;
  strategy?: { matrix?: Record<string, unknown[]> };
  steps: Step[];
}

type Workflow = { on: Record<string, unknown>; jobs: Record<string, Job> };
const workflow = parse(await read(".github/workflows/replicate.yml")) as Workflow;
const pages = parse(await read(".github/workflows/pages.yml")) as Workflow;
const tasks: Record<string, string> = JSON.parse(await read("deno.json")).tasks;

/**
 * The options the command line's `command` takes, as its parseArgs reads them: the ones the
 * command picked from the option table.
 */
function cliOptions(command: string): ParseArgsOptionsConfig {
  assert.ok(Object.hasOwn(COMMANDS, command), `cli.ts: main does not dispatch "${command}"`);
  return COMMANDS[command as keyof typeof COMMANDS].help.options;
}

/** One `deno task <name> <args…>` of a job, with `${{ matrix.<key> }}` filled in. */
interface TaskRun {
  task: string;
  args: string[];
  matrix: Record<string, unknown>;
}

/** Every `deno task` a job runs, once per combination of its matrix. */
function taskRuns(job: Job): TaskRun[] {
  let combos: Record<string, unknown>[] = [{}];
  for (const [key, values] of Object.entries(job.strategy?.matrix ?? {})) {
    assert.ok(Array.isArray(values), `matrix.${key}: only plain lists are read here`);
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
  }
  return combos.flatMap((matrix) =>
    job.steps.flatMap((step) => {
      const script = (step.run ?? "").replace(
        /\$\{\{\s*matrix\.(\w+)\s*\}\}/g,
        (_, key) => String(matrix[key]),
      );
      return script.split(/&&|\|\||;|\n/).map((c) => c.trim().split(/\s+/))
        .filter((words) => words[0] === "deno" && words[1] === "task")
        .map(([, , task, ...args]) => {
          assert.ok(!args.join(" ").includes("${{"), `deno task ${task}: an unchecked expression`);
          return { task, args, matrix };
        });
    })
  );
}

const { shard, merge, deploy } = workflow.jobs;
const runs = Object.values(workflow.jobs).flatMap(taskRuns);
/** The job's step that uses `action` (e.g. actions/upload-artifact), at any version. */
const using = (job: Job, action: string) => job.steps.find((s) => s.uses?.startsWith(`${action}@`));

Deno.test("workflow: shard, merge and deploy jobs, each after the one before", () => {
  assert.ok(shard && merge && deploy, `jobs: ${Object.keys(workflow.jobs).join(", ")}`);
  assert.deepEqual([merge.needs].flat(), ["shard"]);
  assert.deepEqual([deploy.needs].flat(), ["merge"]);
});

Deno.test("workflow: every deno task exists and gets only flags its command takes", () => {
  assert.deepEqual([...new Set(runs.map((r) => r.task))].sort(), ["merge", "replicate"]);
  for (const { task, args } of [...runs, ...Object.values(pages.jobs).flatMap(taskRuns)]) {
    assert.ok(task in tasks, `deno task ${task}: not in deno.json (${Object.keys(tasks)})`);
    const command = tasks[task].match(/\bharness\/cli\.ts (\w+)$/)?.[1];
    assert.ok(command, `deno task ${task}: not a harness/cli.ts command`);
    const options = cliOptions(command);
    // node:util's own parser with the command's options: an unknown flag or a missing value throws.
    parseArgs({ args, options, allowPositionals: true, strict: true });
  }
});

Deno.test("workflow: the shards cover the grid once, and each job reads what the last wrote", () => {
  const replicate = runs.filter((r) => r.task === "replicate");
  const flag = (r: TaskRun, name: string) => r.args[r.args.indexOf(`--${name}`) + 1];
  const shards = replicate.map((r) => parseShard(flag(r, "shard")));
  const count = shards[0]?.count;
  assert.ok(shards.every((s) => s.count === count), "one split");
  assert.deepEqual(
    shards.map((s) => s.index).sort((a, b) => a - b),
    Array.from({ length: count }, (_, i) => i + 1),
  );
  for (const r of replicate) assert.ok(r.args.includes("--all"), "every replication");
  const out = flag(replicate[0], "out");
  assert.ok(replicate.every((r) => flag(r, "out") === out));
  assert.equal(using(shard, "actions/upload-artifact")?.with?.path, out);
  assert.equal(using(merge, "actions/download-artifact")?.with?.path, out);
  const [mergeRun] = taskRuns(merge).filter((r) => r.task === "merge");
  assert.ok(mergeRun, "the merge job runs deno task merge");
  assert.deepEqual(mergeRun.args, [out], "merge reads the shards and writes the default --out");
  assert.equal(
    using(merge, "actions/upload-pages-artifact")?.with?.path,
    relative(PROJECT_ROOT, REPORTS_DIR),
  );
});

Deno.test("workflow: GitHub Pages deployment with least privilege, Deno as CI pins it", async () => {
  assert.ok(using(deploy, "actions/configure-pages") && using(deploy, "actions/deploy-pages"));
  assert.deepEqual(deploy.permissions, { pages: "write", "id-token": "write" });
  const pin = (text: string) => [...text.matchAll(/\bdeno@(\d+\.\d+\.\d+)/g)].map((m) => m[1]);
  const ci = pin(await read(".ci/run"));
  const installs = pin(
    await read(".github/workflows/replicate.yml") + await read(".github/workflows/pages.yml"),
  );
  assert.ok(ci.length && installs.length);
  assert.deepEqual([...new Set([...ci, ...installs])], [ci[0]]);
  for (const job of [shard, merge]) {
    assert.ok(job.steps.some((s) => s.run?.includes("deno install --frozen")), "locked packages");
  }
});

Deno.test("pages: every push publishes the site of the records, without training", () => {
  assert.deepEqual(Object.keys(pages.on).sort(), ["push", "workflow_dispatch"]);
  assert.deepEqual(Object.keys(workflow.on), ["workflow_dispatch"], "retraining only by hand");
  const { build, deploy: publish } = pages.jobs;
  assert.deepEqual(taskRuns(build).map((r) => [r.task, ...r.args]), [["report"]]);
  assert.ok(build.steps.some((s) => s.run?.includes("deno install --frozen")), "locked packages");
  assert.equal(
    using(build, "actions/upload-pages-artifact")?.with?.path,
    relative(PROJECT_ROOT, REPORTS_DIR),
  );
  assert.deepEqual([publish.needs].flat(), ["build"]);
  assert.deepEqual(publish.permissions, { pages: "write", "id-token": "write" });
  assert.ok(using(publish, "actions/deploy-pages"));
});
