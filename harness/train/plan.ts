/**
 * The (protocol × seed) grid of a rerun, planned in one place: which protocols run (a protocol
 * brings the earlier stages it `uses`), in what order, and which runs must share a process
 * (a stage and its consumers, per seed).
 * @module
 */
import type { Protocol, ReplicationSpec } from "../spec/spec.ts";
import type { RunTask } from "./trainer.ts";

/** Thrown for a protocol name the spec does not have (a usage error). */
export class UnknownProtocolError extends Error {}

/**
 * The protocols to run, in spec order: the named ones (default: every non-exploratory one)
 * plus every earlier protocol they use, directly or not.
 */
export function selectProtocols(
  spec: Pick<ReplicationSpec, "name" | "protocols">,
  ids?: string[],
): Protocol[] {
  const byId = new Map(spec.protocols.map((p) => [p.id, p]));
  const wanted = new Set<string>();
  const add = (id: string) => {
    const p = byId.get(id);
    if (!p) {
      throw new UnknownProtocolError(
        `${spec.name}: unknown protocol "${id}" (known: ${[...byId.keys()].join(", ")})`,
      );
    }
    if (wanted.has(id)) return;
    wanted.add(id);
    p.uses.forEach(add);
  };
  (ids?.length ? ids : spec.protocols.filter((p) => !p.exploratory).map((p) => p.id)).forEach(add);
  return spec.protocols.filter((p) => wanted.has(p.id));
}

/** The grid: protocols in spec order (stages before their consumers), then seeds. */
export function runGrid(
  spec: Pick<ReplicationSpec, "name" | "protocols">,
  seeds: number[],
  protocols?: string[],
): RunTask[] {
  return selectProtocols(spec, protocols).flatMap((p) =>
    seeds.map((seed) => ({ protocol: p.id, seed }))
  );
}

/**
 * Groups tasks into jobs that must run in one process, in order: for each seed, a protocol and
 * every protocol connected to it by `uses` (the consumer needs the stage's trained model).
 * Independent runs are jobs of one task. Jobs come in the order of their first task.
 */
export function runJobs(spec: Pick<ReplicationSpec, "protocols">, tasks: RunTask[]): RunTask[][] {
  // Union-find over protocols linked by `uses`.
  const root = new Map(spec.protocols.map((p) => [p.id, p.id]));
  const find = (id: string): string => root.get(id) === id ? id : find(root.get(id)!);
  for (const p of spec.protocols) for (const u of p.uses) root.set(find(p.id), find(u));
  const jobs = new Map<string, RunTask[]>();
  for (const t of tasks) {
    const key = `${find(t.protocol)}#${t.seed}`;
    const linked = spec.protocols.some((p) => p.uses.length && find(p.id) === find(t.protocol));
    const k = linked ? key : `${t.protocol}#${t.seed}`;
    jobs.set(k, [...jobs.get(k) ?? [], t]);
  }
  return [...jobs.values()];
}
