import assert from "assert";
import { escapeHtml } from "../harness/_html.ts";
import { accuracyCurveSpec, renderSvg } from "../harness/chart.ts";
import { renderReplicationPage, writeReplicationReport } from "../harness/report.ts";
import { type Results, ResultsSchema } from "../harness/result.ts";
import { type ReplicationSpec, ReplicationSpecSchema } from "../harness/spec.ts";

const _HOSTILE = `<script>alert(1)</script> & "quotes"`;

/** A small rerun: 2 protocols × 2 seeds × 3 epochs, and claims covering every verdict colour. */
export function fixtureResults(): Results {
  const protocols = [["adam-b32", 0.9], ["sgd-b128", 0.8]] as const;
  const runs = protocols.flatMap(([protocol, base]) =>
    [1, 2].map((seed) => ({
      protocol,
      seed,
      params: 101_770,
      epochsPlanned: 3,
      epochs: [1, 2, 3].map((epoch) => {
        const acc = base + 0.03 * epoch + 0.004 * seed;
        return {
          epoch,
          trainLoss: 1 - acc,
          trainAcc: acc - 0.01,
          testLoss: 1.1 - acc,
          testAcc: acc,
          seconds: 2.5,
          evalSeconds: 0.3,
        };
      }),
      warmupSeconds: 0.42,
      trainSeconds: 7.5,
      samplesPerSecond: 24_000.4,
      diverged: false,
    }))
  );
  const claim = (c: Partial<Results["claims"][number]>) => ({
    id: "x",
    source: "002",
    statement: "After training, the network reaches about 98% accuracy on the test set.",
    protocol: "adam-b32",
    metric: "test_acc" as const,
    epoch: null,
    claimed: 0.98,
    compare: "approx" as const,
    epsilon: 0.005,
    seeds: [1, 2],
    values: [0.994, 0.998],
    mean: 0.996,
    verdict: "reproduced" as const,
    evidence: "n=2, mean 0.9960; claimed 0.9800 ± 0.005: off by 0.0160",
    ...c,
  });
  return {
    schema: 1,
    replication: "keras-dense",
    title: "Keras dense MNIST",
    createdAt: "2025-01-01T00:00:00.000Z",
    command: "deno task replicate keras-dense --epochs 3",
    gitCommit: "0123456789abcdef0123456789abcdef01234567",
    versions: { deno: "2.9.6", v8: "13.0", tfjs: "4.22.0" },
    backend: { name: "wasm", adapter: null, fallbackAdapter: null, note: "no WebGPU adapter" },
    setupSeconds: 1.25,
    dataset: {
      name: "mnist",
      files: [{ file: "t10k-images-idx3-ubyte.gz", sha256: "ab".repeat(32) }],
    },
    deviations: ["--epochs 3 instead of 5"],
    runs,
    claims: [
      claim({ id: "final-acc", statement: _HOSTILE }),
      claim({
        id: "sgd-acc-e2",
        protocol: "sgd-b128",
        epoch: 2,
        claimed: 0.85,
        compare: "atLeast",
        values: [0.864, 0.868],
        mean: 0.866,
        verdict: "reproduced (better)",
      }),
      claim({ id: "bad-acc", claimed: 0.999, values: [0.994, 0.998], verdict: "not reproduced" }),
      claim({
        id: "params",
        metric: "params",
        claimed: 101_770,
        epsilon: 0,
        values: [101_770, 101_770],
        mean: 101_770,
      }),
      claim({
        id: "sgd-loss",
        protocol: "sgd-b128",
        metric: "test_loss",
        claimed: 0.2,
        compare: "atMost",
        values: [0.206, 0.202],
        mean: 0.204,
        verdict: "diverged",
      }),
      claim({
        id: "lr-too-high",
        protocol: "sgd-b128",
        metric: "train_acc",
        claimed: 0.2,
        compare: "fails",
        epsilon: 0.05,
        values: [0.11, 0.1],
        mean: 0.105,
        verdict: "fails as claimed",
      }),
    ],
  };
}

/** The spec the fixture claims come from. */
export function fixtureSpec(): ReplicationSpec {
  const protocol = (id: string, name: "adam" | "sgd") => ({
    id,
    source: "002",
    description: `${id} as in the source`,
    model: "dense",
    dataset: "mnist",
    pixelScale: 1 / 255,
    optimizer: { name },
    loss: "categoricalCrossentropy",
    batchSize: 32,
    epochs: 3,
  });
  return ReplicationSpecSchema.parse({
    name: "keras-dense",
    title: "Keras dense network on MNIST",
    sources: [{ id: "002", file: "002_5dcc19fec036a721.txt", title: "A <b>Keras</b> tutorial" }],
    protocols: [protocol("adam-b32", "adam"), protocol("sgd-b128", "sgd")],
    claims: fixtureResults().claims.map((c) => ({
      id: c.id,
      source: c.source,
      where: "model.evaluate output",
      statement: c.statement,
      protocol: c.protocol,
      metric: c.metric,
      ...(c.epoch === null ? {} : { epoch: c.epoch }),
      claimed: c.claimed,
      compare: c.compare,
      epsilon: c.epsilon,
      twoSided: c.metric === "params",
    })),
    gates: [],
  });
}

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
