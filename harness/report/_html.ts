/**
 * HTML helpers for report pages: the shared style sheet, the page shell, verdict badges and
 * number formats (escaping is util/escape_html.ts, which the contract re-exports).
 * @module
 */
import type { ClaimResult, Verdict } from "../results/result.ts";
import { escapeHtml } from "../util/escape_html.ts";

/**
 * A relative link target for a path of local file names: each segment percent-encoded, so a
 * name can neither leave the folder nor become a scheme such as `javascript:`. The result still
 * needs escapeHtml inside an attribute (it is already safe, but the rule stays simple).
 */
export function relativeHref(...segments: string[]): string {
  return segments.map((s) => encodeURIComponent(s)).join("/");
}

/** Badge colour per verdict: a claim that "fails as claimed" is a successful replication. */
const _BADGE: Record<Verdict, "ok" | "bad" | "warn" | "muted"> = {
  "inconclusive": "warn",
  "reproduced": "ok",
  "reproduced (better)": "ok",
  "fails as claimed": "ok",
  "not reproduced": "bad",
  "diverged": "muted",
};

/** A coloured verdict label. */
export function verdictBadge(verdict: Verdict): string {
  return `<span class="badge ${_BADGE[verdict]}">${escapeHtml(verdict)}</span>`;
}

/** The style sheet every page shares; `main` is as wide as `width` pixels at most. */
function _pageCss(width: number): string {
  return `
body{margin:0;background:#fafafa;color:#1f2328;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif}
main{max-width:${width}px;margin:0 auto;padding:24px 28px 48px;background:#fff}
h1{font-size:26px;margin:4px 0 12px}
h2{font-size:19px;margin:32px 0 10px;padding-bottom:4px;border-bottom:1px solid #e5e7eb}
h3{font-size:15px;margin:0 0 4px}
a{color:#0969da}
.kicker{margin:0;color:#57606a;font-size:13px;text-transform:uppercase;letter-spacing:.06em}
.kicker a{text-transform:none;letter-spacing:0}
code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
code.id,code.file{white-space:nowrap;overflow-wrap:normal}
code.file{font-size:12px}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{border-bottom:1px solid #e5e7eb;padding:7px 5px;text-align:left;vertical-align:top}
th{background:#f3f4f6;font-weight:600;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.scroll{overflow-x:auto}
td.claim{min-width:8.5em;max-width:13em}
td.claim code.id{white-space:normal}
td.statement{min-width:12em}
td.statement .sub{overflow-wrap:anywhere}
td.verdict{min-width:9em}
td.verdict .sub{margin-top:4px;overflow-wrap:anywhere;white-space:normal}
td.verdict .degenerate{color:#9a6700;font-weight:600}
td.rep{min-width:11em;width:16em;background:#fcfcfd;border-right:1px solid #e5e7eb}
td.rep .sub{overflow-wrap:anywhere}
tbody.rep{border-top:2px solid #d0d7de}
details.more{margin-top:14px}details.more>summary{cursor:pointer;font-weight:600;margin-bottom:8px}
td.tta .sub{white-space:normal;max-width:11em;margin-left:auto}
.sub{display:block;font-size:12px;color:#57606a;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 9px;border-radius:11px;font-size:12.5px;font-weight:600;color:#fff;white-space:nowrap}
.badge.ok{background:#1a7f37}.badge.bad{background:#cf222e}.badge.muted{background:#6e7781}.badge.warn{background:#9a6700}
.re{display:inline-block;padding:0 7px;margin-right:6px;border-radius:5px;font-weight:700;font-size:.85em;color:#fff;vertical-align:2px;white-space:nowrap}
.re.yes{background:#1a7f37}.re.no{background:#cf222e}
figure{margin:0}
figure svg{max-width:100%;height:auto}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:24px 28px}
.charts h3 code{font-size:14px}
figcaption,.note{font-size:13px;color:#57606a;margin-top:6px}
.rule{font-size:14px;background:#f6f8fa;border-left:3px solid #d0d7de;padding:8px 12px;margin:12px 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:6px 18px;margin:0;font-size:14px}
dt{font-weight:600}dd{margin:0}
ul.files,ul.plain{margin:0;padding-left:18px}
.error{color:#cf222e;font-size:13px;overflow-wrap:anywhere}
.warning{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px 12px}
.digits{display:flex;flex-wrap:wrap;gap:10px 12px;margin:8px 0 18px}.digits p{flex-basis:100%;margin:0;font-size:13px;color:#57606a}
figure.digit{text-align:center;font-size:13px}figure.digit img{display:block;image-rendering:pixelated;border:1px solid #d0d7de}figure.aug{width:112px}figure.aug img{margin:0 auto}figure.aug img+img{margin-top:4px}
figure.pair{display:flex;flex-wrap:wrap;gap:2px;width:120px;justify-content:center}figure.pair figcaption{flex-basis:100%;font-size:12px}.wrong{color:#cf222e;font-weight:600}
`;
}

/**
 * A whole standalone page: no script, nothing loaded but inline data: images (the
 * Content-Security-Policy forbids the rest),
 * so it works from file://. `title` is escaped here; `body` must already be safe HTML.
 */
export function htmlPage(title: string, body: string, width = 1080): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${_pageCss(width)}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

/** Accuracies and losses to 4 decimals; parameter counts as grouped integers. */
export function formatValue(metric: ClaimResult["metric"], value: number): string {
  return metric === "params" ? Math.round(value).toLocaleString("en-US") : value.toFixed(4);
}

/** A number without float noise such as 0.30000000000000004. */
export function formatNumber(x: number): string {
  return String(Number(x.toPrecision(6)));
}

/** The claimed number as the source states it. */
export function formatClaimed(c: Pick<ClaimResult, "metric" | "claimed">): string {
  return c.metric === "params" ? formatValue(c.metric, c.claimed) : formatNumber(c.claimed);
}

/** The comparison rule in short; verdict.ts has the rules in full. */
export function formatCompare(c: Pick<ClaimResult, "compare" | "epsilon">): string {
  const eps = formatNumber(c.epsilon);
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

/** Half the width of the 95 % interval, or null without one (one seed, or diverged). */
export function ciHalfWidth(c: Pick<ClaimResult, "stats">): number | null {
  const ci = c.stats?.ci95;
  return ci ? (ci[1] - ci[0]) / 2 : null;
}

/** "0.9721 ± 0.0012 (n=3)"; "0.9721 (n=1, no interval)"; "— (n=0)" when diverged. */
export function formatReproduced(c: ClaimResult): string {
  const n = c.stats?.n ?? c.values.length;
  if (c.stats === null) return `— (n=${n})`;
  const half = ciHalfWidth(c);
  const mean = formatValue(c.metric, c.stats.mean);
  return half === null
    ? `${mean} (n=${n}, no interval)`
    : `${mean} ± ${formatValue(c.metric, half)} (n=${n})`;
}

/** Seconds with one decimal: "12.3 s". */
function _formatSeconds(s: number): string {
  return `${s.toFixed(1)} s`;
}

/**
 * Time-to-accuracy in words (null for a claim without a target, shown as "—"): the olympic
 * mean's seconds or "not reached" where it is null; the epochs per seed ("not reached" for a
 * seed that never got there, "no seed reached it" when none did); seconds and epochs per seed.
 */
export function formatTimeToTarget(
  t: ClaimResult["timeToTarget"],
): { olympic: string; epochs: string; perSeed: string[] } | null {
  if (t === null) return null;
  return {
    olympic: t.olympicSeconds === null ? "not reached" : _formatSeconds(t.olympicSeconds),
    epochs: t.perSeed.every((p) => p.epochs === null)
      ? "no seed reached it"
      : `epochs ${
        t.perSeed.map((p) => p.epochs === null ? "not reached" : String(p.epochs)).join(" · ")
      }`,
    perSeed: t.perSeed.map((p) =>
      `seed ${p.seed}: ${
        p.seconds === null
          ? "not reached"
          : `${_formatSeconds(p.seconds)}, ${p.epochs === null ? "?" : `${p.epochs} ep`}`
      }`
    ),
  };
}

/** "3 claims", "1 claim". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
