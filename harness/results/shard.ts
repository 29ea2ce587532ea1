/**
 * Spreading one rerun over machines: `--shard i/n` runs a deterministic slice of the
 * (replication, protocol, seed) grid, and `merge` combines the shards' results.
 * @module
 */
import type { Results, Run } from "./result.ts";
import { ResultsSchema } from "./result.ts";
import { claimResults } from "../score/claims.ts";
import type { ReplicationSpec } from "../spec/spec.ts";

/** Shard i of n, 1-based. */
export interface Shard {
  /** Which shard this is, 1..count. */
  index: number;
  /** How many shards the grid is split into. */
  count: number;
}

/** Parses "i/n" with 1 ≤ i ≤ n. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(m?.[1]), count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) {
    throw new Error(`--shard: "${text}" is not i/n with 1 ≤ i ≤ n (e.g. 2/4)`);
  }
  return { index, count };
}

/**
 * The items of shard i/n: every n-th item starting at i − 1, so that long and short protocols
 * spread evenly and every machine computes the same split from the same command.
 */
export function shardItems<T>(items: T[], shard: Shard): T[] {
  return items.filter((_, k) => k % shard.count === shard.index - 1);
}

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
