/**
 * The replication page: one standalone HTML file (inline CSS and SVG, no script, nothing
 * loaded) that puts each claim beside its rerun with statistics over seeds, so it can be read
 * from file:// or attached anywhere. Also the ReScience-style title rule ([Re] / [¬Re]).
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../util/write_file_atomic.ts";
import {
  formatClaimed,
  formatCompare,
  formatNumber,
  formatTimeToTarget,
  formatValue,
  htmlPage,
  plural,
  relativeHref,
  verdictBadge,
} from "./_html.ts";
import { escapeHtml as _e } from "../util/escape_html.ts";
import { learningRateSpec, protocolCurvesSpec, renderSvg, trainLossSpec } from "./chart.ts";
import { classifierSection } from "./_classifier.ts";
import { augmentationSection } from "./_augmented.ts";
import type { ReplicationChart } from "../plugin.ts";
import { protocolMetrics } from "../spec/metrics.ts";
import {
  type ClaimResult,
  type Epoch,
  epochValue,
  type Results,
  type Run,
  runDeviations,
  type Verdict,
} from "../results/result.ts";
import type { ReplicationSpec } from "../spec/spec.ts";
import { variantFileName } from "../results/run_store.ts";
import { renderTransferSection } from "./transfer_table.ts";
import { claimNotes } from "../score/explain.ts";
import { changesText, type RecordChanges, shortCommit } from "../score/records.ts";
import { withPerturbations } from "../spec/perturbations.ts";

/** Verdicts that keep a replication from the [Re] title when a stated claim gets one. */
export const FAILING_VERDICTS: readonly Verdict[] = ["not reproduced", "diverged", "inconclusive"];

/** The [Re] / [¬Re] rule in words, shown on the pages and in summary.md. */
export const RESCIENCE_RULE = "[Re] (reproduced) when every claim on a stated protocol " +
  "(one the sources describe, not an exploratory sweep) was checked by the rerun and none of them is " +
  "“not reproduced”, “diverged” or “inconclusive” (“reproduced”, “reproduced (better)” and " +
  "“fails as claimed” all hold); otherwise [¬Re] (not reproduced). A replication with no " +
  "claim on a stated protocol is [¬Re]. Claims on exploratory protocols are reported but " +
  "never change the title.";

/** A replication's ReScience-style title mark and why. */
export interface ReScienceTitle {
  mark: "[Re]" | "[¬Re]";
  reproduced: boolean;
  /** Why it is [¬Re]: one entry per failing or missing stated claim; empty for [Re]. */
  reasons: string[];
  /** Claims on stated protocols (those the title counts). */
  stated: string[];
  /** The stated claims whose verdict holds (not one of {@link FAILING_VERDICTS}). */
  held: string[];
  /** Claims on stated protocols of the spec that the rerun left out (e.g. by --protocols). */
  unchecked: string[];
}

/**
 * Applies {@link RESCIENCE_RULE}. A claim whose protocol the spec does not list counts as
 * stated, so an unknown protocol can only make the title stricter.
 */
export function reScienceTitle(results: Results, spec: ReplicationSpec): ReScienceTitle {
  const exploratory = new Set(spec.protocols.filter((p) => p.exploratory).map((p) => p.id));
  const stated = results.claims.filter((c) => !exploratory.has(c.protocol));
  const failing = (c: ClaimResult) => FAILING_VERDICTS.includes(c.verdict);
  const rerun = new Set(results.claims.map((c) => c.id));
  const unchecked = spec.claims.filter((c) => !exploratory.has(c.protocol) && !rerun.has(c.id))
    .map((c) => c.id);
  const reasons = [
    ...stated.filter(failing).map((c) => `${c.id}: ${c.verdict}`),
    ...unchecked.map((id) => `${id}: not checked`),
  ];
  if (!stated.length && !reasons.length) reasons.push("no claim on a stated protocol");
  const reproduced = reasons.length === 0;
  return {
    mark: reproduced ? "[Re]" : "[¬Re]",
    reproduced,
    reasons,
    stated: stated.map((c) => c.id),
    held: stated.filter((c) => !failing(c)).map((c) => c.id),
    unchecked,
  };
}

/** The title mark as a coloured label. */
export function reScienceBadge(t: ReScienceTitle): string {
  return `<span class="re ${t.reproduced ? "yes" : "no"}" title="${
    _e(t.reproduced ? "reproduced" : `not reproduced: ${t.reasons.join("; ")}`)
  }">${_e(t.mark)}</span>`;
}

/** Options of the replication page. */
export interface ReplicationPageOptions {
  /** Link back to the site's scoreboard at ../index.html (set by buildSite). */
  siteLink?: boolean;
  /**
   * The replication's own charts (its model.ts `charts(results)`), shown below the standard
   * ones; a function that throws shows its error on the page instead.
   */
  charts?: ReplicationChart[] | (() => ReplicationChart[]);
  /** Results of the same replication on other datasets (`--dataset`): the transfer table. */
  transfers?: Results[];
  /**
   * `deno task explain`'s results for this replication: each claim's row then says which
   * variant comes closest to a miss, or whether a hit survives the perturbations.
   */
  explained?: Results;
  /** Set when `results` is a record in git: its file, and what moved when it was replaced. */
  record?: PageRecord;
}

/** A record's place in git and its changes (see score/records.ts). */
export interface PageRecord {
  /** The record's path in the repository, e.g. `records/keras-dense/results.json`. */
  file: string;
  /** The verdicts that moved when it last replaced a record; null when none was replaced. */
  changes: RecordChanges | null;
}

/** The record's provenance and replay command, and the verdicts that moved since the last one. */
function _recordNote(results: Results, record: PageRecord | undefined): string {
  if (!record) return "";
  const commit = shortCommit(results.gitCommit);
  const changes = record.changes
    ? `\n<p class="changes" data-changes="${record.changes.changes.length}">${
      _e(changesText(record.changes))
    }</p>`
    : "";
  return `<p class="record">Results of record: <code>${_e(record.file)}</code> in the repository,
the default seeds' rerun of commit <code>${_e(commit)}</code>. Replay a seed with
<code>deno task verify ${_e(record.file)} --seed ${
    results.runs[0]?.seed ?? 1
  }</code>.</p>${changes}`;
}

/** Renders the whole replication page for `results` (the rerun) and `spec` (what was claimed). */
export async function renderReplicationPage(
  results: Results,
  spec: ReplicationSpec,
  options: ReplicationPageOptions = {},
): Promise<string> {
  const title = reScienceTitle(results, spec);
  const protocols = [...new Set(results.runs.map((r) => r.protocol))];
  const curves: string[] = [];
  for (const p of protocols) {
    const desc = spec.protocols.find((sp) => sp.id === p);
    const seeds = new Set(results.runs.filter((r) => r.protocol === p).map((r) => r.seed)).size;
    for (const [side, yTitle] of [["higher", "accuracy"], ["lower", "loss"]] as const) {
      const chart = protocolCurvesSpec(results, p, _curveMetrics(results, spec, p, side), yTitle);
      if (!chart) continue;
      curves.push(`<figure class="chart" data-chart="curves-${yTitle}" data-protocol="${_e(p)}">
<h3><code class="id">${_e(p)}</code>${desc?.exploratory ? " (exploratory)" : ""} · ${yTitle} · ${
        plural(seeds, "seed")
      }</h3>
${await renderSvg(chart)}
<figcaption>${_e(desc?.description ?? "not in the spec")}</figcaption>
</figure>`);
    }
  }
  const lossChart = trainLossSpec(results);
  const loss = lossChart
    ? `<figure class="chart" data-chart="train-loss">
${await renderSvg(lossChart)}
<figcaption>Training loss averaged over each epoch's batches: mean over seeds per protocol (line),
lowest to highest seed (band).</figcaption>
</figure>`
    : "<p>no epochs to plot</p>";
  const rateChart = learningRateSpec(results);
  const rates = rateChart
    ? `<h2>Learning rate per epoch</h2>
<figure class="chart" data-chart="learning-rate">
${await renderSvg(rateChart)}
<figcaption>The learning rate each run trained with (the legacy decay applied): from each epoch's
first step to its last, one line per seed.</figcaption>
</figure>`
    : "";
  const kicker = options.siteLink
    ? `<p class="kicker"><a href="../index.html">← all replications</a> · claimcheck replication · ${
      _e(results.replication)
    }</p>`
    : `<p class="kicker">claimcheck replication · ${_e(results.replication)}</p>`;
  // Runs merged in from an earlier rerun bring their departures (notes) with them.
  const deviations = [...new Set([...results.deviations, ...runDeviations(results.runs)])];
  const body = `${kicker}
<h1>${reScienceBadge(title)}${_e(results.title)}</h1>
${_intro(results, spec)}
${_status(results)}
${_recordNote(results, options.record)}
${_titleNote(title)}
<h2>Claims</h2>
${
    _claimsTable(
      results.claims,
      spec,
      options.explained && !results.variant
        ? claimNotes(withPerturbations(spec), results.claims, options.explained.runs)
        : new Map(),
    )
  }
<p class="note">Comparison: ≈ ±ε means the reproduced mean is within ε of the claim (beyond ε on
the better side counts as better, unless two-sided); ≥ (−ε) and ≤ (+ε) mean it is at least
claim − ε or at most claim + ε; “fails” claims that the setup fails, confirmed when the mean is
at most claim + ε. Statistics are over seeds: n, mean ± half-width of the 95 % confidence
interval (Student t), standard deviation, range, and the olympic mean (MLPerf: without the best
and the worst seed, n ≥ 3). A verdict is decided when the whole interval lies on one side of
claim ± ε, else “inconclusive”. Time to accuracy (MLPerf) runs from each run's start to its
first evaluation at or above claim − ε, warm-up excluded; its olympic mean drops the fastest and
the slowest seed.</p>
${renderTransferSection(results, options.transfers ?? [])}
<h2>Curves per epoch</h2>
<div class="charts">
${curves.join("\n") || "<p>no epochs to plot</p>"}
</div>
<p class="note">Per protocol, its accuracies (higher is better) and its losses (lower is better)
on each split: the mean over seeds (line) and the range from the lowest to the highest seed
(band). Black shapes: claimed values, at the claim's epoch (or its protocol's last epoch when the
claim names none).</p>
<h2>Training loss per epoch</h2>
${loss}
${rates}
${await classifierSection(results)}
${augmentationSection(results)}
${await _ownCharts(options.charts)}
<h2>Runs</h2>
${_runsTable(results.runs, spec)}
<h2>Deviations from the spec</h2>
${
    deviations.length === 0
      ? "<p>none</p>"
      : `<ul>${deviations.map((d) => `<li>${_e(d)}</li>`).join("")}</ul>`
  }
<h2>Provenance</h2>
${_provenance(results)}`;
  return htmlPage(`${title.mark} ${results.title} · claimcheck`, body, 1280);
}

/** Writes `<dir>/index.html` atomically and returns its path. */
export async function writeReplicationReport(
  results: Results,
  spec: ReplicationSpec,
  dir: string,
  options: ReplicationPageOptions = {},
): Promise<string> {
  const path = join(dir, "index.html");
  await writeFileAtomic(path, await renderReplicationPage(results, spec, options));
  return path;
}

async function _ownCharts(charts: ReplicationPageOptions["charts"]): Promise<string> {
  if (charts === undefined) return "";
  let list: ReplicationChart[];
  try {
    list = typeof charts === "function" ? charts() : charts;
  } catch (e) {
    return `<h2>Replication charts</h2>\n<p class="error">the replication's charts failed: ${
      _e((e as Error).message)
    }</p>`;
  }
  if (!list.length) return "";
  const figures: string[] = [];
  for (const c of list) {
    let svg: string;
    try {
      svg = c.html ?? (c.spec ? await renderSvg(c.spec) : "");
    } catch (e) {
      svg = `<p class="error">this chart failed to render: ${_e((e as Error).message)}</p>`;
    }
    figures.push(`<figure class="chart" data-chart="replication">
<h3>${_e(c.title)}</h3>
${svg}
<figcaption>${_e(c.caption)}</figcaption>
</figure>`);
  }
  return `<h2>Replication charts</h2>\n<div class="charts">\n${figures.join("\n")}\n</div>`;
}

/** What makes these results incomplete or not the full protocol, said before the claims. */
function _status(r: Results): string {
  const cells = (list: { protocol: string; seed: number }[]) =>
    list.map((t) => `${_e(t.protocol)} seed ${t.seed}`).join(", ");
  const notes: string[] = [];
  if (r.variant) {
    notes.push(
      `These results are the variant <code>${_e(r.variant)}</code>: a rerun that changes what is ` +
        `trained (see the deviations below). They are kept beside the full protocol's results ` +
        `(<a href="index.html">index.html</a>), never over them.`,
    );
  }
  if (r.interrupted) {
    notes.push(
      `Interrupted by ${_e(r.interrupted.signal)}: ${
        plural(r.interrupted.unfinished.length, "run")
      } of the grid not finished (${cells(r.interrupted.unfinished)}); claims are scored on ` +
        `the finished runs. Rerun the same command with <code>--resume</code> to train the rest.`,
    );
  }
  if (r.failures?.length) {
    notes.push(
      `${plural(r.failures.length, "run")} failed: ` +
        r.failures.map((f) => `${_e(f.protocol)} seed ${f.seed} (${_e(f.error)})`).join("; ") +
        ". Claims are scored without them.",
    );
  }
  return notes.map((n) => `<p class="warning" data-status>${n}</p>`).join("\n");
}

function _intro(results: Results, spec: ReplicationSpec): string {
  const sources = spec.sources.map((s) =>
    `${s.file ? `<code>${_e(s.file)}</code>` : `<code>${_e(s.url)}</code>`} (source ${_e(s.id)}, “${
      _e(s.title)
    }”)`
  ).join("; ");
  const protocols = new Set(results.runs.map((r) => r.protocol)).size;
  const seeds = [...new Set(results.runs.map((r) => r.seed))].join(", ");
  const counts = new Map<Verdict, number>();
  for (const c of results.claims) counts.set(c.verdict, (counts.get(c.verdict) ?? 0) + 1);
  const tally = [...counts].map(([v, n]) => `${n} × ${verdictBadge(v)}`).join(", ");
  return `<p>${_e(spec.title)}: this page reruns ${plural(results.claims.length, "claim")} from ${
    plural(spec.sources.length, "source")
  } (${sources}) with TensorFlow.js on the <code>${_e(results.backend.name)}</code> backend, in ${
    plural(results.runs.length, "run")
  } over ${plural(protocols, "protocol")} and seeds ${_e(seeds || "none")}, and sets each claimed
number beside the reproduced one. Verdicts: ${tally || "none"}.</p>`;
}

function _titleNote(t: ReScienceTitle): string {
  const why = t.reproduced
    ? `every claim on a stated protocol holds (${_e(t.stated.join(", "))})`
    : _e(t.reasons.join("; "));
  return `<p class="rule"><strong>${_e(t.mark)}</strong>: ${why}.<span class="sub">Title rule: ${
    _e(RESCIENCE_RULE)
  }</span></p>`;
}

function _claimsTable(
  claims: ClaimResult[],
  spec: ReplicationSpec,
  notes: Map<string, string>,
): string {
  const rows = claims.map((c) => {
    const source = spec.sources.find((s) => s.id === c.source);
    const specClaim = spec.claims.find((s) => s.id === c.id);
    const exploratory = spec.protocols.find((p) => p.id === c.protocol)?.exploratory;
    const s = c.stats;
    const fmt = (x: number) => _e(formatValue(c.metric, x));
    const perSeed = c.seeds.map((seed, i) =>
      `seed ${_e(seed)}: ${c.values[i] === null ? "not finite" : fmt(c.values[i]!)}`
    ).join("<br>");
    const half = s?.ci95 ? (s.ci95[1] - s.ci95[0]) / 2 : null;
    const mean = s === null
      ? "—"
      : half === null
      ? `${fmt(s.mean)}<span class="sub">no interval (n=1)</span>`
      : `${fmt(s.mean)} ± ${fmt(half)}<span class="sub">[${fmt(s.ci95![0])}, ${
        fmt(s.ci95![1])
      }]</span>`;
    return `<tr data-claim="${_e(c.id)}">
<td class="claim"><code class="id">${_e(c.id)}</code><span class="sub">${_e(c.metric)}, ${
      c.epoch === null ? "last epoch" : `epoch ${_e(c.epoch)}`
    }</span><span class="sub">${_e(c.protocol)}${
      exploratory ? '<span class="sub">(exploratory)</span>' : ""
    }</span></td>
<td class="statement">${_e(c.statement)}<span class="sub">${
      source
        ? `<code class="file" title="${_e(source.title)}">${_e(source.file)}</code>`
        : `${_e(c.source)} (not in spec.sources)`
    }</span>${specClaim ? `<span class="sub">${_e(specClaim.where)}</span>` : ""}</td>
<td class="num">${_e(formatClaimed(c))}<span class="sub">${_e(formatCompare(c))}</span>${
      specClaim?.twoSided ? '<span class="sub">two-sided</span>' : ""
    }</td>
<td class="num">${_e(s?.n ?? c.values.length)}</td>
<td class="num">${mean}<span class="sub">${perSeed}</span></td>
<td class="num">${s === null ? "—" : fmt(s.sd)}</td>
<td class="num">${s === null ? "—" : `${fmt(s.min)}–${fmt(s.max)}`}</td>
<td class="num">${s === null ? "—" : fmt(s.olympicMean)}</td>
<td class="verdict">${verdictBadge(c.verdict)}${
      c.note ? `<span class="sub degenerate" data-note>${_e(c.note)}</span>` : ""
    }<span class="sub">${_e(c.evidence)}</span>${
      notes.has(c.id) ? `<span class="sub explain" data-explain>${_e(notes.get(c.id))}</span>` : ""
    }</td>
<td class="num tta">${_tta(c)}</td>
</tr>`;
  });
  // The wrapper scrolls sideways on narrow windows instead of squeezing the statements.
  return `<div class="scroll"><table class="claims">
<thead><tr><th>Claim</th><th>Statement</th><th class="num">Claimed</th><th class="num">n</th><th class="num">Mean ± 95 % CI</th><th class="num">sd</th><th class="num">min–max</th><th class="num">Olympic</th><th>Verdict and evidence</th><th class="num">Time to accuracy</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table></div>`;
}

/** The time-to-accuracy cell: olympic seconds, target, then seconds and epochs per seed. */
function _tta(c: ClaimResult): string {
  const t = formatTimeToTarget(c.timeToTarget);
  if (t === null || c.timeToTarget === null) return "—";
  return `${_e(t.olympic)}<span class="sub">olympic mean</span><span class="sub">to ≥ ${
    _e(formatNumber(c.timeToTarget.target))
  }</span><span class="sub">${t.perSeed.map(_e).join("<br>")}</span>`;
}

function _runsTable(runs: Run[], spec: ReplicationSpec): string {
  const rows = runs.map((r) => {
    const final = r.epochs.find((e) => e.epoch === (r.diverged?.epoch ?? r.finalEpoch));
    const metric = _headline(spec, r.protocol, final);
    const value = (m: string) => {
      const v = final && epochValue(final, m);
      return v === undefined ? "—" : Number.isFinite(v) ? v.toFixed(4) : String(v);
    };
    const stop = r.diverged
      ? ` ${verdictBadge("diverged")}<span class="sub">at epoch ${r.diverged.epoch}: ${
        _e(r.diverged.metric)
      } not finite</span>`
      : r.earlyStop
      ? `<span class="sub">early stop at ${r.earlyStop.epoch} (best ${r.earlyStop.bestEpoch}${
        r.earlyStop.restored ? ", restored" : ""
      })</span>`
      : "";
    return `<tr><td>${_e(r.protocol)}</td><td class="num">${_e(r.seed)}</td><td class="num">${
      _e(`${r.epochs.length} / ${r.epochsPlanned}`)
    }${stop}</td><td class="num">${_e(value(metric))}<span class="sub">${
      _e(metric)
    }</span></td><td class="num">${_e(value("train_loss"))}</td><td class="num">${
      _e(r.trainSeconds.toFixed(1))
    }</td><td class="num">${
      _e(Math.round(r.samplesPerSecond).toLocaleString("en-US"))
    }</td><td class="num">${_e(r.warmupSeconds.toFixed(2))}</td></tr>`;
  });
  return `<div class="scroll"><table class="runs">
<thead><tr><th>Protocol</th><th class="num">Seed</th><th class="num">Epochs</th><th class="num">Final headline metric</th><th class="num">Final train loss</th><th class="num">Train s</th><th class="num">Samples/s</th><th class="num">Warm-up s</th></tr></thead>
<tbody>
${rows.length ? rows.join("\n") : '<tr><td colspan="8">no runs</td></tr>'}
</tbody>
</table></div>`;
}

function _provenance(r: Results): string {
  const b = r.backend;
  const resultsName = variantFileName("results", "json", r.variant);
  const eventsName = variantFileName("events", "jsonl", r.variant);
  const backend = [
    `<code>${_e(b.name)}</code>`,
    b.adapter === null
      ? "no GPU adapter"
      : `adapter ${_e(b.adapter)}${b.fallbackAdapter ? " (software fallback)" : ""}`,
    b.note === null ? null : _e(b.note),
  ].filter((s) => s !== null).join(" · ");
  const files = r.datasets.flatMap((d) =>
    d.files.map((f) =>
      `<li><code>${_e(d.name)}/${_e(f.file)}</code><span class="sub">SHA-256 <code>${
        _e(f.sha256)
      }</code></span></li>`
    )
  ).join("");
  const warmup = [...new Set(r.runs.map((run) => run.protocol))].map((p) => {
    const runs = r.runs.filter((run) => run.protocol === p);
    return `<li><code class="id">${_e(p)}</code>: ${
      runs.map((run) => `seed ${_e(run.seed)} ${_e(run.warmupSeconds.toFixed(2))} s`).join(
        ", ",
      )
    }</li>`;
  }).join("");
  const items: [string, string][] = [
    ["Created", _e(r.createdAt)],
    ["Command", `<code>${_e(r.command)}</code>`],
    [
      "Git commit",
      (r.gitCommit === null ? "unknown" : `<code>${_e(r.gitCommit)}</code>`) +
      (r.gitError ? ` (git: ${_e(r.gitError)})` : ""),
    ],
    [
      "Versions",
      `Deno ${_e(r.versions.deno)} · V8 ${_e(r.versions.v8)} · TensorFlow.js ${
        _e(r.versions.tfjs)
      }`,
    ],
    ["Backend", backend],
    ["Datasets", files ? `<ul class="files">${files}</ul>` : "none"],
    ["Spec", `format ${_e(r.spec.version)} · SHA-256 <code>${_e(r.spec.sha256)}</code>`],
    ["Setup", `${_e(r.setupSeconds.toFixed(2))} s (backend start-up and data loading, once)`],
    [
      "Warm-up per run",
      warmup
        ? `<ul class="plain">${warmup}</ul><span class="sub">Kernel compilation and first steps on a throwaway model, logged apart from the training time and the time to accuracy.</span>`
        : "no runs",
    ],
    [
      "Files",
      `<a href="${_e(relativeHref(resultsName))}">${
        _e(resultsName)
      }</a> (everything on this page) · <a href="${_e(relativeHref(eventsName))}">${
        _e(eventsName)
      }</a> (MLPerf-style event log, one JSON object per line)`,
    ],
  ];
  return `<dl class="provenance">${
    items.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("\n")
  }</dl>`;
}

/** The metrics of protocol `p` on one side (higher or lower is better) that its runs recorded. */
function _curveMetrics(
  results: Results,
  spec: ReplicationSpec,
  protocol: string,
  side: "higher" | "lower",
): string[] {
  const p = spec.protocols.find((q) => q.id === protocol);
  if (!p) return [];
  const declared = protocolMetrics(p, spec.metrics);
  const recorded = new Set(
    results.runs.filter((r) => r.protocol === protocol).flatMap((r) =>
      r.epochs.flatMap((e) => Object.keys(e.metrics))
    ),
  );
  return [...declared].filter(([m, b]) => b === side && recorded.has(m)).map(([m]) => m);
}

/** The metric a run's row shows: test_acc, else the first test metric where higher is better, else test_loss. */
function _headline(spec: ReplicationSpec, protocol: string, e: Epoch | undefined): string {
  const p = spec.protocols.find((q) => q.id === protocol);
  const keys = Object.keys(e?.metrics ?? {});
  if (keys.includes("test_acc")) return "test_acc";
  const declared = p ? protocolMetrics(p, spec.metrics) : new Map();
  return keys.find((k) => k.startsWith("test_") && declared.get(k) === "higher") ??
    (keys.includes("test_loss") ? "test_loss" : keys[0] ?? "test_loss");
}
