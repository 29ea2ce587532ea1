/**
 * The children of a syntax node, for the readers of Python snippets.
 * @module
 */
import type { SyntaxNode } from "@lezer/common";

/** The children of a node, in order, without the parser's error nodes (reported apart). */
export function children(n: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = n.firstChild; c; c = c.nextSibling) if (!c.type.isError) out.push(c);
  return out;
}
