import assert from "assert";
import { badgeEndpoint, badgeSvg, replicationBadge, suiteBadge } from "../harness/report/badge.ts";
import { reScienceTitle } from "../harness/report/report.ts";
import type { Verdict } from "../harness/results/result.ts";
import { HOSTILE, siteFixtures } from "./_fixtures.ts";

const [alpha, beta] = siteFixtures();
const alphaTitle = reScienceTitle(alpha.results, alpha.spec);
const betaTitle = reScienceTitle(beta.results, beta.spec);

/** beta's results with every claim given `verdict`. */
function _betaWith(verdict: Verdict) {
  const results = { ...beta.results, claims: beta.results.claims.map((c) => ({ ...c, verdict })) };
  return reScienceTitle(results, beta.spec);
}

Deno.test("replication badge: the [Re] rule in words and colour", () => {
  assert.deepEqual(replicationBadge("alpha-dense", alphaTitle), {
    label: "alpha-dense",
    message: "reproduced",
    color: "brightgreen",
  });
  // beta's stated claims: not reproduced, inconclusive, fails as claimed (holds), diverged.
  assert.deepEqual(replicationBadge("beta-conv", betaTitle), {
    label: "beta-conv",
    message: "partly reproduced 1/4",
    color: "yellow",
  });
  const none = replicationBadge("b", _betaWith("inconclusive"));
  assert.deepEqual([none.message, none.color], ["not reproduced", "red"]);
  // A stated claim the rerun left out counts against it, as it does for the title.
  const partial = { ...alpha.results, claims: alpha.results.claims.slice(1) };
  const left = replicationBadge("a", reScienceTitle(partial, alpha.spec));
  assert.deepEqual([left.message, left.color], ["partly reproduced 3/4", "yellow"]);
  // Only the exploratory sweep was rerun: no stated claim was checked.
  const sweep = { ...alpha.results, claims: alpha.results.claims.slice(-1) };
  const unchecked = replicationBadge("a", reScienceTitle(sweep, alpha.spec));
  assert.deepEqual([unchecked.message, unchecked.color], ["not checked", "lightgrey"]);
});

Deno.test("suite badge: how many replications are [Re]", () => {
  const message = (titles: typeof alphaTitle[]) => {
    const b = suiteBadge(titles);
    assert.equal(b.label, "claimcheck");
    return `${b.message} (${b.color})`;
  };
  assert.equal(message([alphaTitle, betaTitle]), "1 of 2 reproduced (yellow)");
  assert.equal(message([alphaTitle, alphaTitle]), "2 of 2 reproduced (brightgreen)");
  assert.equal(message([betaTitle]), "0 of 1 reproduced (red)");
  assert.equal(message([]), "no results (lightgrey)");
});

Deno.test("badge endpoint: shields.io's schema, text on one line", () => {
  const json = JSON.stringify(
    badgeEndpoint({ label: "a\nb", message: "partly reproduced 1/4", color: "yellow" }),
  );
  assert.deepEqual(JSON.parse(json), {
    schemaVersion: 1,
    label: "a b",
    message: "partly reproduced 1/4",
    color: "yellow",
  });
});

Deno.test("badge SVG: escaped text, sized by its length, no control characters", () => {
  const svg = badgeSvg({ label: HOSTILE, message: "x\u0000y\u001b", color: "red" });
  assert.ok(svg.includes(">&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;<"));
  assert.ok(!svg.includes("<script") && !svg.includes("\u0000") && !svg.includes("\u001b"));
  assert.ok(svg.includes(">xy</text>") && svg.includes('fill="#e05d44"'));
  const width = (s: string) => Number(s.match(/^<svg [^>]*width="(\d+)"/)?.[1]);
  const short = badgeSvg({ label: "a", message: "reproduced", color: "brightgreen" });
  const long = badgeSvg({ label: "a", message: "partly reproduced 12/34", color: "yellow" });
  assert.ok(width(long) > width(short) + 60, `${width(long)} vs ${width(short)}`);
  // The coloured part ends where the badge does.
  const [, x, w] = short.match(/<rect x="(\d+)" width="(\d+)" height="20" rx="3"/) ?? [];
  assert.equal(Number(x) + Number(w), width(short));
});
