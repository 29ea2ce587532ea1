/**
 * Combining result records of one replication, the union rescored: the shards of one rerun
 * (`deno task merge`), and a rerun with the runs stored earlier under the same key.
 * @module
 */
import { type Results, ResultsSchema, type Run } from "../results/result.ts";
import type { ReplicationSpec } from "../spec/spec.ts";
import { claimResults } from "./claims.ts";

const _cell = (r: { protocol: string; seed: number }) => `${r.protocol}#${r.seed}`;

/**
 * Combines shard results of one replication into one results record, whatever order the shards
 * come in. Throws, naming every problem, when the shards are not one rerun split n ways: another
 * replication, grid, variant (--epochs, --dataset), spec, code, data, tfjs, backend or commit,
 * another shard count, a shard given twice, or grid cells missing or run twice.
 */
export function mergeShards(given: Results[], spec: ReplicationSpec): Results {
  const parts = [...given].sort((a, b) => (a.shard?.index ?? 0) - (b.shard?.index ?? 0));
  const [first] = parts;
  const problems: string[] = [];
  const name = (p: Results) => p.shard ? `shard ${p.shard.index}/${p.shard.count}` : "a non-shard";
  const same: [string, (r: Results) => unknown][] = [
    ["replication", (r) => r.replication],
    ["grid", (r) => r.grid],
    ["variant", (r) => r.variant ?? "none"],
    ["spec sha256", (r) => r.spec.sha256],
    ["code sha256", (r) => r.code?.sha256 ?? "not recorded"],
    ["datasets", (r) => r.datasets],
    ["tfjs", (r) => r.versions.tfjs],
    ["backend", (r) => r.backend.name],
    ["commit", (r) => r.gitCommit],
    ["shard count", (r) => r.shard?.count ?? null],
  ];
  for (const [what, of] of same) {
    const differs = parts.filter((p) => JSON.stringify(of(p)) !== JSON.stringify(of(first)));
    if (differs.length) {
      const show = (p: Results) => `${name(p)}: ${JSON.stringify(of(p)).slice(0, 80)}`;
      problems.push(`${what} differs (${[first, ...differs].map(show).join("; ")})`);
    }
  }
  const indexes = parts.map((p) => p.shard?.index);
  const twice = indexes.filter((i, k) => indexes.indexOf(i) !== k);
  if (twice.length) problems.push(`shard ${[...new Set(twice)].join(", ")} given twice`);
  const byCell = new Map<string, Run>();
  for (const run of parts.flatMap((p) => p.runs)) {
    if (byCell.has(_cell(run))) problems.push(`${run.protocol} seed ${run.seed} ran twice`);
    byCell.set(_cell(run), run);
  }
  const missing = first.grid.filter((c) => !byCell.has(_cell(c)));
  if (missing.length) {
    problems.push(`missing runs: ${missing.map((c) => `${c.protocol} seed ${c.seed}`).join(", ")}`);
  }
  if (problems.length) throw new Error(`cannot merge ${first.replication}: ${problems.join("; ")}`);

  const runs = first.grid.map((c) => byCell.get(_cell(c))!);
  const adapters = [...new Set(parts.map((p) => p.backend.adapter).filter((a) => a !== null))];
  return ResultsSchema.parse({
    ...first,
    createdAt: new Date().toISOString(),
    command: parts.map((p) => p.command).join(" + "),
    backend: { ...first.backend, adapter: adapters.length ? adapters.join("; ") : null },
    setupSeconds: Math.max(...parts.map((p) => p.setupSeconds)),
    shard: null,
    deviations: [...new Set(parts.flatMap((p) => p.deviations))],
    runs,
    claims: claimResults(spec, runs),
  });
}

/**
 * `results` with the stored runs of the same key that it lacks (e.g. another process's seeds,
 * or an earlier rerun's protocols): merged by run, its grid the union, its claims rescored.
 */
export function withStoredRuns(results: Results, stored: Run[], spec: ReplicationSpec): Results {
  const have = new Set(results.runs.map(_cell));
  const extra = stored.filter((r) => !have.has(_cell(r)));
  if (!extra.length) return results;
  const order = (r: { protocol: string; seed: number }) =>
    spec.protocols.findIndex((p) => p.id === r.protocol) * 1e9 + r.seed;
  const byOrder = <T extends { protocol: string; seed: number }>(xs: T[]) =>
    xs.sort((a, b) => order(a) - order(b));
  const runs = byOrder([...results.runs, ...extra]);
  const grid = byOrder(
    [...new Map([...results.grid, ...extra].map((c) => [_cell(c), {
      protocol: c.protocol,
      seed: c.seed,
    }])).values()],
  );
  const done = new Set(runs.map(_cell));
  return ResultsSchema.parse({
    ...results,
    grid,
    runs,
    claims: claimResults(spec, runs),
    deviations: [
      ...results.deviations,
      `merged ${extra.length} run(s) saved earlier with the same code, commit, spec, backend and data: ` +
      extra.map((r) => `${r.protocol} seed ${r.seed}`).join(", "),
    ],
    ...(results.interrupted
      ? {
        interrupted: {
          ...results.interrupted,
          unfinished: results.interrupted.unfinished.filter((t) => !done.has(_cell(t))),
        },
      }
      : {}),
  });
}
