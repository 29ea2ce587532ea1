/**
 * Status badges for a README: a replication's outcome (or the suite's) as a flat two-part SVG
 * in shields.io's style, and as shields.io endpoint JSON for
 * `https://img.shields.io/endpoint?url=…/badge.json`. Both say the same words as the site's
 * [Re] / [¬Re] rule.
 * @module
 */
import { escapeHtml } from "../util/escape_html.ts";
import type { ReScienceTitle } from "./report.ts";

/** A badge's colour, by shields.io's name for it. */
export type BadgeColor = "brightgreen" | "yellow" | "red" | "lightgrey";

/** The two parts of a badge and its colour. */
export interface Badge {
  /** The left, grey part: what the badge is about. */
  label: string;
  /** The right, coloured part: the outcome. */
  message: string;
  /** The right part's colour. */
  color: BadgeColor;
}

/** shields.io endpoint JSON (https://shields.io/badges/endpoint-badge). */
export interface BadgeEndpoint {
  /** Always 1. */
  schemaVersion: 1;
  /** The left part. */
  label: string;
  /** The right part. */
  message: string;
  /** The right part's colour. */
  color: BadgeColor;
}

// shields.io's values for these names, so the self-hosted SVG looks like shields' rendering.
const _HEX: Record<BadgeColor, string> = {
  brightgreen: "#4c1",
  yellow: "#dfb317",
  red: "#e05d44",
  lightgrey: "#9f9f9f",
};

/**
 * A replication's badge: `reproduced` for [Re]; `partly reproduced k/n` when k of the n claims
 * on its stated protocols hold (a claim the rerun left out counts in n); `not reproduced` when
 * none holds; `not checked` when no stated claim was rerun.
 */
export function replicationBadge(label: string, title: ReScienceTitle): Badge {
  if (title.reproduced) return { label, message: "reproduced", color: "brightgreen" };
  if (!title.stated.length) return { label, message: "not checked", color: "lightgrey" };
  if (!title.held.length) return { label, message: "not reproduced", color: "red" };
  const total = title.stated.length + title.unchecked.length;
  return { label, message: `partly reproduced ${title.held.length}/${total}`, color: "yellow" };
}

/** The suite's badge, labelled claimcheck: how many replications are [Re], e.g. `3 of 4 reproduced`. */
export function suiteBadge(titles: ReScienceTitle[]): Badge {
  const label = "claimcheck";
  if (!titles.length) return { label, message: "no results", color: "lightgrey" };
  const re = titles.filter((t) => t.reproduced).length;
  return {
    label,
    message: `${re} of ${titles.length} reproduced`,
    color: re === titles.length ? "brightgreen" : re ? "yellow" : "red",
  };
}

/** The badge as shields.io endpoint JSON (serialise with JSON.stringify). */
export function badgeEndpoint(badge: Badge): BadgeEndpoint {
  return {
    schemaVersion: 1,
    label: _clean(badge.label),
    message: _clean(badge.message),
    color: badge.color,
  };
}

/**
 * The badge as a standalone flat SVG (label | message, 20 px high), text escaped. Each part is
 * as wide as its text measured with approximate Verdana 11 px widths, and `textLength` fits
 * the text to that width in whatever font the viewer has.
 */
export function badgeSvg(badge: Badge): string {
  const label = _clean(badge.label), message = _clean(badge.message);
  const lw = Math.round(_textWidth(label)) + 10, mw = Math.round(_textWidth(message)) + 10;
  const width = lw + mw;
  const text = (s: string, x: number, w: number) => {
    const attrs = `x="${x}" textLength="${w - 10}"`;
    const t = escapeHtml(s);
    // A dark copy 1 px lower is shields' text shadow.
    return `<text ${attrs} y="15" fill="#010101" fill-opacity=".3">${t}</text>` +
      `<text ${attrs} y="14">${t}</text>`;
  };
  const title = escapeHtml(`${label}: ${message}`);
  const color = _HEX[badge.color];
  // No ids (clip paths, gradients): two badges inlined in one page would share them. The grey
  // rounded box, the coloured rounded right part, and a strip squaring that part's left edge.
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="20" role="img" aria-label="${title}">
<title>${title}</title>
<rect width="${width}" height="20" rx="3" fill="#555"/>
<rect x="${lw}" width="${mw}" height="20" rx="3" fill="${color}"/>
<rect x="${lw}" width="4" height="20" fill="${color}"/>
<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">
${text(label, lw / 2, lw)}
${text(message, lw + mw / 2, mw)}
</g>
</svg>
`;
}

/**
 * Badge text on one line: line breaks and tabs become spaces, and the control characters XML
 * 1.0 forbids even when escaped are dropped, so the SVG always parses.
 */
function _clean(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "")
    .replace(/\s+/g, " ").trim();
}

/** Approximate Verdana 11 px advance widths in pixels (enough to size a badge). */
function _textWidth(text: string): number {
  let w = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    w += code >= 0x2e80
      ? 11 // CJK and other wide scripts
      : "il|!'".includes(ch)
      ? 3
      : " fjrt.,:;()[]{}/-".includes(ch)
      ? 4.3
      : "mw".includes(ch)
      ? 9.8
      : "MW%".includes(ch)
      ? 10.5
      : /[A-Z]/.test(ch)
      ? 7.5
      : 6.6;
  }
  return w;
}
