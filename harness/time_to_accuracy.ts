/**
 * MLPerf-style time-to-accuracy: the clock runs from a run's `run_start` event to its first
 * `eval_accuracy` event at or above the target. Warm-up and data loading are logged apart.
 * @module
 */
import type { ClaimResult, Run } from "./result.ts";
import type { Claim } from "./spec.ts";

/**
 * The accuracy a claim sets as a target: claimed − ε for a final test accuracy claimed with
 * `approx` or `atLeast`; null for other claims (curve points, losses, counts, failures).
 */
export function targetOf(claim: Claim): number | null {
  const final = claim.metric === "test_acc" && claim.epoch === undefined;
  return final && (claim.compare === "approx" || claim.compare === "atLeast")
    ? claim.claimed - claim.epsilon
    : null;
}

/** One run's seconds and epochs to reach `target`, or nulls if it never did. */
export function runTimeToTarget(run: Run, target: number) {
  const start = run.events.find((e) => e.key === "run_start");
  const hit = run.events.find((e) =>
    e.key === "eval_accuracy" && typeof e.value === "number" && e.value >= target
  );
  return start && hit
    ? { seed: run.seed, seconds: (hit.time - start.time) / 1000, epochs: hit.epoch ?? null }
    : { seed: run.seed, seconds: null, epochs: null };
}

/**
 * Time-to-accuracy of a claim over its runs. The olympic mean drops the fastest and the
 * slowest run (n ≥ 3); as in MLPerf, one run that never reaches the target may be the dropped
 * slowest one, more than one leaves no result.
 */
export function timeToTarget(claim: Claim, runs: Run[]): ClaimResult["timeToTarget"] {
  const target = targetOf(claim);
  if (target === null || !runs.length) return null;
  const perSeed = runs.map((r) => runTimeToTarget(r, target));
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
