/**
 * A replay beside its recording: a rerun's run compared with the recorded run field by field,
 * and the rerun's provenance with the recorded provenance, saying which differences make the
 * replay another computation (spec, data) and which only relax bit-identity to a tolerance
 * (backend, commit, tfjs).
 * @module
 */
import { type Epoch, epochValue, type Run } from "./result.ts";
import type { RunProvenance } from "./run_store.ts";

/**
 * How far a metric may move when the backend, commit or tfjs version differ:
 * |rerun − recorded| ≤ CROSS_BACKEND_TOLERANCE · max(1, |recorded|). It is the bound that
 * tests/backend_agreement_test.ts holds cpu, wasm and WebGPU to (outputs, and weights after one
 * training step); rounding differences can grow over many epochs, so a replay that misses it
 * by a little has other numbers, not necessarily wrong ones.
 */
export const CROSS_BACKEND_TOLERANCE = 2e-4;

/** A value as a run stores it; undefined where one side lacks the field. */
export type FieldValue = number | string | boolean | null | undefined;

/** One compared field of a run. */
export interface FieldComparison {
  /** The field: `params`, `epoch2.test_acc`, `final.test_acc`, `earlyStop.bestEpoch`, … */
  field: string;
  /** The recorded value (for an artifact, how many values it holds). */
  recorded: FieldValue;
  /** The rerun's value. */
  rerun: FieldValue;
  /** |rerun − recorded| for numbers (an artifact's largest); null for other values. */
  diff: number | null;
  /** `identical`: equal as stored in JSON; `within tolerance`: see CROSS_BACKEND_TOLERANCE. */
  status: "identical" | "within tolerance" | "differs";
  /** False for a field shown but not checked: chart artifacts when the check is relaxed. */
  required: boolean;
  /** For an artifact that differs: how many of its values do, and the first. */
  note?: string;
}

/**
 * Compares a rerun with the recorded run, field by field: parameter count, planned and trained
 * epochs, every epoch's metrics, the final metrics, early stopping, divergence and each chart
 * artifact (timings, samples/s and event timestamps are not compared). With `exact`, every
 * value must be identical; without, metrics may differ within CROSS_BACKEND_TOLERANCE, the
 * rest (counts, epochs, flags) must still be equal, and artifacts, which hold predictions and
 * rounded pixels that a last-bit difference can flip, are shown but not required.
 */
export function compareRuns(recorded: Run, rerun: Run, exact: boolean): FieldComparison[] {
  const rows: FieldComparison[] = [];
  const structure = (r: Run) =>
    _leaves({
      params: r.params,
      epochsPlanned: r.epochsPlanned,
      epochs: r.epochs.length,
      finalEpoch: r.finalEpoch,
      earlyStop: r.earlyStop,
      diverged: r.diverged,
    }, "");
  for (const [field, a, b] of _pairs(structure(recorded), structure(rerun))) {
    rows.push(_row(field, a, b, Object.is(a, b) ? "identical" : "differs", true));
  }
  const metrics = (prefix: string, a?: Epoch, b?: Epoch) => {
    const names = _union(Object.keys(a?.metrics ?? {}), Object.keys(b?.metrics ?? {}));
    for (const name of names) {
      const [x, y] = [a && epochValue(a, name), b && epochValue(b, name)];
      const status = Object.is(x, y)
        ? "identical"
        : !exact && _within(x, y)
        ? "within tolerance"
        : "differs";
      rows.push(_row(`${prefix}.${name}`, x, y, status, true));
    }
  };
  const at = (r: Run, epoch: number | null) => r.epochs.find((e) => e.epoch === epoch);
  const epochs = _union(recorded.epochs.map((e) => e.epoch), rerun.epochs.map((e) => e.epoch));
  for (const n of epochs) metrics(`epoch${n}`, at(recorded, n), at(rerun, n));
  metrics("final", at(recorded, recorded.finalEpoch), at(rerun, rerun.finalEpoch));
  const artifacts = (r: Run) => r.artifacts ?? {};
  for (const name of _union(Object.keys(artifacts(recorded)), Object.keys(artifacts(rerun)))) {
    const field = `artifacts.${name}`;
    const [a, b] = [artifacts(recorded)[name], artifacts(rerun)[name]].map((v) =>
      v === undefined ? undefined : _leaves(v, field)
    );
    const pairs = _pairs(a ?? new Map(), b ?? new Map());
    const differing = pairs.filter(([, x, y]) => !Object.is(x, y));
    const diffs = differing.map(([, x, y]) => _diff(x, y)).filter((d) => d !== null);
    const first = differing[0]?.[0];
    rows.push({
      field,
      recorded: a && _count(a.size),
      rerun: b && _count(b.size),
      diff: diffs.length ? Math.max(...diffs) : differing.length ? null : 0,
      status: differing.length ? "differs" : "identical",
      required: exact,
      ...(differing.length
        ? {
          note: `${differing.length} of ${pairs.length} differ` +
            (first === field ? "" : `, first ${first}`),
        }
        : {}),
    });
  }
  return rows;
}

function _row(
  field: string,
  recorded: FieldValue,
  rerun: FieldValue,
  status: FieldComparison["status"],
  required: boolean,
): FieldComparison {
  return { field, recorded, rerun, diff: _diff(recorded, rerun), status, required };
}

const _count = (n: number) => `${n} value${n === 1 ? "" : "s"}`;

function _diff(a: FieldValue, b: FieldValue): number | null {
  if (typeof a !== "number" || typeof b !== "number") return null;
  return Object.is(a, b) ? 0 : Math.abs(b - a);
}

function _within(recorded: FieldValue, rerun: FieldValue): boolean {
  const d = _diff(recorded, rerun);
  return d !== null && d <= CROSS_BACKEND_TOLERANCE * Math.max(1, Math.abs(recorded as number));
}

/** Every primitive inside `value`, by its dotted path under `path`. */
function _leaves(value: unknown, path: string): Map<string, FieldValue> {
  const out = new Map<string, FieldValue>();
  const walk = (v: unknown, p: string) => {
    if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) walk(x, p ? `${p}.${k}` : k);
    } else out.set(p, v as FieldValue);
  };
  walk(value, path);
  return out;
}

/** The keys of `a` then the keys only `b` has, each with both values. */
function _pairs(
  a: Map<string, FieldValue>,
  b: Map<string, FieldValue>,
): [string, FieldValue, FieldValue][] {
  return _union([...a.keys()], [...b.keys()]).map((k) => [k, a.get(k), b.get(k)]);
}

function _union<T>(a: T[], b: T[]): T[] {
  return [...new Set([...a, ...b])];
}

/** One provenance field of a replay: what was recorded, what the rerun has, what it means. */
export interface ProvenanceField {
  /** `spec`, `code`, `commit`, `backend`, `tfjs`, or `data <dataset>`. */
  field: string;
  /** As recorded. */
  recorded: string;
  /** As the rerun has it. */
  now: string;
  /**
   * `same`; `blocks`: the replay would train another computation, so it does not run;
   * `relaxes`: numbers are compared within CROSS_BACKEND_TOLERANCE instead of bit for bit.
   */
  effect: "same" | "blocks" | "relaxes" | "noted";
  /** Why a difference blocks the replay or relaxes the check. */
  why?: string;
}

/**
 * Compares the provenance a rerun would record with the recorded one. A different spec or
 * dataset file blocks the replay (another computation); other code, another backend (or WebGPU
 * adapter), commit or tfjs version relaxes the check to CROSS_BACKEND_TOLERANCE. Another commit
 * whose code has the recorded hash (both sides hash it) is only noted: the training path is the
 * same, so the numbers must still be identical. Only the datasets the rerun loads are compared.
 */
export function compareProvenance(recorded: RunProvenance, now: RunProvenance): ProvenanceField[] {
  const backend = (p: RunProvenance) =>
    p.backend.name + (p.backend.adapter ? ` (${p.backend.adapter})` : "");
  const commit = (p: RunProvenance) => p.gitCommit ?? "unknown";
  const field = (
    name: string,
    was: string,
    is: string,
    effect: "blocks" | "relaxes" | "noted",
    why: string,
    same = was === is,
  ): ProvenanceField =>
    same
      ? { field: name, recorded: was, now: is, effect: "same" }
      : { field: name, recorded: was, now: is, effect, why };
  const files = (d?: RunProvenance["datasets"][number]) =>
    d ? d.files.map((f) => `${f.file} ${f.sha256}`) : [];
  return [
    field(
      "spec",
      `sha256 ${recorded.spec.sha256.slice(0, 12)}…`,
      `sha256 ${now.spec.sha256.slice(0, 12)}…`,
      "blocks",
      "spec.json changed since the recording, so the protocols may differ: check out the " +
        `recorded commit (${commit(recorded)}) to replay it`,
      recorded.spec.sha256 === now.spec.sha256,
    ),
    ...now.datasets.map((d) => {
      const [was, is] = [files(recorded.datasets.find((r) => r.name === d.name)), files(d)];
      const changed = is.filter((f) => !was.includes(f));
      return field(
        `data ${d.name}`,
        was.length ? `${was.length} files` : "not recorded",
        `${is.length} files`,
        "blocks",
        `the rerun's ${d.name} files are not the recorded ones (${changed.join(", ")}): ` +
          "another dataset is another computation",
        !changed.length && was.length === is.length,
      );
    }),
    field(
      "code",
      recorded.code ? `sha256 ${recorded.code.sha256.slice(0, 12)}…` : "not recorded",
      now.code ? `sha256 ${now.code.sha256.slice(0, 12)}…` : "not recorded",
      "relaxes",
      "model.ts, a file it imports or the training path changed since the recording",
    ),
    recorded.code && now.code && recorded.code.sha256 === now.code.sha256
      ? field(
        "commit",
        commit(recorded),
        commit(now),
        "noted",
        "the code the runs execute has the recorded hash, so every number must still be identical",
      )
      : field(
        "commit",
        commit(recorded),
        commit(now),
        "relaxes",
        "the code may have changed since the recording",
      ),
    field(
      "backend",
      backend(recorded),
      backend(now),
      "relaxes",
      "backends round float32 sums in different orders, so the last bits differ",
    ),
    field(
      "tfjs",
      recorded.versions.tfjs,
      now.versions.tfjs,
      "relaxes",
      "another TensorFlow.js may compute with other kernels",
    ),
  ];
}
