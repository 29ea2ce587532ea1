/**
 * HTML escaping: every string from results.json or spec.json goes through here before it is
 * written into a page, since statements quote source documents and may contain markup.
 * @module
 */

const _ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escapes `&`, `<`, `>`, `"` and `'`, so the result is safe both as element text and inside a
 * quoted attribute value.
 */
export function escapeHtml(text: string | number | boolean | null | undefined): string {
  return String(text ?? "").replace(/[&<>"']/g, (ch) => _ENTITIES[ch]);
}
