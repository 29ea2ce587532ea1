/**
 * Does a claim transfer? Each claim beside its rerun on the source's dataset and on another
 * dataset (`replicate --dataset`), and whether the claim's rule still holds there.
 * @module
 */
import type { ClaimResult, Results, Verdict } from "../results/result.ts";
import { variantSettings } from "../results/run_store.ts";
import { ciHalfWidth, formatClaimed, formatCompare, formatValue, verdictBadge } from "./_html.ts";
import { escapeHtml as _e } from "../util/escape_html.ts";

/** What a claim's verdict on another dataset says about the claim there. */
export type TransferVerdict = "holds" | "does not transfer" | "inconclusive" | "not run";

const _TRANSFER: Record<Verdict, TransferVerdict> = {
  "reproduced": "holds",
  "reproduced (better)": "holds",
  "fails as claimed": "holds",
  "not reproduced": "does not transfer",
  "diverged": "does not transfer",
  "inconclusive": "inconclusive",
};

/** The transfer verdict of a claim's result on another dataset (undefined: not run there). */
export function transferVerdict(onOther: ClaimResult | undefined): TransferVerdict {
  return onOther ? _TRANSFER[onOther.verdict] : "not run";
}

/**
 * The dataset a results file was transferred to (`--dataset`), or null for the source's own
 * data or a run that also changed epochs or the training set (not comparable to the claims).
 */
export function transferDataset(results: Results): string | null {
  const v = variantSettings(results.variant ?? "");
  return v && v.dataset !== null && v.epochs === null && v.trainLimit === null ? v.dataset : null;
}

/** One claim on the source's dataset and on each other dataset. */
export interface TransferRow {
  claim: ClaimResult;
  others: { dataset: string; result: ClaimResult | undefined; verdict: TransferVerdict }[];
}

/** The rows of the transfer table: `main`'s claims, each with its result in `transfers`. */
export function transferRows(main: Results, transfers: Results[]): TransferRow[] {
  const others = transfers.flatMap((t) => {
    const dataset = transferDataset(t);
    return dataset ? [{ dataset, results: t }] : [];
  });
  return main.claims.map((claim) => ({
    claim,
    others: others.map(({ dataset, results }) => {
      const result = results.claims.find((c) => c.id === claim.id);
      return { dataset, result, verdict: transferVerdict(result) };
    }),
  }));
}

/** The source's dataset(s) of a results file, by manifest name. */
function _datasets(results: Results): string {
  return results.datasets.map((d) => d.name).join(", ") || "its dataset";
}

/** "mean ± half-width (n = k)" of a claim's result, or why there is none. */
function _transferCell(c: ClaimResult | undefined): string {
  if (!c) return "not run";
  if (!c.stats) return `${c.verdict} (n = ${c.values.length})`;
  const half = ciHalfWidth(c);
  const mean = formatValue(c.metric, c.stats.mean);
  return `${mean}${half === null ? "" : ` ± ${formatValue(c.metric, half)}`} (n = ${c.stats.n})`;
}

const _CLASS: Record<TransferVerdict, string> = {
  "holds": "ok",
  "does not transfer": "bad",
  "inconclusive": "warn",
  "not run": "muted",
};

/** The transfer table as an HTML section, or "" when no transfer has been run. */
export function renderTransferSection(main: Results, transfers: Results[]): string {
  const rows = transferRows(main, transfers);
  const datasets = rows[0]?.others.map((o) => o.dataset) ?? [];
  if (!datasets.length) return "";
  const head = datasets.map((d) => `<th class="num">On ${_e(d)}</th><th>Transfer</th>`).join("");
  const body = rows.map(({ claim, others }) =>
    `<tr data-claim="${_e(claim.id)}"><td><code class="id">${
      _e(claim.id)
    }</code><span class="sub">${_e(claim.protocol)}</span></td><td class="num">${
      _e(formatClaimed(claim))
    }<span class="sub">${_e(formatCompare(claim))}</span></td><td class="num">${
      _e(_transferCell(claim))
    }<span class="sub">${verdictBadge(claim.verdict)}</span></td>${
      others.map((o) =>
        `<td class="num">${_e(_transferCell(o.result))}</td><td data-transfer="${_e(o.verdict)}">` +
        `<span class="badge ${_CLASS[o.verdict]}">${_e(o.verdict)}</span></td>`
      ).join("")
    }</tr>`
  ).join("\n");
  return `<h2>Does the claim transfer?</h2>
<div class="scroll"><table class="claims transfer">
<thead><tr><th>Claim</th><th class="num">Claimed</th><th class="num">On ${
    _e(_datasets(main))
  } (source)</th>${head}</tr></thead>
<tbody>
${body}
</tbody></table></div>
<p class="note">The same protocols and seeds rerun on another dataset (<code>deno task replicate
&lt;name&gt; --dataset &lt;dataset&gt;</code>), scored by the claim's own rule: "holds" when the claim
would be reproduced there, "does not transfer" when it would not, "inconclusive" when the interval
straddles the claim's ε. Values: mean ± half-width of the 95 % interval over seeds (none for one
seed).</p>`;
}

/** The transfer table in Markdown, for a replication's README. */
export function transferMarkdown(main: Results, transfers: Results[]): string {
  const rows = transferRows(main, transfers);
  const datasets = rows[0]?.others.map((o) => o.dataset) ?? [];
  const cells = (xs: string[]) => `| ${xs.join(" | ")} |`;
  const header = [
    "claim",
    "claimed",
    `on ${_datasets(main)} (source)`,
    ...datasets.flatMap((d) => [`on ${d}`, "transfer"]),
  ];
  return [
    cells(header),
    cells(header.map(() => "---")),
    ...rows.map(({ claim, others }) =>
      cells([
        `\`${claim.id}\``,
        `${formatClaimed(claim)} (${formatCompare(claim)})`,
        `${_transferCell(claim)}: ${claim.verdict}`,
        ...others.flatMap((o) => [_transferCell(o.result), o.verdict]),
      ])
    ),
  ].join("\n") + "\n";
}
