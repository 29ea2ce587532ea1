/**
 * Plain-text tables, as the commands print them.
 * @module
 */

/** Rows as columns padded to their widest cell, two spaces apart. */
export function textTable(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd())
    .join("\n");
}
