/**
 * What explains a miss, and how robust is a hit: variants of a stated protocol (the
 * replication's exploratory protocols that explain it, plus four perturbations the harness
 * derives: learning rate ×½ and ×2, batch size ×½ and ×2), each scored on the stated protocol's
 * claims, ranked by how well they reproduce them.
 * @module
 */
import type { ClaimResult, Run, Verdict } from "../results/result.ts";
import type { Protocol, ReplicationSpec } from "../spec/spec.ts";
import { perturbationOf, variantsOf } from "../spec/perturbations.ts";
import { claimResults } from "./claims.ts";

/** A logged curve's distance from a variant's mean curve. */
export interface CurveDistance {
  /** The curve claim's id. */
  curve: string;
  /** Root mean square of (mean over seeds − logged value) over the points the variant reaches. */
  rms: number;
  /** Points compared. */
  points: number;
}

/** A variant of a protocol scored on that protocol's claims. */
export interface VariantScore {
  /** The variant's protocol id (the target's own id for the protocol as stated). */
  protocol: string;
  /** In words: "as stated", a perturbation's label, or the exploratory protocol's id. */
  label: string;
  /** Whether it is one of the harness's perturbations. */
  perturbation: boolean;
  /** Seeds it ran with. */
  n: number;
  /** The target's claims judged on this variant's runs. */
  claims: ClaimResult[];
  /** Distance to each logged curve of the target. */
  curves: CurveDistance[];
  /** The target's single-number claims this variant reproduces, and how many were judged. */
  reproduced: number;
  judged: number;
}

const _HOLDS: Verdict[] = ["reproduced", "reproduced (better)", "fails as claimed"];

/** Whether a verdict means the claim holds. */
export function holds(verdict: Verdict): boolean {
  return _HOLDS.includes(verdict);
}

/** Scores `variant`'s runs on `target`'s claims, as if it were the target. */
function _scoreVariant(
  spec: Pick<ReplicationSpec, "protocols" | "metrics" | "claims">,
  target: string,
  variant: Protocol,
  runs: Run[],
): VariantScore {
  const own = spec.claims.filter((c) => c.protocol === target);
  const mine = runs.filter((r) => r.protocol === variant.id);
  const claims = claimResults(
    { ...spec, claims: own.map((c) => ({ ...c, protocol: variant.id })) },
    mine,
  ).map((c) => ({ ...c, protocol: target }));
  const curveIds = [...new Set(own.flatMap((c) => c.curve ? [c.curve] : []))];
  const curves = curveIds.flatMap((curve) => {
    const points = own.filter((c) => c.curve === curve).flatMap((c) => {
      const r = claims.find((x) => x.id === c.id);
      return r?.stats ? [r.stats.mean - c.claimed] : [];
    });
    return points.length
      ? [{
        curve,
        rms: Math.sqrt(points.reduce((a, d) => a + d * d, 0) / points.length),
        points: points.length,
      }]
      : [];
  });
  const single = claims.filter((c) => !own.find((o) => o.id === c.id)?.curve);
  const x = perturbationOf(variant.id);
  return {
    protocol: variant.id,
    // Ids of exploratory protocols are their names (descriptions run to sentences).
    label: variant.id === target ? "as stated" : x ? x.label : variant.id,
    perturbation: x !== undefined,
    n: new Set(mine.map((r) => r.seed)).size,
    claims,
    curves,
    reproduced: single.filter((c) => holds(c.verdict)).length,
    judged: single.length,
  };
}

/**
 * The target as stated and each variant that ran, best first: by the distance to the target's
 * first logged curve where it has one (variants that do not reach it last), then by the share
 * of its single-number claims reproduced, then by the mean distance of its claims in ε (a bound
 * that holds counts as 0).
 */
export function rankVariants(
  spec: Pick<ReplicationSpec, "protocols" | "metrics" | "claims">,
  target: string,
  runs: Run[],
): VariantScore[] {
  const protocols = spec.protocols.filter((p) =>
    p.id === target || variantsOf(spec, target).includes(p)
  );
  const scores = protocols.map((p) => _scoreVariant(spec, target, p, runs)).filter((s) => s.n > 0);
  // A bound that holds is met, however far past it: only ≈ claims and misses have a distance.
  const gap = (s: VariantScore) => {
    const d = s.claims.filter((c) => c.stats).map((c) =>
      c.compare !== "approx" && holds(c.verdict)
        ? 0
        : Math.abs(c.stats!.mean - c.claimed) / Math.max(c.epsilon, 1e-9)
    );
    return d.length ? d.reduce((a, b) => a + b, 0) / d.length : Infinity;
  };
  const curve = (s: VariantScore) => s.curves[0]?.rms ?? Infinity;
  const share = (s: VariantScore) => s.judged ? s.reproduced / s.judged : 0;
  return scores.sort((a, b) => curve(a) - curve(b) || share(b) - share(a) || gap(a) - gap(b));
}

/**
 * One note per claim of the stated protocols, for the claims table: for a claim that does not
 * hold, the variant that comes closest to it; for one that holds, whether it survives the
 * perturbations ("robust", or "fragile: fails at lr ×2"). Claims with no variants run get none.
 */
export function claimNotes(
  spec: Pick<ReplicationSpec, "protocols" | "metrics" | "claims">,
  main: ClaimResult[],
  runs: Run[],
): Map<string, string> {
  const notes = new Map<string, string>();
  const targets = [...new Set(main.map((c) => c.protocol))];
  for (const target of targets) {
    const ranked = rankVariants(spec, target, runs).filter((s) => s.protocol !== target);
    if (!ranked.length) continue;
    for (const c of main.filter((c) => c.protocol === target)) {
      const claim = spec.claims.find((x) => x.id === c.id);
      if (holds(c.verdict)) {
        const perturbed = ranked.filter((s) => s.perturbation);
        const failing = perturbed.filter((s) => {
          const r = s.claims.find((x) => x.id === c.id);
          return !r || !holds(r.verdict);
        }).map((s) => s.label);
        if (perturbed.length) {
          notes.set(
            c.id,
            failing.length
              ? `fragile: fails at ${failing.join(", ")}`
              : `robust to ${perturbed.map((s) => s.label).join(", ")}`,
          );
        }
        continue;
      }
      const best = claim?.curve
        ? ranked.map((s) => ({ s, d: s.curves.find((k) => k.curve === claim.curve) }))
          .filter((x) => x.d).sort((a, b) => a.d!.rms - b.d!.rms)[0]
        : undefined;
      if (best) {
        notes.set(
          c.id,
          `closest: ${best.s.label}, RMS ${best.d!.rms.toFixed(3)} over ${
            best.d!.points
          } epochs, n = ${best.s.n}`,
        );
        continue;
      }
      const near = ranked.flatMap((s) => {
        const r = s.claims.find((x) => x.id === c.id);
        return r?.stats ? [{ s, r, d: Math.abs(r.stats.mean - r.claimed) }] : [];
      }).sort((a, b) => a.d - b.d)[0];
      if (near) {
        notes.set(
          c.id,
          `closest: ${near.s.label}, mean ${
            near.r.stats!.mean.toFixed(4)
          } (${near.r.verdict}), n = ${near.s.n}`,
        );
      }
    }
  }
  return notes;
}

/** The variant name of explain's results: `results.explain.json`, `runs.explain/`. */
export const EXPLAIN_VARIANT = "explain";

/** The ranking of a target's variants as a text table (what `deno task explain` prints). */
export function rankingText(target: string, ranked: VariantScore[]): string {
  const curve = ranked.find((s) => s.curves.length)?.curves[0];
  const rule = curve
    ? `RMS distance to the logged curve "${curve.curve}", then claims held`
    : "single-number claims held, then mean distance in ε";
  const rows = ranked.map((s, i) => [
    String(i + 1),
    s.protocol === target ? `${target} (as stated)` : s.protocol,
    s.perturbation ? "perturbation" : s.protocol === target ? "stated" : "exploratory",
    String(s.n),
    s.curves[0] ? `${s.curves[0].rms.toFixed(4)} (${s.curves[0].points} ep.)` : "—",
    `${s.reproduced}/${s.judged}`,
  ]);
  const head = ["rank", "variant", "kind", "n", "curve RMS", "claims held"];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((x, c) => x.padEnd(widths[c])).join("  ").trimEnd();
  return [
    `${target}: ${ranked.length - 1} variant(s) beside the protocol as stated, ranked by ${rule}`,
    line(head),
    ...rows.map(line),
  ].join("\n");
}
