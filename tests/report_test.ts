import assert from "assert";
import { escapeHtml } from "../harness/util/escape_html.ts";
import {
  protocolCurvesSpec,
  renderSvg,
  seedBands,
  trainLossSpec,
} from "../harness/report/chart.ts";
import {
  renderReplicationPage,
  reScienceTitle,
  writeReplicationReport,
} from "../harness/report/report.ts";
import { ResultsSchema } from "../harness/results/result.ts";
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

Deno.test("seed bands: mean, min and max over seeds per protocol and epoch", () => {
  const bands = seedBands(fixtureResults(), "test_acc", "adam-b32");
  assert.deepEqual(bands.map((b) => b.epoch), [1, 2, 3]);
  const first = bands[0];
  assert.equal(first.n, 2);
  assert.ok(Math.abs(first.min - 0.934) < 1e-9 && Math.abs(first.max - 0.938) < 1e-9);
  assert.ok(Math.abs(first.mean - 0.936) < 1e-9);
  // Non-finite values leave a gap instead of breaking the chart.
  const results = fixtureResults();
  results.runs[0].epochs[0].metrics.test_acc = null;
  results.runs[0].epochs[0].nonFinite = { test_acc: "NaN" };
  assert.equal(seedBands(results, "test_acc", "adam-b32")[0].n, 1);
});

Deno.test("per-protocol curves: band, mean line and that protocol's claims", async () => {
  const spec = protocolCurvesSpec(fixtureResults(), "adam-b32", ["test_acc"], "accuracy")!;
  const svg = await renderSvg(spec);
  const bands = _markGroups(svg, "mark-area role-mark band_marks");
  assert.equal(bands.length, 1);
  assert.match(bands[0], /<path [^>]*d="M/);
  const mean = _markGroups(svg, "mark-line role-mark mean_marks");
  assert.equal(mean.length, 1);
  assert.match(mean[0], /<path [^>]*d="M/);
  // final-acc and bad-acc are adam-b32's test_acc claims; sgd-acc-e2 belongs to the other chart.
  const claimed = _markGroups(svg, "mark-symbol role-mark claimed_marks");
  assert.equal(claimed[0].match(/<path /g)?.length, 2);
  assert.match(svg, /role-legend-label[^>]*>.*test_acc/s);
  assert.equal(protocolCurvesSpec(fixtureResults(), "no-such-protocol", ["test_acc"], "a"), null);

  const loss = await renderSvg(trainLossSpec(fixtureResults())!);
  assert.equal(_markGroups(loss, "mark-line role-mark mean_marks").length, 2, "one per protocol");
  assert.equal(_markGroups(loss, "mark-area role-mark band_marks").length, 2);
});

Deno.test("replication page: claims table, escaping, inline SVG, local links only", async () => {
  const results = fixtureResults();
  const html = await renderReplicationPage(results, fixtureSpec());
  assert.match(html, /^<!doctype html>\n<html lang="en">/);
  assert.match(html, /<\/html>\n$/);
  assert.ok(html.includes("<svg"));
  // An accuracy and a loss chart per protocol, and the train-loss chart.
  assert.equal(html.match(/<figure class="chart" data-chart="curves-accuracy"/g)?.length, 2);
  assert.equal(html.match(/<figure class="chart" data-chart="curves-loss"/g)?.length, 2);
  assert.equal(html.match(/<figure class="chart" data-chart="train-loss"/g)?.length, 1);

  const table = html.match(/<table class="claims">.*?<tbody>(.*?)<\/tbody>/s)?.[1] ?? "";
  assert.equal(table.match(/<tr data-claim="/g)?.length, results.claims.length);
  for (const th of ["n", "Mean ± 95 % CI", "sd", "min–max", "Olympic", "Time to accuracy"]) {
    assert.ok(html.includes(`<th class="num">${th}</th>`), th);
  }
  // bad-acc is "not reproduced" on a stated protocol: the title says so.
  assert.ok(html.includes('<span class="re no"'));
  assert.ok(html.includes("bad-acc: not reproduced"));
  assert.equal(reScienceTitle(results, fixtureSpec()).mark, "[¬Re]");

  assert.ok(html.includes("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"));
  assert.ok(!/<script/i.test(html));
  assert.ok(html.includes("A &lt;b&gt;Keras&lt;/b&gt; tutorial"));

  // The SVG namespace declarations are the only URLs allowed, and nothing is loaded.
  const withoutNs = html.replace(/\sxmlns(:\w+)?="http:\/\/www\.w3\.org\/[^"]*"/g, "");
  assert.ok(!/https?:\/\//i.test(withoutNs), "no http(s) URL outside xmlns");
  assert.ok(!/\s(src|xlink:href)\s*=/i.test(html), "no src= or xlink:href=");
  assert.ok(!/url\(\s*['"]?(https?:|\/\/)/i.test(html), "no CSS url() to the network");
  // Links: the two files beside the page, nothing else (no scoreboard link outside a site).
  assert.deepEqual([...html.matchAll(/\shref="([^"]*)"/g)].map((m) => m[1]), [
    "results.json",
    "events.jsonl",
  ]);
  const inSite = await renderReplicationPage(results, fixtureSpec(), { siteLink: true });
  assert.ok(inSite.includes('<a href="../index.html">'));

  for (const badge of ["ok", "bad", "muted"]) assert.ok(html.includes(`class="badge ${badge}"`));
  assert.ok(
    html.includes("≈ ±0.005") && html.includes("≥ (−0.005)") && html.includes("≤ (+0.005)"),
  );
  assert.ok(html.includes("0.9903") && html.includes("101,770"));
  assert.ok(html.includes("002_5dcc19fec036a721.txt"));
  assert.ok(html.includes("<li>--epochs 3 instead of 5</li>"));
  // Provenance: warm-up per run, dataset hashes, the exact command.
  assert.ok(html.includes("seed 1 0.42 s, seed 2 0.42 s"));
  assert.ok(html.includes("ab".repeat(32)));
  assert.ok(html.includes("deno task replicate keras-dense --epochs 3"));
});

Deno.test("replication page shows a replication's own charts, and a failing one's error", async () => {
  const results = fixtureResults();
  const html = await renderReplicationPage(results, fixtureSpec(), {
    charts: [{
      title: "Outputs <b>",
      caption: "What the outputs look like & why.",
      spec: {
        data: { values: [{ x: 1, y: 2 }, { x: 2, y: 3 }] },
        mark: "bar",
        encoding: {
          x: { field: "x", type: "ordinal" },
          y: { field: "y", type: "quantitative" },
        },
      },
    }],
  });
  assert.ok(html.includes("<h2>Replication charts</h2>"));
  assert.ok(html.includes("<h3>Outputs &lt;b&gt;</h3>"));
  assert.match(html, /data-chart="replication">\n<h3>[^<]*&lt;b&gt;<\/h3>\n<svg/);
  const failing = await renderReplicationPage(results, fixtureSpec(), {
    charts: () => {
      throw new Error("no <artifacts>");
    },
  });
  assert.ok(failing.includes("the replication's charts failed: no &lt;artifacts&gt;"));
  const none = await renderReplicationPage(results, fixtureSpec());
  assert.ok(!none.includes("Replication charts"));
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
