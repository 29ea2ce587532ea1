/**
 * Markdown helpers shared by the site's summary.md and the README tables made from records.
 * @module
 */

/** Escapes text for one markdown table cell: no line breaks, pipes or inline markup. */
export function markdownCell(text: string | number): string {
  return String(text).replace(/\r?\n|\r/g, " ").replace(/[\\`*_[\]|#&]/g, "\\$&").replace(
    /</g,
    "&lt;",
  ).replace(/>/g, "&gt;");
}

/**
 * A markdown table laid out as `deno fmt` lays it out (cells padded to their column's width,
 * the rule as wide as the column), so a generated table in a formatted file stays formatted.
 * Cells are written as given: escape text with {@link markdownCell} first.
 */
export function markdownTable(header: string[], rows: string[][]): string {
  const width = (s: string) => [...s].length;
  const widths = header.map((h, i) => Math.max(3, width(h), ...rows.map((r) => width(r[i]))));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c + " ".repeat(widths[i] - width(c))).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/**
 * A paragraph filled to `width` columns as `deno fmt` fills prose: words (an inline code span is
 * one word, spaces and all) added to a line while it stays within the width.
 */
export function markdownParagraph(text: string, width = 100): string {
  const words = text.match(/(?:`[^`]*`|[^\s`])+/g) ?? [];
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    if (line && [...line].length + 1 + [...word].length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join("\n");
}
