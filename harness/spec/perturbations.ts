/**
 * The standard perturbations of a stated layers protocol (learning rate ×½ and ×2, batch size ×½
 * and ×2), added to a spec as exploratory protocols that explain it, and the variants that
 * explain a protocol. A transform of the spec: the trainer runs the variants, score/explain.ts
 * ranks them.
 * @module
 */
import type { LayersProtocol, Protocol, ReplicationSpec } from "./spec.ts";
import { scaledSchedule } from "./schedules.ts";

/** A perturbation the harness derives from a layers protocol. */
export interface Perturbation {
  /** Appended to the protocol's id: `<id>.<suffix>`. */
  suffix: string;
  /** In words, e.g. "lr ×2". */
  label: string;
  apply(p: LayersProtocol): LayersProtocol;
}

/** The standard perturbations: learning rate ×½ and ×2, batch size ×½ and ×2. */
export const PERTURBATIONS: readonly Perturbation[] = [
  ...[0.5, 2].map((f) => ({
    suffix: `lr-x${f}`,
    label: `lr ×${f === 0.5 ? "½" : f}`,
    apply: (p: LayersProtocol) => ({
      ...p,
      optimizer: { ...p.optimizer, learningRate: p.optimizer.learningRate * f },
      // Every learning rate the protocol declares scales alike (ReduceLROnPlateau's floor stays).
      ...(p.learningRateSchedule
        ? { learningRateSchedule: scaledSchedule(p.learningRateSchedule, f) }
        : {}),
      ...(p.learningRateScheduler
        ? {
          learningRateScheduler: Object.fromEntries(
            Object.entries(p.learningRateScheduler).map(([e, lr]) => [e, lr * f]),
          ),
        }
        : {}),
    }),
  })),
  ...[0.5, 2].map((f) => ({
    suffix: `batch-x${f}`,
    label: `batch ×${f === 0.5 ? "½" : f}`,
    apply: (p: LayersProtocol) => ({ ...p, batchSize: Math.max(1, Math.round(p.batchSize * f)) }),
  })),
];

/** The perturbation a derived protocol id names, or undefined for any other protocol. */
export function perturbationOf(id: string): Perturbation | undefined {
  return PERTURBATIONS.find((x) => id.endsWith(`.${x.suffix}`));
}

/**
 * `spec` with the perturbations of each stated layers protocol added as exploratory protocols
 * (`<id>.lr-x2` …) that explain it. Deterministic: the main process and every worker derive the
 * same ones.
 */
export function withPerturbations<T extends Pick<ReplicationSpec, "protocols">>(spec: T): T {
  const derived = spec.protocols.flatMap((p) =>
    p.kind === "layers" && !p.exploratory
      ? PERTURBATIONS.map((x) => ({
        ...x.apply(p),
        id: `${p.id}.${x.suffix}`,
        description: `${p.id} with ${x.label} (a perturbation claimcheck derives)`,
        exploratory: true,
        explains: p.id,
      }))
      : []
  );
  const known = new Set(spec.protocols.map((p) => p.id));
  return { ...spec, protocols: [...spec.protocols, ...derived.filter((p) => !known.has(p.id))] };
}

/** The protocols that explain `target` (directly or through a chain of `explains`). */
export function variantsOf(spec: Pick<ReplicationSpec, "protocols">, target: string): Protocol[] {
  const leadsTo = (p: Protocol, seen: string[] = []): boolean =>
    p.explains === target ||
    (p.explains !== undefined && !seen.includes(p.explains) &&
      spec.protocols.some((q) => q.id === p.explains && leadsTo(q, [...seen, p.id])));
  return spec.protocols.filter((p) => p.id !== target && leadsTo(p));
}
