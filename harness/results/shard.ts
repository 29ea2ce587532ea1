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
 * Combines shard results of one replication into one results record. Throws when the shards
 * disagree on the grid, backend or commit, or when grid cells are missing or run twice.
 */
export function mergeShards(parts: Results[], spec: ReplicationSpec): Results {
  const [first] = parts;
  const problems: string[] = [];
  for (const p of parts) {
    if (p.replication !== first.replication) {
      problems.push(`mixes ${p.replication} with ${first.replication}`);
    }
    if (JSON.stringify(p.grid) !== JSON.stringify(first.grid)) {
      problems.push(`shard ${p.shard?.index} has another grid`);
    }
    if (p.backend.name !== first.backend.name) {
      problems.push(`backends differ: ${p.backend.name}, ${first.backend.name}`);
    }
    if (p.gitCommit !== first.gitCommit) {
      problems.push(`commits differ: ${p.gitCommit}, ${first.gitCommit}`);
    }
  }
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
