/**
 * `deno task verify <results.json> --seed S [--protocol P]`: replays recorded runs with the
 * training path `replicate` uses (same seed, same variant, same data, the recorded backend),
 * after checking that spec and data are the recorded ones, and compares the rerun with the
 * recording field by field. It writes nothing: the rerun is kept in memory.
 * @module
 */
import { type BackendInfo, BACKENDS, setupBackend } from "../backend/backend.ts";
import type { DataOptions } from "../data/datasets.ts";
import { DataError } from "../data/data_error.ts";
import { REPLICATIONS_DIR } from "../util/paths.ts";
import { loadReplication, UnknownReplicationError } from "../replications.ts";
import {
  compareProvenance,
  compareRuns,
  CROSS_BACKEND_TOLERANCE,
  type FieldComparison,
  type FieldValue,
  type ProvenanceField,
} from "../results/compare_runs.ts";
import { loadResults, type Results, type Run } from "../results/result.ts";
import { variantSettings } from "../results/run_store.ts";
import { type ReplicationSpec, SpecError } from "../spec/spec.ts";
import { ClaimsDisagreeError, withDerivedClaims } from "../score/claims.ts";
import type { Progress } from "../train/loop.ts";
import { UnknownProtocolError } from "../train/plan.ts";
import { replicate } from "../pipeline/replicate.ts";
import type { RunFailure } from "../train/trainer.ts";
import { type CommandHelp, optionsHelp, parseOptions, pickOptions } from "./_options.ts";
import { textTable } from "./_text_table.ts";

const _OPTIONS = ["seed", "protocol", "backend", "data-dir", "replications"] as const;

/** `verify`'s line in the usage text of the command line, and its options. */
export const verifyHelp: CommandHelp = {
  synopsis:
    "  deno task verify <results.json> --seed S [--protocol P]   replay recorded runs and compare",
  options: pickOptions(_OPTIONS),
};

const USAGE = `usage:
  deno task verify <results.json> --seed S [--protocol P] [options]

${
  optionsHelp(_OPTIONS, {
    seed: "the recorded seed to replay (required): every protocol recorded with it",
    backend: "webgpu | wasm | cpu (default: the recorded backend; another one compares\n" +
      `within ${CROSS_BACKEND_TOLERANCE} instead of bit for bit)`,
  })
}

exit codes: 0 verified, 1 numbers differ (or a rerun failed, or the file's claims are not what
its runs give), 2 usage error or not replayable`;

/** Why a replay cannot run or be judged: exit 2, with what to do. */
class VerifyError extends Error {}

/** A bad or missing argument: exit 2, with the usage text. */
class ArgumentError extends VerifyError {}

/** What to replay and how. */
export interface VerifyOptions {
  /** The recorded seed to replay. Required: leaving it out is an error listing the seeds. */
  seed?: number;
  /** Only this protocol's run (default: every protocol recorded with the seed). */
  protocol?: string;
  /** The backend to replay on (default: the recorded one; another one relaxes the check). */
  backend?: BackendInfo["name"];
  /** The folder holding the replication folders (default replications/). */
  replications?: string;
  /** Where dataset files are found. */
  data?: DataOptions;
  /** Progress while the runs train. */
  onProgress?: (p: Progress) => void;
  /** The provenance comparison, once the data is loaded and before anything trains. */
  onProvenance?: (fields: ProvenanceField[], exact: boolean) => void;
}

/** A replay's outcome. */
export interface Verification {
  /** The recorded results. */
  recorded: Results;
  /** Recorded and current provenance, field by field. */
  provenance: ProvenanceField[];
  /** True when every number had to be identical; false when within CROSS_BACKEND_TOLERANCE. */
  exact: boolean;
  /** Each replayed run with its fields compared. */
  runs: { protocol: string; seed: number; fields: FieldComparison[] }[];
  /** Runs of the replay that failed. */
  failures: RunFailure[];
  /** Stored claims that are not what the recorded runs give: the file was edited. */
  claims: string[];
  /** True when every required field passed and no run failed. */
  verified: boolean;
}

/**
 * Replays the runs of one seed (or one protocol and seed) recorded in a results.json and
 * compares each with its recording (see compareRuns). Throws when the file, seed or protocol
 * is unknown, or when spec or data differ from the recording (the replay would be another
 * computation); the error says what to do. Nothing is written.
 */
export async function verifyRun(file: string, opts: VerifyOptions): Promise<Verification> {
  const recorded = await loadResults(file).catch((e) => {
    if (e instanceof SpecError) throw e; // names the file and each bad field
    const why = e instanceof Deno.errors.NotFound
      ? "no such file"
      : `cannot read it (${e.message})`;
    throw new VerifyError(
      `${file}: ${why}; name a results file, e.g. reports/keras-dense/results.json`,
    );
  });
  const settings = variantSettings(recorded.variant ?? "");
  if (!settings) {
    throw new VerifyError(
      `${file}: variant: "${recorded.variant}" is not one claimcheck writes (epochs-N, train-N, dataset-NAME)`,
    );
  }
  const cells = _select(recorded, file, opts);
  const rep = await loadReplication(recorded.replication, opts.replications ?? REPLICATIONS_DIR)
    .catch((e) => {
      throw e instanceof UnknownReplicationError
        ? new VerifyError(`${e.message}; pass --replications DIR, the folder that holds it`)
        : e;
    });
  // A file whose claims are not its runs' is not the recording it claims to be.
  const claims = _claimIssues(recorded, rep.spec, file);
  const name = opts.backend ?? recorded.backend.name;
  const backend = await setupBackend(name).catch((e) => {
    throw new VerifyError(
      `${(e as Error).message}${opts.backend ? "" : ` (the recorded backend)`}; pass --backend ` +
        `${BACKENDS.filter((b) => b !== name).join(" or ")} to replay on another one, compared ` +
        `within ${CROSS_BACKEND_TOLERANCE}`,
    );
  });
  let provenance: ProvenanceField[] = [];
  let exact = true;
  const results = await replicate(rep, {
    seeds: [cells[0].seed],
    protocols: cells.map((r) => r.protocol),
    epochs: settings.epochs ?? undefined,
    trainLimit: settings.trainLimit ?? undefined,
    dataset: settings.dataset ?? undefined,
    data: opts.data,
    backend,
    command: `deno task verify ${file} --seed ${cells[0].seed}`,
    // As replicate's default: runs on workers, conv nets on the threaded wasm build where cores
    // are idle (bit-identical to the single-threaded one, tests/wasm_threads_test.ts).
    jobs: navigator.hardwareConcurrency,
    onProgress: opts.onProgress,
    beforeTraining: (now) => {
      const variant = recorded.variant || "none (the spec's protocols)";
      provenance = [
        ...compareProvenance(recorded, now),
        { field: "variant", recorded: variant, now: variant, effect: "same" },
      ];
      exact = !provenance.some((f) => f.effect === "relaxes");
      opts.onProvenance?.(provenance, exact);
      const blocks = provenance.filter((f) => f.effect === "blocks");
      if (blocks.length) {
        throw new VerifyError(
          `cannot replay ${file}: ${blocks.map((f) => `${f.field}: ${f.why}`).join("; ")}`,
        );
      }
    },
  });
  // Compared as stored: a JSON round trip, as the recorded runs went through.
  const reruns: Run[] = JSON.parse(JSON.stringify(results.runs));
  const runs = cells.flatMap((cell) => {
    const rerun = reruns.find((r) => r.protocol === cell.protocol && r.seed === cell.seed);
    return rerun
      ? [{ protocol: cell.protocol, seed: cell.seed, fields: compareRuns(cell, rerun, exact) }]
      : [];
  });
  const failures = results.failures ?? [];
  const verified = !failures.length && !claims.length &&
    runs.every((r) => r.fields.every((f) => f.status !== "differs" || !f.required));
  return { recorded, provenance, exact, runs, failures, claims, verified };
}

/** Each stored claim that is not what the recorded runs give (see withDerivedClaims). */
function _claimIssues(recorded: Results, spec: ReplicationSpec, file: string): string[] {
  try {
    withDerivedClaims(recorded, spec, file);
    return [];
  } catch (e) {
    if (e instanceof ClaimsDisagreeError) return e.issues;
    throw e;
  }
}

/** The recorded runs to replay; an unknown or missing seed or protocol is an error. */
function _select(results: Results, file: string, opts: VerifyOptions): Run[] {
  const seeds = [...new Set(results.runs.map((r) => r.seed))].join(", ") || "none";
  if (opts.seed === undefined) {
    throw new ArgumentError(`--seed: say which recorded seed to replay (${file} has ${seeds})`);
  }
  const ofSeed = results.runs.filter((r) => r.seed === opts.seed);
  if (!ofSeed.length) {
    throw new VerifyError(
      `--seed: ${file} records no run with seed ${opts.seed} (recorded seeds: ${seeds}); ` +
        "pass one of those",
    );
  }
  const cells = ofSeed.filter((r) => opts.protocol === undefined || r.protocol === opts.protocol);
  if (!cells.length) {
    throw new VerifyError(
      `--protocol: ${file} records no run of protocol "${opts.protocol}" with seed ` +
        `${opts.seed} (recorded: ${ofSeed.map((r) => r.protocol).join(", ")}); pass one of ` +
        "those, or leave --protocol out to replay them all",
    );
  }
  return cells;
}

/** `deno task verify`: parses the arguments, replays, prints the comparison; the exit code. */
export async function verifyCommand(args: string[]): Promise<number> {
  try {
    const { values, positionals } = parseOptions(args, _OPTIONS);
    if (positionals.length !== 1) {
      throw new ArgumentError(`name one results file (got ${positionals.length})`);
    }
    if (values.seed !== undefined && !/^\d+$/.test(values.seed)) {
      throw new ArgumentError(`--seed: "${values.seed}" is not a whole number`);
    }
    const backend = values.backend as BackendInfo["name"] | undefined;
    if (backend !== undefined && !BACKENDS.includes(backend)) {
      throw new ArgumentError(`--backend: "${backend}" is not one of ${BACKENDS.join(", ")}`);
    }
    const file = positionals[0];
    const v = await verifyRun(file, {
      seed: values.seed === undefined ? undefined : Number(values.seed),
      protocol: values.protocol,
      backend,
      replications: values.replications,
      data: { dataDir: values["data-dir"], log: (m) => console.error(m) },
      onProgress: (p) => {
        if (p.eval) {
          console.error(
            `rerun ${p.protocol} seed ${p.seed}  epoch ${p.epoch}/${p.epochs}  ` +
              `${p.eval.metric} ${p.eval.value}`,
          );
        }
      },
      onProvenance: (fields, exact) => console.log(_provenanceTable(fields, exact) + "\n"),
    });
    console.log(_report(v));
    return v.verified ? 0 : 1;
  } catch (e) {
    const known = e instanceof VerifyError || e instanceof SpecError || e instanceof DataError ||
      e instanceof UnknownProtocolError;
    const parse = (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    if (!known && !parse) throw e;
    const usage = e instanceof ArgumentError || parse;
    console.error(`error: ${(e as Error).message}${usage ? `\n\n${USAGE}` : ""}`);
    return 2;
  }
}

function _provenanceTable(fields: ProvenanceField[], exact: boolean): string {
  const rows = fields.map((f) => [
    f.field,
    f.recorded,
    f.now,
    f.effect === "same" ? "same" : `differs: ${f.why}`,
  ]);
  const relaxed = fields.filter((f) => f.effect === "relaxes").map((f) => f.field);
  const rule = exact
    ? "check: same backend, code, tfjs, spec and data, so every number must be identical " +
      "(bit for bit, as stored)"
    : `check: ${relaxed.join(", ")} ${relaxed.length > 1 ? "differ" : "differs"} (see above), ` +
      "so numbers are compared within a tolerance:\n" +
      `  metrics: |rerun − recorded| ≤ ${CROSS_BACKEND_TOLERANCE}·max(1, |recorded|), the bound ` +
      "tests/backend_agreement_test.ts holds the backends to\n" +
      "  counts, epochs and flags: equal; chart artifacts: shown, not required";
  return `${textTable([["provenance", "recorded", "now", ""], ...rows])}\n${rule}`;
}

function _report(v: Verification): string {
  const show = (x: FieldValue) => x === undefined ? "absent" : x === null ? "none" : String(x);
  const tables = v.runs.map((r) =>
    `${v.recorded.replication} ${r.protocol} seed ${r.seed}\n` +
    textTable([
      ["field", "recorded", "rerun", "|diff|", "status"],
      ...r.fields.map((f) => [
        f.field,
        show(f.recorded),
        show(f.rerun),
        f.diff === null ? "" : f.diff === 0 ? "0" : f.diff.toExponential(2),
        f.status + (f.required ? "" : " (not required)") + (f.note ? `: ${f.note}` : ""),
      ]),
    ])
  );
  const failed = [
    ...v.failures.map((f) => `rerun failed: ${f.protocol} seed ${f.seed}: ${f.error}`),
    ...v.claims.map((c) => `the stored claims disagree with the recorded runs: ${c}`),
  ];
  const fields = v.runs.flatMap((r) => r.fields.map((f) => ({ ...f, run: r })));
  const required = fields.filter((f) => f.required);
  const differing = required.filter((f) => f.status === "differs");
  const shownOnly = fields.filter((f) => !f.required && f.status === "differs");
  const summary = v.verified
    ? `verified: all ${required.length} ${v.exact ? "" : "required "}fields of ` +
      `${v.runs.length} run(s) ` +
      (v.exact
        ? "identical to the recording"
        : `identical or within tolerance (${CROSS_BACKEND_TOLERANCE} relative) of the recording`) +
      (shownOnly.length ? `; ${shownOnly.length} artifact(s) differ, not required` : "")
    : `not verified: ${differing.length} field(s) differ` +
      (v.failures.length ? `, ${v.failures.length} run(s) failed` : "") +
      (v.claims.length ? `, ${v.claims.length} stored claim(s) are not what the runs give` : "") +
      differing.map((f) =>
        `\n  ${f.run.protocol} seed ${f.run.seed} ${f.field}: recorded ${show(f.recorded)}, ` +
        `rerun ${show(f.rerun)}` + (f.note ? ` (${f.note})` : "")
      ).join("");
  return [...tables, ...failed, summary].join("\n\n");
}
