/**
 * Results of record: the default-seed rerun of a replication, kept in git under
 * `records/<name>/` so that a fresh clone holds every verdict with its runs. A record is the
 * full protocols' results (every non-exploratory protocol and the stages it uses, the spec's
 * default seeds), taken from a rerun of a clean commit whose spec and code are the current ones,
 * rescored from those runs alone.
 * @module
 */
import { join } from "node:path";
import { RECORDS_DIR } from "../util/paths.ts";
import { type ClaimResult, type Results, ResultsSchema } from "../results/result.ts";
import type { ReplicationSpec } from "../spec/spec.ts";
import { runGrid } from "../train/plan.ts";
import { claimResults } from "./claims.ts";

/** A rerun that cannot be a record; the message lists every reason and what to do. */
export class RecordError extends Error {}

/** `records/<name>/results.json` (or under `dir`). */
export function recordFile(name: string, dir: string = RECORDS_DIR): string {
  return join(dir, name, "results.json");
}

/** `records/<name>/changes.json`: the verdicts that moved when the record was last replaced. */
export function changesFile(name: string, dir: string = RECORDS_DIR): string {
  return join(dir, name, "changes.json");
}

/** What the checkout is now, which a record must have been trained from. */
export interface Checkout {
  /** HEAD's commit; null when unknown. */
  commit: string | null;
  /** Whether tracked files differ from HEAD. */
  dirty: boolean;
  /** The SHA-256 of the replication's code now (see codeHash). */
  codeSha256: string;
}

/** The seeds a record holds: 1 … the spec's default seed count. */
export function recordSeeds(spec: Pick<ReplicationSpec, "defaultSeeds">): number[] {
  return Array.from({ length: spec.defaultSeeds }, (_, i) => i + 1);
}

/**
 * The record made from `results` (a `reports/<name>/results.json`): its runs of the default grid,
 * the claims rescored from them. Throws a RecordError listing every reason it cannot be one:
 * a dirty or unknown checkout, a rerun of another commit (or with uncommitted changes), of
 * another spec or code, a variant (--epochs, --dataset), a shard, an interrupted rerun, a failed
 * run, or a run of the default grid missing (fewer seeds than the default, --protocols).
 */
export function recordFrom(results: Results, spec: ReplicationSpec, now: Checkout): Results {
  const problems: string[] = [];
  if (now.commit === null) problems.push("the checkout's commit is unknown (is git installed?)");
  if (now.dirty) problems.push("tracked files have uncommitted changes: commit them first");
  if (results.gitCommit !== now.commit) {
    problems.push(
      `it was trained at ${results.gitCommit ?? "an unknown commit"}, not at HEAD (${now.commit})`,
    );
  }
  if (results.spec.sha256 !== spec.sha256) problems.push("spec.json changed since it was trained");
  if (results.code?.sha256 !== now.codeSha256) {
    problems.push("the replication's code (model.ts or the training path) changed since");
  }
  if (results.variant) problems.push(`it is a variant run (${results.variant}), not the protocol`);
  if (results.shard) problems.push("it is one shard: merge the shards first (deno task merge)");
  if (results.interrupted) problems.push("it was interrupted: finish it with --resume");
  for (const f of results.failures ?? []) {
    problems.push(`${f.protocol} seed ${f.seed} failed: ${f.error}`);
  }
  const cell = (c: { protocol: string; seed: number }) => `${c.protocol} seed ${c.seed}`;
  const grid = runGrid(spec, recordSeeds(spec));
  const byCell = new Map(results.runs.map((r) => [cell(r), r]));
  const missing = grid.filter((c) => !byCell.has(cell(c)));
  if (missing.length) {
    problems.push(
      `the default grid (${spec.defaultSeeds} seeds of every stated protocol) lacks ` +
        missing.map(cell).join(", "),
    );
  }
  if (problems.length) {
    throw new RecordError(
      `${results.replication}: not a record: ${problems.join("; ")}. A record is the default ` +
        `rerun of a clean commit: commit, then deno task replicate ${results.replication} ` +
        `and deno task record ${results.replication}`,
    );
  }
  const runs = grid.map((c) => byCell.get(cell(c))!);
  const dropped = results.runs.length - runs.length;
  return ResultsSchema.parse({
    ...results,
    grid,
    runs,
    claims: claimResults(spec, runs),
    deviations: dropped
      ? [...results.deviations, `left out ${dropped} run(s) outside the default grid`]
      : results.deviations,
  });
}

/** `records/<name>/changes.json` (or under `dir`), or null where there is none. */
export async function loadRecordChanges(
  name: string,
  dir: string = RECORDS_DIR,
): Promise<RecordChanges | null> {
  try {
    return JSON.parse(await Deno.readTextFile(changesFile(name, dir))) as RecordChanges;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** What moved when a record was replaced (`records/<name>/changes.json`). */
export interface RecordChanges {
  /** The commit the replaced record was trained at. */
  since: string | null;
  /** Its claims whose verdict moved; empty when none did. */
  changes: VerdictChange[];
}

/**
 * A record as its file holds it: compact JSON, one line per top-level field and one per run, so
 * that git shows which runs a new record changed (about half the size of indented JSON).
 */
export function recordJson(record: Results): string {
  const { runs, ...rest } = record;
  const fields = Object.entries(rest).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
  return `{\n${fields.join(",\n")},\n"runs":[\n${
    runs.map((r) => JSON.stringify(r)).join(",\n")
  }\n]}\n`;
}

/** A verdict that moved when a record was replaced. */
export interface VerdictChange {
  /** The claim's id. */
  claim: string;
  /** The replaced record's verdict and mean (null when it did not judge the claim). */
  old: { verdict: ClaimResult["verdict"]; mean: number | null } | null;
  /** The new record's. */
  new: { verdict: ClaimResult["verdict"]; mean: number | null } | null;
}

/** The claims whose verdict differs between the replaced record `old` and its successor. */
export function verdictChanges(old: Results, next: Results): RecordChanges {
  const ids = [...new Set([...old.claims, ...next.claims].map((c) => c.id))];
  const of = (r: Results, id: string) => {
    const c = r.claims.find((x) => x.id === id);
    return c ? { verdict: c.verdict, mean: c.mean } : null;
  };
  const changes = ids.flatMap((claim) => {
    const before = of(old, claim), after = of(next, claim);
    return before?.verdict === after?.verdict ? [] : [{ claim, old: before, new: after }];
  });
  return { since: old.gitCommit, changes };
}

/** A commit as its first 7 characters, or "an unknown commit". */
export function shortCommit(commit: string | null): string {
  return commit ? commit.slice(0, 7) : "an unknown commit";
}

/** "changed since abc1234: claim old → new; …", or that no verdict moved (plain text). */
export function changesText({ since, changes }: RecordChanges): string {
  const show = (v: RecordChanges["changes"][number]["old"]) =>
    v ? `${v.verdict}${v.mean === null ? "" : ` (${_mean(v.mean)})`}` : "not judged";
  return changes.length
    ? `Changed since ${shortCommit(since)}: ${
      changes.map((c) => `${c.claim} ${show(c.old)} → ${show(c.new)}`).join("; ")
    }.`
    : `No verdict changed since the record of ${shortCommit(since)}.`;
}

/** A mean to 4 decimals (a parameter count stays whole). */
function _mean(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(4);
}
