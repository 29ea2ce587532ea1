/**
 * Claim drafts from what a snippet says about its result ("Gets to 98.40% test accuracy after
 * 20 epochs"), with ε from the README's wording rule (section "Importing a snippet"): a figure
 * is read as rounded to the digits it states, ε = half a unit of its last digit but at least
 * 0.005; "over", "above", "more than", "at least" make it a floor (`atLeast`), "under",
 * "below", "less than", "at most" a ceiling (`atMost`), anything else `approx`.
 * @module
 */
import type { SnippetText } from "./plan.ts";

/** An accuracy a snippet states, as a claim draft for spec.json. */
export interface ClaimDraft {
  /** Which metric: test_acc, train_acc or val_acc. */
  metric: string;
  /** The stated value as a fraction (98.40 % → 0.984). */
  claimed: number;
  /** How the reproduced value is compared. */
  compare: "approx" | "atLeast" | "atMost";
  /** ε by the wording rule. */
  epsilon: number;
  /** The epoch it is stated at, if the text names one ("after 20 epochs"). */
  epoch?: number;
  /** The sentence it comes from. */
  sentence: string;
  /** The figure as written, e.g. "98.40%". */
  figure: string;
  /** Where it is, e.g. "docstring, line 3". */
  where: string;
}

/** ε's floor: half a percentage point, the seed-to-seed spread of one run's final accuracy. */
export const EPSILON_FLOOR = 0.005;

/**
 * ε for a figure stated with `decimals` digits after the point, as a fraction of 1 (98.40 %
 * is 0.9840: 4 digits): half a unit of its last digit, at least {@link EPSILON_FLOOR}.
 */
export function wordingEpsilon(decimals: number): number {
  return Math.max(Number((0.5 * 10 ** -decimals).toPrecision(3)), EPSILON_FLOOR);
}

const _FLOOR =
  /\b(over|above|more than|at least|exceeds?|exceeding|better than)\s*~?\s*$|[>≥]\s*$/i;
const _CEILING = /\b(under|below|less than|at most)\s*~?\s*$|[<≤]\s*$/i;

/**
 * The accuracies stated in `texts` (comments, docstrings, printed strings, a notebook's
 * output): a percentage or a fraction in a sentence that mentions accuracy. Keras' progress
 * lines (`Epoch 3/5`, `[====…]`) are skipped: they are logs, not statements.
 */
export function claimDrafts(texts: SnippetText[]): ClaimDraft[] {
  const out: ClaimDraft[] = [];
  for (const t of texts) {
    for (const sentence of _sentences(t.text)) {
      if (!/\bacc(uracy)?\b|_acc\b/i.test(sentence)) continue;
      if (/\[=+|Epoch \d+\/\d+|\d+\/\d+ \[/.test(sentence)) continue;
      const figure = _figure(sentence);
      if (!figure) continue;
      const before = sentence.slice(0, figure.index);
      const epoch = /\bafter (\d+) epochs?\b/i.exec(sentence);
      out.push({
        metric: /\bval(idation)?[_ ]/i.test(sentence)
          ? "val_acc"
          : /\btrain(ing)?\b/i.test(sentence) && !/\btest\b/i.test(sentence)
          ? "train_acc"
          : "test_acc",
        claimed: figure.value,
        compare: _FLOOR.test(before) ? "atLeast" : _CEILING.test(before) ? "atMost" : "approx",
        epsilon: wordingEpsilon(figure.decimals),
        ...(epoch ? { epoch: Number(epoch[1]) } : {}),
        sentence: _shortened(sentence),
        figure: figure.text,
        where: `${t.kind}, ${t.where}`,
      });
    }
  }
  return out;
}

/**
 * The test accuracy a notebook printed from `model.evaluate()`: `figure` as printed (`0.9951`),
 * in the line `text`, as a claim draft with ε by the wording rule.
 */
export function printedDraft(figure: string, text: string, where: string): ClaimDraft {
  const [mantissa, exponent] = figure.toLowerCase().split("e");
  const decimals = Math.max(0, (mantissa.split(".")[1]?.length ?? 0) - Number(exponent ?? 0));
  return {
    metric: "test_acc",
    claimed: Number(figure),
    compare: "approx",
    epsilon: wordingEpsilon(decimals),
    sentence: _shortened(text.replace(/\s+/g, " ").trim()),
    figure,
    where,
  };
}

/** A sentence cut to 160 characters for a claim's `where`. */
function _shortened(sentence: string): string {
  return sentence.length > 160 ? `${sentence.slice(0, 157)}...` : sentence;
}

/** Splits text into sentences: at blank lines, line ends after a period, and ". ". */
function _sentences(text: string): string[] {
  return text.split(/\n\s*\n|(?<=[.!?])\s+(?=[A-Z(])|\n(?=\s*[-*•])/).map((s) =>
    s.replace(/\s+/g, " ").trim()
  ).filter(Boolean);
}

/**
 * The first accuracy figure of a sentence: `98.40%` / `98.40 %` (a percentage), or a fraction
 * `0.9777` next to "acc" / "accuracy" (`test_acc: 0.9777`, `0.93 train/test accuracy`).
 */
function _figure(
  s: string,
): { value: number; decimals: number; text: string; index: number } | undefined {
  const pct = /(\d{1,3}(?:\.(\d+))?)\s*%/.exec(s);
  if (pct) {
    const decimals = (pct[2]?.length ?? 0) + 2;
    return {
      value: Number((Number(pct[1]) / 100).toFixed(decimals)),
      decimals,
      text: pct[0],
      index: pct.index,
    };
  }
  const frac = /(?<![\d.])(0?\.(\d+)|1\.0+)(?![\d.%])/g;
  for (const m of s.matchAll(frac)) {
    const near = s.slice(Math.max(0, m.index - 30), m.index + m[0].length + 30);
    if (!/acc/i.test(near)) continue;
    const decimals = m[2]?.length ?? m[1].split(".")[1].length;
    return { value: Number(m[1]), decimals, text: m[1], index: m.index };
  }
  return undefined;
}
