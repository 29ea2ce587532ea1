/**
 * The replication page: one standalone HTML file (inline CSS and SVG, no script, no URL) that
 * puts each claim beside its rerun, so it can be read from file:// or attached anywhere.
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "./_atomic.ts";
import { escapeHtml as _e } from "./_html.ts";
import { accuracyCurveSpec, renderSvg } from "./chart.ts";
import type { ClaimResult, Results, Run, Verdict } from "./result.ts";
import type { ReplicationSpec } from "./spec.ts";

/** Badge colour per verdict: a claim that "fails as claimed" is a successful replication. */
const _BADGE: Record<Verdict, "ok" | "bad" | "warn" | "muted"> = {
  "inconclusive": "warn",
  "reproduced": "ok",
  "reproduced (better)": "ok",
  "fails as claimed": "ok",
  "not reproduced": "bad",
  "diverged": "muted",
};

const _CSS = `
body{margin:0;background:#fafafa;color:#1f2328;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif}
main{max-width:1040px;margin:0 auto;padding:24px 28px 48px;background:#fff}
h1{font-size:26px;margin:4px 0 12px}
h2{font-size:19px;margin:32px 0 10px;padding-bottom:4px;border-bottom:1px solid #e5e7eb}
.kicker{margin:0;color:#57606a;font-size:13px;text-transform:uppercase;letter-spacing:.06em}
code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
code.id,code.file{white-space:nowrap;overflow-wrap:normal}
code.file{font-size:12px}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{border-bottom:1px solid #e5e7eb;padding:7px 6px;text-align:left;vertical-align:top}
th{background:#f3f4f6;font-weight:600;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.scroll{overflow-x:auto}
td.claim .sub{white-space:nowrap}
td.statement{min-width:11em}
td.verdict{min-width:11em}
td.verdict .sub{margin-top:4px;overflow-wrap:anywhere}
.sub{display:block;font-size:12px;color:#57606a;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 9px;border-radius:11px;font-size:12.5px;font-weight:600;color:#fff;white-space:nowrap}
.badge.ok{background:#1a7f37}.badge.bad{background:#cf222e}.badge.muted{background:#6e7781}.badge.warn{background:#9a6700}
figure{margin:0}
figure svg{max-width:100%;height:auto}
figcaption,.note{font-size:13px;color:#57606a;margin-top:6px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:6px 18px;margin:0;font-size:14px}
dt{font-weight:600}dd{margin:0}
ul.files{margin:0;padding-left:18px}
`;

/** Renders the whole replication page for `results` (the rerun) and `spec` (what was claimed). */
export async function renderReplicationPage(
  results: Results,
  spec: ReplicationSpec,
): Promise<string> {
  const svg = await renderSvg(accuracyCurveSpec(results));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${_e(results.title)} · claimcheck</title>
<style>${_CSS}</style>
</head>
<body>
<main>
<p class="kicker">claimcheck replication · ${_e(results.replication)}</p>
<h1>${_e(results.title)}</h1>
${_intro(results, spec)}
<h2>Claims</h2>
${_claimsTable(results.claims, spec)}
<p class="note">Comparison: ≈ ±ε means the reproduced mean is within ε of the claim (beyond ε on
the better side counts as better, unless two-sided); ≥ (−ε) and ≤ (+ε) mean it is at least
claim − ε or at most claim + ε; “fails” claims that the setup fails, confirmed when the mean is
at most claim + ε. Reproduced values are means over seeds, with each seed's value below.</p>
<h2>Test accuracy per epoch</h2>
<figure>
${svg}
<figcaption>Lines: the rerun, one per protocol and seed. Black shapes: claimed test accuracies,
at the claim's epoch (or its protocol's last epoch when the claim names none).</figcaption>
</figure>
<h2>Runs</h2>
${_runsTable(results.runs)}
<h2>Deviations from the spec</h2>
${
    results.deviations.length === 0
      ? "<p>none</p>"
      : `<ul>${results.deviations.map((d) => `<li>${_e(d)}</li>`).join("")}</ul>`
  }
<h2>Provenance</h2>
${_provenance(results)}
</main>
</body>
</html>
`;
}

/** Writes `<dir>/index.html` atomically and returns its path. */
export async function writeReplicationReport(
  results: Results,
  spec: ReplicationSpec,
  dir: string,
): Promise<string> {
  const path = join(dir, "index.html");
  await writeFileAtomic(path, await renderReplicationPage(results, spec));
  return path;
}

function _intro(results: Results, spec: ReplicationSpec): string {
  const sources = spec.sources.map((s) =>
    `<code>${_e(s.file)}</code> (source ${_e(s.id)}, “${_e(s.title)}”)`
  ).join("; ");
  const protocols = new Set(results.runs.map((r) => r.protocol)).size;
  const seeds = [...new Set(results.runs.map((r) => r.seed))].join(", ");
  const counts = new Map<Verdict, number>();
  for (const c of results.claims) counts.set(c.verdict, (counts.get(c.verdict) ?? 0) + 1);
  const tally = [...counts].map(([v, n]) => `${n} × ${_badge(v)}`).join(", ");
  return `<p>${_e(spec.title)}: this page reruns ${_plural(results.claims.length, "claim")} from ${
    _plural(spec.sources.length, "source")
  } (${sources}) with TensorFlow.js on the <code>${_e(results.backend.name)}</code> backend, in ${
    _plural(results.runs.length, "run")
  } over ${_plural(protocols, "protocol")} and seeds ${_e(seeds || "none")}, and sets each claimed
number beside the reproduced one. Verdicts: ${tally || "none"}.</p>`;
}

function _claimsTable(claims: ClaimResult[], spec: ReplicationSpec): string {
  const rows = claims.map((c) => {
    const source = spec.sources.find((s) => s.id === c.source);
    const specClaim = spec.claims.find((s) => s.id === c.id);
    const perSeed = c.seeds.map((seed, i) =>
      `seed ${_e(seed)}: ${c.values[i] === undefined ? "—" : _e(_fmt(c.metric, c.values[i]))}`
    ).join("<br>");
    return `<tr>
<td class="claim"><code class="id">${_e(c.id)}</code><span class="sub">${_e(c.metric)}, ${
      c.epoch === null ? "last epoch" : `epoch ${_e(c.epoch)}`
    }</span><span class="sub">${_e(c.protocol)}</span></td>
<td>${
      source
        ? `<code class="file" title="${_e(source.title)}">${_e(source.file)}</code>`
        : `${_e(c.source)}<span class="sub">not in spec.sources</span>`
    }</td>
<td class="statement">${_e(c.statement)}${
      specClaim ? `<span class="sub">where: ${_e(specClaim.where)}</span>` : ""
    }</td>
<td class="num">${_e(_claimed(c))}</td>
<td class="num">${
      c.mean === null ? "—" : _e(_fmt(c.metric, c.mean))
    }<span class="sub">${perSeed}</span></td>
<td class="num">${_e(_compare(c))}${
      specClaim?.twoSided ? '<span class="sub">two-sided</span>' : ""
    }</td>
<td class="verdict">${_badge(c.verdict)}<span class="sub">${_e(c.evidence)}</span></td>
</tr>`;
  });
  // The wrapper scrolls sideways on narrow windows instead of squeezing the statements.
  return `<div class="scroll"><table class="claims">
<thead><tr><th>Claim</th><th>Source</th><th>Statement</th><th class="num">Claimed</th><th class="num">Reproduced</th><th class="num">Comparison</th><th>Verdict and evidence</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table></div>`;
}

function _runsTable(runs: Run[]): string {
  const rows = runs.map((r) => {
    const last = r.epochs.at(-1);
    return `<tr><td>${_e(r.protocol)}</td><td class="num">${_e(r.seed)}</td><td class="num">${
      _e(`${r.epochs.length} / ${r.epochsPlanned}`)
    }</td><td class="num">${last ? _e(last.testAcc.toFixed(4)) : "—"}${
      r.diverged ? ` ${_badge("diverged")}` : ""
    }</td><td class="num">${_e(r.trainSeconds.toFixed(1))}</td><td class="num">${
      _e(Math.round(r.samplesPerSecond).toLocaleString("en-US"))
    }</td><td class="num">${_e(r.warmupSeconds.toFixed(2))}</td></tr>`;
  });
  return `<table class="runs">
<thead><tr><th>Protocol</th><th class="num">Seed</th><th class="num">Epochs</th><th class="num">Final test acc</th><th class="num">Train s</th><th class="num">Samples/s</th><th class="num">Warm-up s</th></tr></thead>
<tbody>
${rows.length ? rows.join("\n") : '<tr><td colspan="7">no runs</td></tr>'}
</tbody>
</table>`;
}

function _provenance(r: Results): string {
  const b = r.backend;
  const backend = [
    `<code>${_e(b.name)}</code>`,
    b.adapter === null
      ? null
      : `adapter ${_e(b.adapter)}${b.fallbackAdapter ? " (software fallback)" : ""}`,
    b.note === null ? null : _e(b.note),
  ].filter((s) => s !== null).join(" · ");
  const files = r.dataset.files.map((f) =>
    `<li><code>${_e(f.file)}</code><span class="sub">SHA-256 <code>${
      _e(f.sha256)
    }</code></span></li>`
  ).join("");
  const items: [string, string][] = [
    ["Created", _e(r.createdAt)],
    ["Command", `<code>${_e(r.command)}</code>`],
    ["Git commit", r.gitCommit === null ? "not recorded" : `<code>${_e(r.gitCommit)}</code>`],
    [
      "Versions",
      `Deno ${_e(r.versions.deno)} · V8 ${_e(r.versions.v8)} · TensorFlow.js ${
        _e(r.versions.tfjs)
      }`,
    ],
    ["Backend", backend],
    ["Dataset", `${_e(r.dataset.name)}${files ? `<ul class="files">${files}</ul>` : ""}`],
    ["Setup", `${_e(r.setupSeconds.toFixed(2))} s (backend start-up and data loading)`],
  ];
  return `<dl>${items.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("\n")}</dl>`;
}

function _badge(verdict: Verdict): string {
  return `<span class="badge ${_BADGE[verdict]}">${_e(verdict)}</span>`;
}

/** Accuracies and losses to 4 decimals; parameter counts as grouped integers. */
function _fmt(metric: ClaimResult["metric"], value: number): string {
  return metric === "params" ? Math.round(value).toLocaleString("en-US") : value.toFixed(4);
}

/** The claimed number as the source states it, without float noise such as 0.30000000000000004. */
function _claimed(c: ClaimResult): string {
  return c.metric === "params" ? _fmt(c.metric, c.claimed) : _num(c.claimed);
}

/** The comparison rule in short; verdict.ts has the rules in full. */
function _compare(c: ClaimResult): string {
  const eps = _num(c.epsilon);
  switch (c.compare) {
    case "approx":
      return `≈ ±${eps}`;
    case "atLeast":
      return `≥ (−${eps})`;
    case "atMost":
      return `≤ (+${eps})`;
    case "fails":
      return `fails: ≤ (+${eps})`;
  }
}

function _num(x: number): string {
  return String(Number(x.toPrecision(6)));
}

function _plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
