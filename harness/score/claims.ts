/**
 * Claim scoring: what each claim's protocol measured per seed, judged against the claim.
 * Used by a rerun and by `merge`; it trains nothing.
 * @module
 */
import { type ClaimResult, epochValue, type Results, type Run } from "../results/result.ts";
import { PARAMS_METRIC, protocolMetrics } from "../spec/metrics.ts";
import { type Better, type Claim, type ReplicationSpec, SpecError } from "../spec/spec.ts";
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
function _claimValue(claim: Claim, run: Run): number | undefined {
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
      const value = _claimValue(claim, run);
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

/** A results file whose stored claims are not what its runs give (edited by hand, or stale). */
export class ClaimsDisagreeError extends SpecError {
  /**
   * Creates a ClaimsDisagreeError.
   *
   * @param file the results file
   * @param issues one line per claim that disagrees
   * @param remedy what to do about it
   */
  constructor(file: string, issues: string[], remedy: string) {
    super(file, issues);
    this.message = `${file}: the stored claims disagree with its runs:\n` +
      `${issues.map((i) => `  - ${i}`).join("\n")}\n${remedy}`;
    this.name = "ClaimsDisagreeError";
  }
}

/** What a stored claim must agree on with the claim its runs give. */
const _JUDGED = [
  "claimed",
  "compare",
  "epsilon",
  "seeds",
  "values",
  "mean",
  "verdict",
] as const satisfies (keyof ClaimResult)[];

/**
 * `results` with its claims derived anew from its runs, the only source of verdicts, badges and
 * tables. A stored claim whose numbers or verdict differ from the derived one, or a claim only
 * one side has, throws ClaimsDisagreeError naming the file and each claim with both values.
 */
export function withDerivedClaims(
  results: Results,
  spec: Pick<ReplicationSpec, "protocols" | "metrics" | "claims" | "sha256">,
  file: string,
): Results {
  const derived = JSON.parse(JSON.stringify(claimResults(spec, results.runs))) as ClaimResult[];
  const show = (c: ClaimResult) => `mean ${c.mean} over ${c.values.length} run(s), ${c.verdict}`;
  const issues: string[] = [];
  results.claims.forEach((stored, i) => {
    const mine = derived.find((c) => c.id === stored.id);
    const differs = mine &&
      _JUDGED.filter((k) => JSON.stringify(stored[k]) !== JSON.stringify(mine[k]));
    if (!mine) issues.push(`claims.${i} (${stored.id}): its runs give no such claim`);
    else if (differs!.length) {
      issues.push(
        `claims.${i} (${stored.id}): stored ${show(stored)}; its runs give ${show(mine)} ` +
          `(${differs!.join(", ")} differ)`,
      );
    }
  });
  for (const c of derived) {
    if (!results.claims.some((s) => s.id === c.id)) {
      issues.push(`claims: ${c.id} is missing; its runs give ${show(c)}`);
    }
  }
  if (issues.length) {
    throw new ClaimsDisagreeError(
      file,
      issues,
      results.spec.sha256 !== spec.sha256
        ? "spec.json changed since these results were written: rerun them " +
          `(deno task replicate ${results.replication})`
        : "Claims, verdicts and badges are derived from the runs: restore the file or rerun " +
          `it (deno task replicate ${results.replication})`,
    );
  }
  return { ...results, claims: derived };
}
