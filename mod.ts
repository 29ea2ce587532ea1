/**
 * claimcheck: rerun published claims about small neural networks and say, with evidence,
 * whether each one holds.
 *
 * The command line (`deno task replicate <name> | --all`, `deno task report`) covers the usual
 * work; this module exposes the same pieces for scripts and tests.
 *
 * Decide a claim from reproduced values:
 *
 * ```ts
 * import { verdictFor } from "./mod.ts";
 *
 * const claim = { metric: "test_acc", claimed: 0.9714, compare: "approx", epsilon: 0.005 } as const;
 * const { verdict } = verdictFor(claim, [0.9731, 0.9702, 0.9715]);
 * if (verdict !== "reproduced") throw new Error(verdict);
 * ```
 *
 * Load and validate a replication folder, then rerun one protocol briefly:
 *
 * ```ts ignore
 * import { loadReplication, replicate, setupBackend } from "./mod.ts";
 *
 * const rep = await loadReplication("keras-dense");
 * const backend = await setupBackend("auto");
 * const results = await replicate(rep, {
 *   seeds: [1],
 *   protocols: ["slides"],
 *   epochs: 1,
 *   backend,
 *   command: "example",
 * });
 * console.log(results.claims.map((c) => `${c.id}: ${c.verdict}`));
 * ```
 *
 * Seeded shuffling, independent of Math.random:
 *
 * ```ts
 * import { mulberry32, shuffledIndices } from "./mod.ts";
 *
 * const order = shuffledIndices(5, mulberry32(1));
 * if (order.length !== 5) throw new Error("not a permutation");
 * ```
 * @module
 */
export * from "./harness/backend.ts";
export * from "./harness/datasets.ts";
export * from "./harness/data_error.ts";
export * from "./harness/idx.ts";
export * from "./harness/random.ts";
export * from "./harness/init.ts";
export * from "./harness/spec.ts";
export * from "./harness/result.ts";
export * from "./harness/verdict.ts";
export * from "./harness/replications.ts";
export * from "./harness/run.ts";
export * from "./harness/report.ts";
export * from "./harness/site.ts";
export * from "./harness/stats.ts";
export * from "./harness/shard.ts";
export * from "./harness/step.ts";
export * from "./harness/train.ts";
export * from "./harness/time_to_accuracy.ts";
export * from "./harness/event_log.ts";
export * from "./harness/chart.ts";
