/**
 * MLPerf-style time-to-accuracy: the clock runs from a run's `run_start` event to its first
 * `eval_accuracy` event at or above the target. Warm-up and data loading are logged apart.
 * @module
 */
import { type ClaimResult, epochValue, type Run } from "../results/result.ts";
import type { Better, Claim } from "../spec/spec.ts";

/** A claim with its metric's better side. */
export type TargetClaim = Pick<Claim, "metric" | "epoch" | "compare" | "claimed" | "epsilon"> & {
  better: Better;
};

/**
 * The accuracy a claim sets as a target: claimed − ε for a final test-set metric where higher
 * is better (an accuracy), claimed with `approx` or `atLeast`; null for other claims (curve
 * points, losses, counts, failures).
 */
export function targetOf(claim: TargetClaim): number | null {
  const final = claim.metric.startsWith("test_") && claim.better === "higher" &&
    claim.epoch === undefined;
  return final && (claim.compare === "approx" || claim.compare === "atLeast")
    ? claim.claimed - claim.epsilon
    : null;
}

/**
 * One run's seconds and epochs to reach `target` in `metric`, or nulls if it never did: from
 * `run_start` to the end of the first evaluation at or above the target.
 */
function _runTimeToTarget(run: Run, metric: string, target: number) {
  const start = run.events.find((e) => e.key === "run_start");
  const hit = run.epochs.find((e) => (epochValue(e, metric) ?? -Infinity) >= target);
  const evaluated = hit &&
    run.events.find((e) => e.key === "eval_accuracy" && e.epoch === hit.epoch);
  return start && evaluated
    ? { seed: run.seed, seconds: (evaluated.time - start.time) / 1000, epochs: hit.epoch }
    : { seed: run.seed, seconds: null, epochs: null };
}

/**
 * Time-to-accuracy of a claim over its runs. The olympic mean drops the fastest and the
 * slowest run (n ≥ 3); as in MLPerf, one run that never reaches the target may be the dropped
 * slowest one, more than one leaves no result.
 */
export function timeToTarget(claim: TargetClaim, runs: Run[]): ClaimResult["timeToTarget"] {
  const target = targetOf(claim);
  if (target === null || !runs.length) return null;
  const perSeed = runs.map((r) => _runTimeToTarget(r, claim.metric, target));
  const reached = perSeed.flatMap((p) => p.seconds === null ? [] : [p.seconds]).sort((a, b) =>
    a - b
  );
  const missed = perSeed.length - reached.length;
  let olympicSeconds: number | null = null;
  if (perSeed.length >= 3 && missed <= 1) {
    // A missed run is the slowest: drop it (or the slowest reached) and the fastest.
    const kept = reached.slice(1, missed ? reached.length : -1);
    olympicSeconds = kept.reduce((a, b) => a + b, 0) / kept.length;
  } else if (perSeed.length < 3 && missed === 0) {
    olympicSeconds = reached.reduce((a, b) => a + b, 0) / reached.length;
  }
  return { target, perSeed, olympicSeconds };
}
