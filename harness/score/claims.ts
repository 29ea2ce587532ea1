/**
 * Claim scoring: what each claim's protocol measured per seed, judged against the claim.
 * Used by a rerun and by `merge`; it trains nothing.
 * @module
 */
import { type ClaimResult, epochValue, type Run } from "../results/result.ts";
import { PARAMS_METRIC, protocolMetrics } from "../spec/metrics.ts";
import type { Better, Claim, ReplicationSpec } from "../spec/spec.ts";
import { timeToTarget } from "./time_to_accuracy.ts";
import { verdictFor } from "./verdict.ts";

/** The better side of a claim's metric, as its protocol declares it. */
export function betterOf(
  spec: Pick<ReplicationSpec, "protocols" | "metrics">,
  claim: Claim,
): Better {
  const p = spec.protocols.find((q) => q.id === claim.protocol);
  return (p && protocolMetrics(p, spec.metrics).get(claim.metric)) ?? "neither";
}

/**
 * A claim's value in one run: the parameter count, or the metric at the claim's epoch (default:
 * the run's final model). A run that diverged at or before that epoch gives NaN, whatever the
 * metric (an accuracy of NaN predictions is still a finite number). Undefined where the run
 * never reached that epoch (e.g. under --epochs).
 */
export function claimValue(claim: Claim, run: Run): number | undefined {
  if (claim.metric === PARAMS_METRIC) return run.params;
  if (run.diverged && (claim.epoch === undefined || claim.epoch >= run.diverged.epoch)) return NaN;
  const e = claim.epoch ?? run.finalEpoch;
  const rec = run.epochs.find((r) => r.epoch === e);
  return rec ? epochValue(rec, claim.metric) : undefined;
}

/**
 * "degenerate: every test output is class k" where the final model of a run a claim reads
 * predicted one class for every test sample of the claim's output (its `testPredictions`), so
 * that a miss is not read as a near miss; the seeds are named unless every run is alike.
 * Undefined for a claim on the parameter count or on an earlier epoch than a run's final one.
 */
function _degenerateNote(claim: Claim, runs: Run[]): string | undefined {
  if (claim.metric === PARAMS_METRIC) return undefined;
  const output = /\.([a-z0-9_]+)$/.exec(claim.metric)?.[1];
  const read = runs.filter((r) => claim.epoch === undefined || claim.epoch === r.finalEpoch);
  const seedsOf = new Map<string, number[]>(); // " of same is class 0" → the seeds
  for (const run of read) {
    for (const t of run.testPredictions ?? []) {
      if (t.distinct !== 1 || (output !== undefined && t.output !== output)) continue;
      const what = `${t.output ? ` of ${t.output}` : ""} is class ${t.top}`;
      seedsOf.set(what, [...seedsOf.get(what) ?? [], run.seed]);
    }
  }
  if (!seedsOf.size) return undefined;
  const all = seedsOf.size === 1 && [...seedsOf.values()][0].length === read.length;
  const parts = [...seedsOf].map(([what, seeds]) =>
    `every test output${what}${
      all ? "" : ` in ${seeds.length > 1 ? "seeds" : "seed"} ${seeds.join(", ")}`
    }`
  );
  return `degenerate: ${parts.join("; ")}`;
}

/** Compares every claim whose protocol ran with what the runs measured. */
export function claimResults(
  spec: Pick<ReplicationSpec, "protocols" | "metrics" | "claims">,
  runs: Run[],
): ClaimResult[] {
  return spec.claims.flatMap((claim) => {
    const mine = runs.filter((run) => run.protocol === claim.protocol);
    const measured = mine.flatMap((run) => {
      const value = claimValue(claim, run);
      return value === undefined ? [] : [{ seed: run.seed, value }];
    });
    if (!measured.length) return [];
    const better = betterOf(spec, claim);
    const values = measured.map((m) => m.value);
    const verdict = verdictFor({ ...claim, better }, values);
    const note = _degenerateNote(claim, mine);
    const diverged = mine.filter((r) => r.diverged).map((r) =>
      `seed ${r.seed} diverged at epoch ${r.diverged!.epoch} (${r.diverged!.metric} not finite)`
    );
    return [{
      id: claim.id,
      source: claim.source,
      statement: claim.statement,
      protocol: claim.protocol,
      metric: claim.metric,
      better,
      epoch: claim.metric === PARAMS_METRIC ? null : claim.epoch ?? null,
      claimed: claim.claimed,
      compare: claim.compare,
      epsilon: claim.epsilon,
      seeds: measured.map((m) => m.seed),
      values: values.map((v) => Number.isFinite(v) ? v : null),
      ...verdict,
      evidence: diverged.length ? `${verdict.evidence}; ${diverged.join("; ")}` : verdict.evidence,
      mean: verdict.stats?.mean ?? null,
      timeToTarget: timeToTarget({ ...claim, better }, mine),
      ...(note ? { note } : {}),
    }];
  });
}
