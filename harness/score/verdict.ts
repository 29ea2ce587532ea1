/**
 * Verdict rules: how a claimed number and the reproduced per-seed values become a verdict.
 * The README's "Verdicts" section states the same rules in words.
 * @module
 */
import type { Better, Claim } from "../spec/spec.ts";
import type { Verdict } from "../results/result.ts";
import type { Summary } from "../results/result.ts";
import { seedsToDecide, summarize } from "./stats.ts";

/** +1 where larger is better, -1 where smaller is better, 0 where neither (counts). */
function _betterDirection(better: Better | undefined): 1 | -1 | 0 {
  return better === "higher" ? 1 : better === "lower" ? -1 : 0;
}

/** The parts of a claim a verdict needs; `better` is the metric's better side (default neither). */
export type ClaimRule = Pick<Claim, "claimed" | "compare" | "epsilon"> & {
  twoSided?: boolean;
  better?: Better;
};

interface _Region {
  /** Upper end of the region; the regions tile the real line in order. */
  hi: number;
  /** Whether `hi` itself belongs to this region (the band claimed ± ε is closed). */
  closed: boolean;
  verdict: Verdict;
}

/** The real line cut into verdict regions at claimed − ε and claimed + ε. */
function _regions(claim: ClaimRule): _Region[] {
  const { claimed: c, epsilon: e } = claim;
  const dir = claim.twoSided ? 0 : _betterDirection(claim.better);
  const band = (below: Verdict, above: Verdict): _Region[] => [
    { hi: c - e, closed: false, verdict: below },
    { hi: c + e, closed: true, verdict: "reproduced" },
    { hi: Infinity, closed: true, verdict: above },
  ];
  switch (claim.compare) {
    case "approx":
      return band(
        dir < 0 ? "reproduced (better)" : "not reproduced",
        dir > 0 ? "reproduced (better)" : "not reproduced",
      );
    case "atLeast":
      return band("not reproduced", "reproduced (better)");
    case "atMost":
      return band("reproduced (better)", "not reproduced");
    case "fails":
      return [
        { hi: c + e, closed: true, verdict: "fails as claimed" },
        { hi: Infinity, closed: true, verdict: "not reproduced" },
      ];
  }
}

function _regionOf(regions: _Region[], x: number): number {
  return regions.findIndex((r) => x < r.hi || (r.closed && x === r.hi));
}

function _fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(4);
}

/**
 * Decides a claim from the reproduced values, one per seed, using the 95 % confidence
 * interval of their mean (or the single value when n = 1):
 *
 * - any non-finite value: `diverged`;
 * - the interval inside one region cut at claimed ± ε gives that region's verdict:
 *   `approx` — inside ± ε `reproduced`, beyond it on the better side `reproduced (better)`
 *   (unless `twoSided`), else `not reproduced`; `atLeast` — at or above claimed − ε
 *   `reproduced` (above claimed + ε `reproduced (better)`); `atMost` mirrors it; `fails` — at
 *   or below claimed + ε `fails as claimed`;
 * - an interval across a boundary: `inconclusive`, with the seeds that would decide it.
 *
 * @example
 * ```ts
 * import { verdictFor } from "./verdict.ts";
 * const claim = { better: "higher", claimed: 0.97, compare: "approx", epsilon: 0.005 } as const;
 * verdictFor(claim, [0.968, 0.969, 0.970]).verdict; // "reproduced"
 * ```
 */
export function verdictFor(
  claim: ClaimRule,
  values: number[],
): { verdict: Verdict; stats: Summary | null; evidence: string } {
  if (!values.length || !values.every(Number.isFinite)) {
    return {
      verdict: "diverged",
      stats: null,
      evidence: `n=${values.length}; a run produced NaN/Inf or no value`,
    };
  }
  const stats = summarize(values);
  const [lo, hi] = stats.ci95 ?? [stats.mean, stats.mean];
  const regions = _regions(claim);
  const a = _regionOf(regions, lo), b = _regionOf(regions, hi);
  const rule = `claimed ${_fmt(claim.claimed)}, ${claim.compare} with ε ${claim.epsilon}`;
  const where = stats.ci95
    ? `mean ${_fmt(stats.mean)}, 95% CI [${_fmt(lo)}, ${_fmt(hi)}]`
    : `value ${_fmt(stats.mean)} (one seed: no interval)`;
  const evidence = (extra = "") => `n=${stats.n}, ${where}; ${rule}${extra}`;

  const va = regions[a].verdict, vb = regions[b].verdict;
  if (a === b) return { verdict: va, stats, evidence: evidence() };
  // A ≥ claim whose interval lies wholly at or above claimed − ε is met, better or not.
  const met = (x: Verdict) => x === "reproduced" || x === "reproduced (better)";
  if (claim.compare !== "approx" && met(va) && met(vb)) {
    return { verdict: "reproduced", stats, evidence: evidence() };
  }
  // The boundary the interval crosses that is nearest the mean decides how many seeds it takes.
  const crossed = regions.slice(a, b).map((r) => r.hi);
  const distance = Math.min(...crossed.map((x) => Math.abs(stats.mean - x)));
  const need = seedsToDecide(stats.sd, distance);
  const more = need === null
    ? "; the mean sits on the boundary, so more seeds cannot decide"
    : `; about ${Math.max(1, need - stats.n)} more seed(s) would decide at this spread`;
  return {
    verdict: "inconclusive",
    stats,
    evidence: evidence(`; the interval crosses ${crossed.map(_fmt).join(", ")}${more}`),
  };
}
