/**
 * The determinism probe: a short rerun of a replication, trained twice in this process with the
 * same seed and compared field by field, as `verify` compares a replay on the same backend. The
 * harness seeds what tfjs draws (see SeededMathRandom), so a difference is randomness no seed
 * reaches: `crypto.getRandomValues`, `Date.now`, a tf.data shuffle without a seed, state that
 * model.ts keeps from one run to the next. The accuracy gate runs it for every replication, and
 * `replicate --check-determinism` (the first command `deno task new` prints) before training.
 * @module
 */
import { compareRuns } from "../results/compare_runs.ts";
import type { Run } from "../results/result.ts";
import type { Protocol } from "../spec/spec.ts";
import { runGrid, runJobs } from "./plan.ts";
import type { Replication } from "../replications.ts";
import { type RunFailure, runJob, type RunTask, Trainer, type TrainSettings } from "./trainer.ts";

/**
 * What the probe trains: seed 1, each protocol for 1 epoch (a custom trainer's `epochs`: 1
 * iteration for some), a layers protocol on the first 256 training images or derived examples
 * (the 256 after a `validationFirst` holdout) and tested on the first 1,000 test ones: enough to
 * run every piece of model.ts, and the same randomness shows in a short run as in a long one.
 */
export const PROBE_SETTINGS = { seed: 1, epochs: 1, trainLimit: 256, testLimit: 1000 } as const;

/** What a determinism probe found. */
export interface DeterminismProbe {
  /** The replication. */
  replication: string;
  /** The runs trained twice (a protocol's stages included), in order. */
  tasks: RunTask[];
  /** How many fields of those runs were compared. */
  compared: number;
  /** Each field that differs between the two trainings: `protocol field first → second`. */
  differences: string[];
  /** Runs that failed in either training (not compared). */
  failures: RunFailure[];
  /** The first images of a `validationFirst` holdout, before the 256 trained on (0: none). */
  holdout: number;
}

/**
 * The protocols the probe trains: of the replication's stated protocols, the first for each
 * distinct piece of model.ts they run (model builder, derived dataset and target function; or
 * custom trainer and its params), so randomness in any of them shows.
 */
export function probeProtocols(rep: Replication): string[] {
  const code = (p: Protocol) =>
    JSON.stringify(
      p.kind === "custom" ? [p.trainer, p.params] : [p.model, p.inputs, p.targets],
    );
  const seen = new Set<string>();
  return rep.spec.protocols.filter((p) => !p.exploratory).flatMap((p) => {
    if (seen.has(code(p))) return [];
    seen.add(code(p));
    return [p.id];
  });
}

/**
 * Trains the probe's runs (see PROBE_SETTINGS and probeProtocols) twice, each time with a fresh
 * trainer, and names every field whose value differs (compareRuns, exact: bit for bit).
 */
export async function probeDeterminism(
  rep: Replication,
  settings: Pick<TrainSettings, "data" | "dataset"> = {},
): Promise<DeterminismProbe> {
  const { seed, epochs, trainLimit, testLimit } = PROBE_SETTINGS;
  const tasks = runGrid(rep.spec, [seed], probeProtocols(rep));
  // A protocol that holds out its first N images as validation data trains on the 256 after
  // them (fewer could not be standardised per pixel: some pixels are 0 in every one of them).
  const holdout = Math.max(
    0,
    ...tasks.map((t) => {
      const p = rep.spec.protocols.find((x) => x.id === t.protocol);
      return p?.kind === "layers" ? p.validationFirst ?? 0 : 0;
    }),
  );
  const failures: RunFailure[] = [];
  const train = async () => {
    const runs: Run[] = [];
    const trainer = new Trainer(rep, {
      ...settings,
      epochs,
      trainLimit: trainLimit + holdout,
      testLimit,
    });
    try {
      for (const job of runJobs(rep.spec, tasks)) {
        await runJob(trainer, job, {
          onRun: (run) => void runs.push(JSON.parse(JSON.stringify(run))), // as stored
          onFailure: (f) => failures.push(f),
        });
      }
    } finally {
      trainer.dispose();
    }
    return runs;
  };
  const [first, second] = [await train(), await train()];
  let compared = 0;
  const differences: string[] = [];
  for (const a of first) {
    const b = second.find((r) => r.protocol === a.protocol && r.seed === a.seed);
    if (!b) continue;
    const fields = compareRuns(a, b, true);
    compared += fields.length;
    for (const f of fields.filter((f) => f.status === "differs")) {
      const note = f.note ? ` (${f.note})` : "";
      differences.push(`${a.protocol} ${f.field} ${f.recorded} → ${f.rerun}${note}`);
    }
  }
  return { replication: rep.name, tasks, compared, differences, failures, holdout };
}

/**
 * The probe's finding in one line: `determinism: …` when every field is identical, else
 * `not deterministic: …` naming the differing fields (the first few, and how many in all) and
 * where to look.
 */
export function probeText(probe: DeterminismProbe): string {
  const runs = [...new Set(probe.tasks.map((t) => t.protocol))].join(", ");
  const what = `${probe.replication} ${runs} seed ${PROBE_SETTINGS.seed}, trained twice ` +
    `(--epochs ${PROBE_SETTINGS.epochs}; layers protocols on the first ` +
    `${PROBE_SETTINGS.trainLimit} training images` +
    (probe.holdout ? ` after the ${probe.holdout} held out for validation` : "") +
    `, tested on the first ${PROBE_SETTINGS.testLimit.toLocaleString("en-US")})`;
  if (probe.failures.length) {
    const f = probe.failures[0];
    return `determinism not checked: ${what}: ${f.protocol} seed ${f.seed} failed: ${f.error}`;
  }
  if (!probe.differences.length) {
    return `determinism: ${what}: all ${probe.compared} fields identical`;
  }
  const shown = probe.differences.slice(0, 3).join("; ");
  const more = probe.differences.length > 3 ? `; ${probe.differences.length - 3} more` : "";
  return `not deterministic: ${what}, gave other numbers: ${shown}${more}. Something in ` +
    "model.ts draws from outside the run's seed (crypto.getRandomValues, Date.now, a tf.data " +
    "shuffle without a seed, state kept between runs): draw from the seed instead " +
    "(seededGlorot, ctx.rng, deriveSeed; tfjs' own unseeded draws are seeded by the harness)";
}
