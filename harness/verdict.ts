/**
 * Verdict rules: how a claimed number and the reproduced per-seed values become a verdict.
 * The README's "Verdicts" section states the same rules in words.
 * @module
 */
import type { Claim, Metric } from "./spec.ts";
import type { Verdict } from "./result.ts";

/** +1 where larger is better, -1 where smaller is better, 0 where neither (counts). */
export function betterDirection(metric: Metric): 1 | -1 | 0 {
  if (metric.endsWith("_acc")) return 1;
  if (metric.endsWith("_loss")) return -1;
  return 0;
}

/** The arithmetic mean, or null for no values. */
export function mean(values: number[]): number | null {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

function _fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(4);
}

/**
 * Decides a claim from the reproduced values (one per seed).
 *
 * - any non-finite value: `diverged`;
 * - `approx`: |mean − claimed| ≤ ε is `reproduced`; outside ε on the better side is
 *   `reproduced (better)` unless the claim is `twoSided`, otherwise `not reproduced`;
 * - `atLeast`: mean ≥ claimed − ε is `reproduced` (`reproduced (better)` above claimed + ε);
 * - `atMost`: the mirror image;
 * - `fails` (a claim that the model fails): mean ≤ claimed + ε is `fails as claimed`.
 *
 * @example
 * ```ts
 * import { verdictFor } from "./verdict.ts";
 * const claim = { metric: "test_acc", claimed: 0.97, compare: "approx", epsilon: 0.005 } as const;
 * verdictFor(claim, [0.968]).verdict; // "reproduced"
 * ```
 */
export function verdictFor(
  claim: Pick<Claim, "metric" | "claimed" | "compare" | "epsilon"> & { twoSided?: boolean },
  values: number[],
): { verdict: Verdict; mean: number | null; evidence: string } {
  const m = mean(values);
  const { claimed, epsilon: eps } = claim;
  const evidence = (rule: string) =>
    `n=${values.length}, mean ${m === null ? "n/a" : _fmt(m)}; ${rule}`;
  if (m === null || !values.every(Number.isFinite)) {
    return { verdict: "diverged", mean: m, evidence: evidence("a run produced NaN/Inf") };
  }
  const dir = betterDirection(claim.metric);
  const gap = m - claimed;
  switch (claim.compare) {
    case "approx": {
      const rule = `claimed ${_fmt(claimed)} ± ${eps}`;
      if (Math.abs(gap) <= eps) return { verdict: "reproduced", mean: m, evidence: evidence(rule) };
      const better = !claim.twoSided && dir !== 0 && Math.sign(gap) === dir;
      return {
        verdict: better ? "reproduced (better)" : "not reproduced",
        mean: m,
        evidence: evidence(`${rule}: off by ${_fmt(gap)}`),
      };
    }
    case "atLeast":
    case "atMost": {
      const sign = claim.compare === "atLeast" ? 1 : -1;
      const rule = `${sign > 0 ? "≥" : "≤"} ${_fmt(claimed)} with ε ${eps}`;
      if (sign * gap > eps) {
        return { verdict: "reproduced (better)", mean: m, evidence: evidence(rule) };
      }
      const ok = sign * gap >= -eps;
      return { verdict: ok ? "reproduced" : "not reproduced", mean: m, evidence: evidence(rule) };
    }
    case "fails": {
      const ok = gap <= eps;
      return {
        verdict: ok ? "fails as claimed" : "not reproduced",
        mean: m,
        evidence: evidence(`fails if ≤ ${_fmt(claimed)} + ${eps}`),
      };
    }
  }
}
