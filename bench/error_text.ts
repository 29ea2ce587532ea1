/**
 * Errors as the bench records them: one line, short enough for a table cell.
 * @module
 */

/** An error as one readable line, short enough for a table cell. */
export function errorText(e: unknown): string {
  const text = e instanceof Error ? `${e.message}` : String(e);
  const line = text.split("\n").find((l) => l.trim()) ?? "unknown error";
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}
