/**
 * The published report site, built from every `<out>/<name>/results.json`:
 *
 * - `<out>/index.html`: the scoreboard, every claim of every replication with its verdict, each
 *   replication's headline claims first and the rest folded below;
 * - `<out>/<name>/index.html` (and `events.jsonl`): the replication page;
 * - `<out>/summary.md`: a markdown table for a README or a pull request;
 * - `<out>/results.csv`: one row per claim and seed;
 * - `<out>/badge.svg` and `<out>/<name>/badge.svg`: status badges for the suite and each
 *   replication, with shields.io endpoint JSON beside them (`badge.json`).
 *
 * Every page is standalone HTML with inline SVG charts rendered at build time: no script,
 * nothing loaded, relative links only, so the folder works from file:// or any static host.
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../util/write_file_atomic.ts";
import {
  formatClaimed,
  formatCompare,
  formatReproduced,
  formatTimeToTarget,
  htmlPage,
  plural,
  relativeHref,
  verdictBadge,
} from "./_html.ts";
import { escapeHtml as _e } from "../util/escape_html.ts";
import { markdownCell } from "./_markdown.ts";
import { type Badge, badgeEndpoint, badgeSvg, replicationBadge, suiteBadge } from "./badge.ts";
import { eventLog } from "./event_log.ts";
import { loadReplication } from "../replications.ts";
import type { ReplicationModule } from "../plugin.ts";
import {
  type PageRecord,
  renderReplicationPage,
  RESCIENCE_RULE,
  reScienceBadge,
  type ReScienceTitle,
  reScienceTitle,
} from "./report.ts";
import { type ClaimResult, loadResults, type Results, type Verdict } from "../results/result.ts";
import { variantFileName } from "../results/run_store.ts";
import type { Claim, ReplicationSpec } from "../spec/spec.ts";
import { transferDataset, transferMarkdown } from "./transfer_table.ts";
import { EXPLAIN_VARIANT } from "../score/explain.ts";
import { withPerturbations } from "../spec/perturbations.ts";
import { withDerivedClaims } from "../score/claims.ts";
import { loadRecordChanges, recordFile } from "../score/records.ts";

/** One replication on the site. */
export interface SiteEntry {
  /** Folder name under the site (normally the replication name). */
  dir: string;
  results: Results;
  spec: ReplicationSpec;
  /** The replication's model.ts, for its own charts (absent: standard charts only). */
  module?: ReplicationModule;
  title: ReScienceTitle;
  /** Set when the results are a record in git (see score/records.ts), not a rerun in `outDir`. */
  record?: PageRecord;
}

/** What the site needs of a replication folder; `loadReplication` returns a superset. */
export interface SiteReplication {
  /** The replication's validated spec. */
  spec: ReplicationSpec;
  /** Its model.ts, for its own charts (absent: standard charts only). */
  module?: ReplicationModule;
}

/** Options of {@link buildSite}. */
export interface SiteOptions {
  /**
   * Loads a replication's spec (and model.ts, for its own charts) by name; default:
   * `loadReplication`, i.e. replications/<name>/. Tests pass fixtures here.
   */
  loadReplication?: (name: string) => Promise<SiteReplication>;
  /**
   * Called for a results.json that does not validate or whose replication cannot be loaded;
   * that replication is then left out of the site, and {@link buildSite} also returns the file
   * in `skipped`. Without it such a file stops the build.
   */
  onSkip?: (file: string, error: Error) => void;
  /**
   * The records folder (`records/`): a replication with no results.json in the site's folder
   * is drawn from its record there, so a fresh clone's site shows every verdict of record.
   */
  records?: string;
}

/**
 * Reads every `<outDir>/<dir>/results.json` (shard files are ignored) and the record of each
 * replication without one there (`options.records`), sorted by folder name, with its spec. A
 * results.json that does not validate stops the build with an error naming the file, unless
 * `options.onSkip` takes it.
 */
async function _loadSiteEntries(
  outDir: string,
  options: SiteOptions = {},
): Promise<SiteEntry[]> {
  const load = options.loadReplication ?? loadReplication;
  const entries: SiteEntry[] = [];
  // One results file as an entry (claims derived from its runs), or skipped through onSkip.
  const add = async (file: string, dir: string, record?: () => Promise<PageRecord>) => {
    try {
      const loaded = await loadResults(file);
      const { spec, module } = await load(loaded.replication);
      const results = withDerivedClaims(loaded, spec, file);
      const title = reScienceTitle(results, spec);
      entries.push({ dir, results, spec, module, title, record: await record?.() });
    } catch (e) {
      if (!options.onSkip) throw e;
      options.onSkip(file, e as Error);
    }
  };
  for (const dir of await _folders(outDir)) {
    for (const file of await _resultsFiles(join(outDir, dir))) await add(file, dir);
  }
  const rerun = new Set(entries.filter((e) => !e.results.variant).map((e) => e.dir));
  for (const name of options.records ? await _folders(options.records) : []) {
    const file = recordFile(name, options.records);
    if (rerun.has(name) || !await Deno.stat(file).then(() => true, () => false)) continue;
    await add(file, name, async () => ({
      file: `records/${name}/results.json`,
      changes: await loadRecordChanges(name, options.records),
    }));
  }
  return entries.sort((a, b) => a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0);
}

/** The folders in `dir` (none when it does not exist), sorted, hidden ones left out. */
async function _folders(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory && !entry.name.startsWith(".")) names.push(entry.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return names.sort();
}

/**
 * A replication folder's results files: results.json first, then its variants'
 * (`results.<variant>.json`, e.g. a --epochs smoke run); shard files are not results yet.
 */
async function _resultsFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && /^results(\.[a-z0-9][a-z0-9.-]*)?\.json$/.test(e.name)) {
        if (!e.name.startsWith("results.shard-")) names.push(e.name);
      }
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return [];
    throw e;
  }
  return names.sort((
    a,
    b,
  ) => (a === "results.json" ? -1 : b === "results.json" ? 1 : a < b ? -1 : 1))
    .map((n) => join(dir, n));
}

/** A results.json left out of the site, and why (see {@link SiteOptions.onSkip}). */
export interface SiteSkip {
  /** The results.json path. */
  file: string;
  /** Why it was left out: it does not validate, or its replication cannot be loaded. */
  error: Error;
}

/** What {@link buildSite} did. */
export interface SiteBuild {
  /** Every path written, in order. */
  written: string[];
  /**
   * The results.json files left out of the site (only with `options.onSkip`; without it the
   * first such file stops the build). Not empty: the site is incomplete, and a command line
   * should exit non-zero after writing it.
   */
  skipped: SiteSkip[];
}

/**
 * Builds the whole site in `outDir` from the results found there and returns the paths
 * written, each written atomically (temp file and rename), and the results.json files that
 * `options.onSkip` took and the site therefore lacks.
 *
 * @example A site from one made-up run of keras-dense's "slides" protocol, scored as a rerun
 * scores it, in a temporary folder (`buildSite("reports")` builds the real one):
 * ```ts
 * import { buildSite } from "./site.ts";
 * import { loadReplication } from "../replications.ts";
 * import { epochRecord, RESULTS_SCHEMA, type Run } from "../results/result.ts";
 * import { claimResults } from "../score/claims.ts";
 *
 * const { spec } = await loadReplication("keras-dense");
 * const metrics = { train_loss: 0.1, train_acc: 0.97, test_loss: 0.1, test_acc: 0.971 };
 * const runs: Run[] = [{
 *   protocol: "slides", seed: 1, params: 50_890, epochsPlanned: 1, finalEpoch: 1,
 *   epochs: [epochRecord(1, metrics, 2.5, 0.2)], earlyStop: null, diverged: null,
 *   warmupSeconds: 0.3, trainSeconds: 2.5, samplesPerSecond: 24_000, events: [],
 * }];
 * const out = await Deno.makeTempDir();
 * await Deno.mkdir(`${out}/${spec.name}`);
 * await Deno.writeTextFile(`${out}/${spec.name}/results.json`, JSON.stringify({
 *   schema: RESULTS_SCHEMA, replication: spec.name, title: spec.title,
 *   spec: { version: spec.version, sha256: spec.sha256 }, createdAt: new Date().toISOString(),
 *   command: "example", gitCommit: null, setupSeconds: 1,
 *   versions: { deno: Deno.version.deno, v8: Deno.version.v8, tfjs: "4.22.0" },
 *   backend: { name: "cpu", adapter: null, fallbackAdapter: null, note: null },
 *   datasets: [], grid: [{ protocol: "slides", seed: 1 }], shard: null, deviations: [],
 *   runs, claims: claimResults(spec, runs),
 * }));
 * const { written, skipped } = await buildSite(out, {
 *   onSkip: (file, e) => console.error(`skipped ${file}: ${e.message}`),
 * });
 * await Deno.remove(out, { recursive: true });
 * if (skipped.length || !written.includes(`${out}/${spec.name}/index.html`)) {
 *   throw new Error("the replication's page was not written");
 * }
 * ```
 */
export async function buildSite(outDir: string, options: SiteOptions = {}): Promise<SiteBuild> {
  const skipped: SiteSkip[] = [];
  const onSkip = options.onSkip;
  const entries = await _loadSiteEntries(
    outDir,
    onSkip
      ? {
        ...options,
        onSkip: (file, error) => {
          skipped.push({ file, error });
          onSkip(file, error);
        },
      }
      : options,
  );
  const written: string[] = [];
  const write = async (path: string, content: string) => {
    await writeFileAtomic(path, content);
    written.push(path);
  };
  const writeBadge = async (dir: string, badge: Badge) => {
    await write(join(dir, "badge.svg"), badgeSvg(badge));
    await write(join(dir, "badge.json"), JSON.stringify(badgeEndpoint(badge)) + "\n");
  };
  // A replication's runs on other datasets (--dataset), for its main page's transfer table.
  const transfersOf = (main: SiteEntry) =>
    entries.filter((e) => e.dir === main.dir && transferDataset(e.results) !== null)
      .map((e) => e.results);
  for (const e of entries) {
    const dir = join(outDir, e.dir);
    const variant = e.results.variant;
    const transfers = variant ? [] : transfersOf(e);
    const explained = variant
      ? undefined
      : entries.find((x) => x.dir === e.dir && x.results.variant === EXPLAIN_VARIANT)?.results;
    if (transfers.length) {
      await write(join(dir, "transfer.md"), transferMarkdown(e.results, transfers));
    }
    // Derived from results.json, so the page's link to it always resolves.
    await write(join(dir, variantFileName("events", "jsonl", variant)), eventLog(e.results));
    await write(
      join(dir, variantFileName("index", "html", variant)),
      // explain's results hold runs of the perturbations the harness derives.
      await renderReplicationPage(
        e.results,
        variant === EXPLAIN_VARIANT ? withPerturbations(e.spec) : e.spec,
        {
          siteLink: true,
          charts: e.module?.charts && (() => e.module!.charts!(e.results)),
          transfers,
          explained,
          record: e.record,
        },
      ),
    );
  }
  // The scoreboard, summary and CSV hold the full protocols' results; variants are linked apart.
  const full = entries.filter((e) => !e.results.variant);
  await write(
    join(outDir, "index.html"),
    renderIndexPage(full, entries.filter((e) => e.results.variant)),
  );
  await write(join(outDir, "summary.md"), _renderSummaryMarkdown(full));
  await write(join(outDir, "results.csv"), renderResultsCsv(full));
  // Badges state the full protocols' outcome; a variant (e.g. --epochs 1) never drives one.
  for (const e of full) {
    await writeBadge(join(outDir, e.dir), replicationBadge(e.results.replication, e.title));
  }
  await writeBadge(outDir, suiteBadge(full.map((e) => e.title)));
  return { written, skipped };
}

/**
 * The scoreboard: each replication's headline claims in one table (see {@link scoreboardRows}),
 * its other claims folded below it; then links to `variants` (results of reruns that change
 * what is trained, e.g. --epochs 1).
 */
export function renderIndexPage(entries: SiteEntry[], variants: SiteEntry[] = []): string {
  const claims = entries.reduce((n, e) => n + e.results.claims.length, 0);
  const counts = new Map<Verdict, number>();
  for (const e of entries) {
    for (const c of e.results.claims) counts.set(c.verdict, (counts.get(c.verdict) ?? 0) + 1);
  }
  const tally = [...counts].map(([v, n]) => `${n} × ${verdictBadge(v)}`).join(", ");
  const re = entries.filter((e) => e.title.reproduced).length;
  const body = `<p class="kicker">claimcheck · published claims, rerun</p>
<h1>Scoreboard</h1>
<p>${plural(entries.length, "replication")}, ${plural(claims, "claim")}: ${re} [Re], ${
    entries.length - re
  } [¬Re]. Verdicts: ${tally || "none"}. Each replication's headline claims, the source's main
numbers (marked <code>headline</code> in its spec; where none is, its claims on stated protocols),
are set beside the mean over seeds of the rerun, with the half-width of its 95 % confidence
interval and the number of seeds n; its other claims are folded below.</p>
${
    entries.length
      ? _scoreboard(entries)
      : "<p>No results yet: run <code>deno task replicate --all</code>.</p>"
  }
<p class="rule">${_e(RESCIENCE_RULE)}</p>
<p class="note">Time to accuracy (MLPerf): seconds from a run's start to its first evaluation at
or above claim − ε, as the olympic mean over seeds (fastest and slowest dropped when n ≥ 3),
with the epochs each seed took; warm-up and data loading are logged apart. “—”: the claim sets
no accuracy target; “not reached”: too few seeds reached it. Downloads:
<a href="summary.md">summary.md</a> (markdown table), <a href="results.csv">results.csv</a> (one
row per claim and seed); status badges <a href="badge.svg">badge.svg</a> (the suite) and
<code>&lt;name&gt;/badge.svg</code> (each replication), each with shields.io endpoint JSON
beside it (<a href="badge.json">badge.json</a>).</p>${_variantList(variants)}`;
  return htmlPage("claimcheck scoreboard", body, 1280);
}

/** Links to results that are not the full protocol, each with its deviations and verdicts. */
function _variantList(variants: SiteEntry[]): string {
  if (!variants.length) return "";
  const items = variants.map((e) => {
    const r = e.results;
    const page = variantFileName("index", "html", r.variant);
    const verdicts = new Map<Verdict, number>();
    for (const c of r.claims) verdicts.set(c.verdict, (verdicts.get(c.verdict) ?? 0) + 1);
    return `<li data-variant="${_e(r.variant ?? "")}"><a href="${_e(relativeHref(e.dir, page))}">${
      _e(r.title)
    }</a> · <code>${_e(r.variant ?? "")}</code> · ${_e(r.deviations[0] ?? "")} · ${
      [...verdicts].map(([v, n]) => `${n} × ${verdictBadge(v)}`).join(", ") || "no claims"
    }${
      r.interrupted
        ? ` · interrupted (${plural(r.interrupted.unfinished.length, "run")} unfinished)`
        : ""
    }</li>`;
  });
  return `<h2>Other results</h2>
<p>Reruns that change what is trained (fewer epochs, part of the training set, another dataset, the
variants <code>deno task explain</code> ranks) are written beside
the full protocol's results, never over them, and are not on the scoreboard.</p>
<ul>${items.join("\n")}</ul>`;
}

/** A scoreboard row: a claim the rerun judged, or a headline claim of the spec it left out. */
export type ScoreboardRow = ClaimResult | Claim;

/**
 * The claims among `claims` a scoreboard heads with: those the spec marks `headline` (one missing
 * from `claims`, e.g. left out by --protocols, is the spec's own claim); where none is marked, the
 * claims on stated (non-exploratory) protocols, else all. Works on judged claims and on a spec's.
 */
export function headlineClaims<C extends { id: string; protocol: string }>(
  claims: C[],
  spec: ReplicationSpec,
): (C | Claim)[] {
  const marked = spec.claims.filter((c) => c.headline);
  if (marked.length) return marked.map((m) => claims.find((c) => c.id === m.id) ?? m);
  const exploratory = new Set(spec.protocols.filter((p) => p.exploratory).map((p) => p.id));
  const stated = claims.filter((c) => !exploratory.has(c.protocol));
  return stated.length ? stated : claims;
}

/**
 * A replication's claims in scoreboard order: `headline` (see {@link headlineClaims}), one the
 * rerun left out shown as not checked; `rest`: the other claims the rerun judged.
 */
export function scoreboardRows(
  results: Results,
  spec: ReplicationSpec,
): { headline: ScoreboardRow[]; rest: ClaimResult[] } {
  const headline = headlineClaims(results.claims, spec);
  return { headline, rest: results.claims.filter((c) => !headline.includes(c)) };
}

function _scoreboard(entries: SiteEntry[]): string {
  const split = entries.map((e) => ({ e, ...scoreboardRows(e.results, e.spec) }));
  const more = split.filter((s) => s.rest.length);
  const folded = more.reduce((n, s) => n + s.rest.length, 0);
  const table = (rows: string, groups: string[]) =>
    `<div class="scroll"><table class="scoreboard" data-rows="${rows}">
<thead><tr><th>Replication, backend, date</th><th>Claim and source</th><th class="num">Claimed</th><th class="num">Reproduced</th><th>Verdict</th><th class="num">Time to accuracy</th></tr></thead>
${groups.join("\n")}
</table></div>`;
  const details = more.length
    ? `\n<details class="more"><summary>${plural(folded, "more claim")}, by replication</summary>
${table("more", more.map((s) => _group(s.e, s.rest)))}
</details>`
    : "";
  return table("headline", split.map((s) => _group(s.e, s.headline))) + details;
}

/**
 * One replication's rows: its facts (title, backend, date) once, spanning its claims. Rows are
 * kept to two lines (a claim's source file sits under its statement) so that the headline
 * table of a few replications fits one screen.
 */
function _group(e: SiteEntry, rows: ScoreboardRow[]): string {
  const r = e.results;
  const adapter = r.backend.adapter === null
    ? ""
    : ` · ${_e(r.backend.adapter)}${r.backend.fallbackAdapter ? " (software)" : ""}`;
  const repCell = `<td class="rep" rowspan="${Math.max(1, rows.length)}">${
    reScienceBadge(e.title)
  }<a href="${_e(relativeHref(e.dir, "index.html"))}">${
    _e(r.title)
  }</a><span class="sub"><code class="id">${_e(r.replication)}</code> · ${
    plural(new Set(r.runs.map((run) => run.seed)).size, "seed")
  }</span><span class="sub backend">backend <code>${_e(r.backend.name)}</code>${adapter} · ${
    _e(r.createdAt.slice(0, 10))
  } ${_e(r.createdAt.slice(11, 16))} UTC</span></td>`;
  if (!rows.length) {
    return `<tbody class="rep"><tr data-replication="${
      _e(r.replication)
    }">${repCell}<td colspan="5">no claims</td></tr></tbody>`;
  }
  const trs = rows.map((c, i) => {
    const judged = "verdict" in c ? c : null;
    const source = e.spec.sources.find((s) => s.id === c.source);
    const tta = judged && formatTimeToTarget(judged.timeToTarget);
    const exploratory = e.spec.protocols.find((p) => p.id === c.protocol)?.exploratory;
    const file = source
      ? `<code class="file" title="${_e(source.title)}">${_e(source.file)}</code>`
      : _e(c.source);
    return `<tr data-replication="${_e(r.replication)}" data-claim="${_e(c.id)}">${
      i ? "" : repCell
    }<td class="statement">${_e(c.statement)}<span class="sub"><code class="id">${
      _e(c.id)
    }</code> · ${_e(c.protocol)}${
      exploratory ? " (exploratory)" : ""
    } · ${file}</span></td><td class="num">${_e(formatClaimed(c))}<span class="sub">${
      _e(formatCompare(c))
    }</span></td><td class="num">${judged ? _reproduced(judged) : "—"}</td><td>${
      judged ? verdictBadge(judged.verdict) : '<span class="badge muted">not checked</span>'
    }</td><td class="num tta">${
      tta ? `${_e(tta.olympic)}<span class="sub">${_e(tta.epochs)}</span>` : "—"
    }</td></tr>`;
  });
  return `<tbody class="rep">\n${trs.join("\n")}\n</tbody>`;
}

/** Mean ± CI half-width on one line, n below. */
function _reproduced(c: ClaimResult): string {
  const text = formatReproduced(c);
  const m = text.match(/^(.*) \((n=.*)\)$/);
  return m ? `${_e(m[1])}<span class="sub">${_e(m[2])}</span>` : _e(text);
}

/** summary.md: one markdown table row per claim, replications titled [Re] or [¬Re]. */
function _renderSummaryMarkdown(entries: SiteEntry[]): string {
  const lines = [
    "# claimcheck results",
    "",
    markdownCell(RESCIENCE_RULE),
    "",
  ];
  for (const e of entries) {
    lines.push(
      `- **${markdownCell(e.title.mark)} ${markdownCell(e.results.title)}** (${
        markdownCell(e.results.replication)
      }): ${
        e.title.reproduced ? "every stated claim holds" : markdownCell(e.title.reasons.join("; "))
      }`,
    );
  }
  if (entries.length) lines.push("");
  lines.push(
    "| Replication | Claim | Claimed | Reproduced: mean ± 95 % CI (n) | Verdict |",
    "| --- | --- | --- | --- | --- |",
  );
  for (const e of entries) {
    for (const c of e.results.claims) {
      lines.push(
        `| ${markdownCell(`${e.title.mark} ${e.results.title}`)} | ${markdownCell(c.id)}: ${
          markdownCell(c.statement)
        } | ${markdownCell(`${formatClaimed(c)} (${formatCompare(c)})`)} | ${
          markdownCell(formatReproduced(c))
        } | ${markdownCell(c.verdict)} |`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

/** A decimal number as text: `-0.5`, `+3`, `1e-5`, `.25`; not `-2+3` or `-Infinity`. */
const _NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. Text that a
 * spreadsheet would run as a formula (OWASP "CSV injection": a first character `=`, `+`, `-`,
 * `@`, tab or carriage return) gets a leading `'`, so it shows as text; numbers, and text that
 * is a plain decimal number such as `-0.5`, are left as they are.
 */
function _csv(value: string | number | boolean | null | undefined): string {
  let s = value === null || value === undefined ? "" : String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(s) && !_NUMERIC.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The columns of results.csv. */
export const CSV_COLUMNS = [
  "replication",
  "title_mark",
  "claim",
  "protocol",
  "exploratory",
  "source_file",
  "statement",
  "metric",
  "epoch",
  "claimed",
  "compare",
  "epsilon",
  "seed",
  "value",
  "n",
  "mean",
  "ci95_low",
  "ci95_high",
  "sd",
  "min",
  "max",
  "olympic_mean",
  "verdict",
  "tta_target",
  "tta_seconds",
  "tta_epochs",
  "tta_olympic_seconds",
  "backend",
  "adapter",
  "created_at",
  "git_commit",
] as const;

/**
 * results.csv: a header, then one row per claim and seed (a claim without values gets one row
 * with empty seed and value). CRLF line ends and quoting as RFC 4180 has them.
 */
export function renderResultsCsv(entries: SiteEntry[]): string {
  const rows: string[][] = [[...CSV_COLUMNS]];
  for (const e of entries) {
    const r = e.results;
    for (const c of r.claims) {
      const source = e.spec.sources.find((s) => s.id === c.source);
      const exploratory = e.spec.protocols.find((p) => p.id === c.protocol)?.exploratory ?? false;
      const seeds = c.seeds.length ? c.seeds.map((seed, i) => [seed, c.values[i]]) : [[null, null]];
      for (const [seed, value] of seeds) {
        const tta = c.timeToTarget?.perSeed.find((p) => p.seed === seed);
        const row: Record<(typeof CSV_COLUMNS)[number], string | number | boolean | null> = {
          replication: r.replication,
          title_mark: e.title.mark,
          claim: c.id,
          protocol: c.protocol,
          exploratory,
          source_file: source?.file ?? c.source,
          statement: c.statement,
          metric: c.metric,
          epoch: c.epoch,
          claimed: c.claimed,
          compare: c.compare,
          epsilon: c.epsilon,
          seed,
          value: value ?? null,
          n: c.stats?.n ?? c.values.length,
          mean: c.stats?.mean ?? null,
          ci95_low: c.stats?.ci95?.[0] ?? null,
          ci95_high: c.stats?.ci95?.[1] ?? null,
          sd: c.stats?.sd ?? null,
          min: c.stats?.min ?? null,
          max: c.stats?.max ?? null,
          olympic_mean: c.stats?.olympicMean ?? null,
          verdict: c.verdict,
          tta_target: c.timeToTarget?.target ?? null,
          tta_seconds: tta?.seconds ?? null,
          tta_epochs: tta?.epochs ?? null,
          tta_olympic_seconds: c.timeToTarget?.olympicSeconds ?? null,
          backend: r.backend.name,
          adapter: r.backend.adapter,
          created_at: r.createdAt,
          git_commit: r.gitCommit,
        };
        rows.push(CSV_COLUMNS.map((k) => _csv(row[k])));
      }
    }
  }
  return rows.map((row) => row.join(",")).join("\r\n") + "\r\n";
}
