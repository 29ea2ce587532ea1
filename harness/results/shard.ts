/**
 * Spreading one rerun over machines: `--shard i/n` runs a deterministic slice of the
 * (replication, protocol, seed) grid, and `merge` combines the shards' results (score/merge.ts, which rescores the union).
 * @module
 */

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
