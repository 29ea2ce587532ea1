import assert from "assert";
import { escapeHtml } from "../harness/_html.ts";
import { accuracyCurveSpec, renderSvg } from "../harness/chart.ts";
import { renderReplicationPage, writeReplicationReport } from "../harness/report.ts";
import { ResultsSchema } from "../harness/result.ts";
import { fixtureResults, fixtureSpec } from "./_fixtures.ts";

Deno.test("fixture is a valid results.json", () => {
  ResultsSchema.parse(fixtureResults());
});

Deno.test("escapeHtml escapes the five HTML-special characters", () => {
  assert.equal(escapeHtml(`<>&"'`), "&lt;&gt;&amp;&quot;&#39;");
  assert.equal(escapeHtml("plain"), "plain");
});

/** The `<g>` groups of one mark class in a Vega SVG, each with its inner markup. */
function _markGroups(svg: string, cls: string): string[] {
  return [...svg.matchAll(new RegExp(`<g class="${cls}"[^>]*>(.*?)</g>`, "gs"))].map((m) => m[1]);
}

Deno.test("accuracy chart: one line per (protocol, seed) and one black shape per test_acc claim", async () => {
  const results = fixtureResults();
  const spec = accuracyCurveSpec(results);
  // A claim with epoch null sits at its protocol's last epoch.
  const layers = (spec as { layer: { data: { values: Record<string, unknown>[] } }[] }).layer;
  assert.deepEqual(layers[1].data.values.map((v) => [v.claim, v.epoch]), [
    ["final-acc", 3],
    ["sgd-acc-e2", 2],
    ["bad-acc", 3],
  ]);
  const svg = await renderSvg(spec);
  const lines = _markGroups(svg, "mark-line role-mark reproduced_marks");
  assert.equal(lines.length, 4);
  for (const line of lines) assert.match(line, /<path [^>]*d="M/);
  const claimed = _markGroups(svg, "mark-symbol role-mark claimed_marks");
  assert.equal(claimed.length, 1);
  assert.equal(claimed[0].match(/<path /g)?.length, 3);
  assert.match(svg, /role-legend-label[^>]*>.*final-acc/s);
});

Deno.test("replication page: claims table, escaping, inline SVG, no URLs", async () => {
  const results = fixtureResults();
  const html = await renderReplicationPage(results, fixtureSpec());
  assert.match(html, /^<!doctype html>\n<html lang="en">/);
  assert.match(html, /<\/html>\n$/);
  assert.ok(html.includes("<svg"));

  const table = html.match(/<table class="claims">.*?<tbody>(.*?)<\/tbody>/s)?.[1] ?? "";
  assert.equal(table.match(/<tr>/g)?.length, results.claims.length);

  assert.ok(html.includes("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"));
  assert.ok(!/<script/i.test(html));
  assert.ok(html.includes("A &lt;b&gt;Keras&lt;/b&gt; tutorial"));

  // The SVG namespace declarations are the only URLs allowed, and nothing is loaded.
  const withoutNs = html.replace(/\sxmlns(:\w+)?="http:\/\/www\.w3\.org\/[^"]*"/g, "");
  assert.ok(!/https?:\/\//i.test(withoutNs), "no http(s) URL outside xmlns");
  assert.ok(!/\s(src|href|xlink:href)\s*=/i.test(html), "no src= or href=");
  assert.ok(!/url\(\s*['"]?(https?:|\/\/)/i.test(html), "no CSS url() to the network");

  for (const badge of ["ok", "bad", "muted"]) assert.ok(html.includes(`class="badge ${badge}"`));
  assert.ok(
    html.includes("≈ ±0.005") && html.includes("≥ (−0.005)") && html.includes("≤ (+0.005)"),
  );
  assert.ok(html.includes("0.9960") && html.includes("101,770"));
  assert.ok(html.includes("002_5dcc19fec036a721.txt"));
  assert.ok(html.includes("<li>--epochs 3 instead of 5</li>"));
});

Deno.test("replication page says none when there are no deviations", async () => {
  const results = { ...fixtureResults(), deviations: [] };
  const html = await renderReplicationPage(results, fixtureSpec());
  assert.match(html, /Deviations from the spec<\/h2>\n<p>none<\/p>/);
});

Deno.test("writeReplicationReport writes <dir>/index.html", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = await writeReplicationReport(fixtureResults(), fixtureSpec(), `${dir}/out`);
    assert.equal(path, `${dir}/out/index.html`);
    assert.equal(
      await Deno.readTextFile(path),
      await renderReplicationPage(fixtureResults(), fixtureSpec()),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
