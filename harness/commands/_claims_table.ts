/**
 * The table replicate and merge print when done: one line per claim.
 * @module
 */
import type { Results } from "../results/result.ts";
import { textTable } from "./_text_table.ts";

/** The final table: one line per claim. */
export function claimsTable(results: Results[]): string {
  const rows = [["replication", "claim", "claimed", "reproduced", "n", "verdict"]];
  for (const r of results) {
    for (const c of r.claims) {
      rows.push([
        r.replication,
        c.id,
        _fmt(c.claimed),
        _fmt(c.mean),
        String(c.values.length),
        c.note ? `${c.verdict} (${c.note})` : c.verdict,
      ]);
    }
  }
  return textTable(rows);
}

function _fmt(x: number | null): string {
  if (x === null) return "n/a";
  return Number.isInteger(x) ? String(x) : x.toFixed(4);
}
