import assert from "assert";
import { join } from "node:path";
import { RESCIENCE_RULE, reScienceTitle } from "../harness/report/report.ts";
import { buildSite, CSV_COLUMNS, type SiteOptions } from "../harness/report/site.ts";
import { CHROMIUM, Chromium, chromiumAvailable } from "./_chromium.ts";
import { HOSTILE, parseCsv, siteFixtures } from "./_fixtures.ts";

const fixtures = siteFixtures();

/** buildSite's replication loader, answering from the fixtures instead of replications/. */
const options: SiteOptions = {
  loadReplication: (name) => {
    const f = fixtures.find((f) => f.spec.name === name);
    return f ? Promise.resolve({ spec: f.spec }) : Promise.reject(new Error(`no ${name}`));
  },
};

/** Writes the fixtures' results.json files (plus things the site must ignore) into `out`. */
async function _seed(out: string): Promise<void> {
  await Deno.remove(out, { recursive: true }).catch(() => {});
  for (const f of fixtures) {
    const dir = join(out, f.results.replication);
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(join(dir, "results.json"), JSON.stringify(f.results, null, 2));
    // A shard file is not a result of its own; the site must not read it.
    await Deno.writeTextFile(join(dir, "results.shard-1-of-2.json"), "not json");
  }
  await Deno.mkdir(join(out, "empty-folder"));
  await Deno.writeTextFile(join(out, "stray.txt"), "ignored");
}

/** Every href on a page: relative (no scheme, no //, no leading /), so the site works offline. */
function _hrefs(html: string): string[] {
  return [...html.matchAll(/\shref="([^"]*)"/g)].map((m) => m[1]);
}

Deno.test("ReScience title: [Re] only when every stated claim holds", () => {
  const [alpha, beta] = fixtures;
  const a = reScienceTitle(alpha.results, alpha.spec);
  assert.equal(a.mark, "[Re]");
  assert.deepEqual(a.reasons, []);
  // sweep-acc is "not reproduced", but on an exploratory protocol: it does not count.
  assert.ok(!a.stated.includes("sweep-acc"));

  const b = reScienceTitle(beta.results, beta.spec);
  assert.equal(b.mark, "[¬Re]");
  assert.deepEqual(b.reasons, ["acc: not reproduced", "loss: inconclusive", "blow-up: diverged"]);

  // A stated claim of the spec that the rerun left out (e.g. --protocols) is not a [Re].
  const partial = { ...alpha.results, claims: alpha.results.claims.slice(1) };
  assert.deepEqual(reScienceTitle(partial, alpha.spec).reasons, ["final-acc: not checked"]);
  // Only exploratory claims, and none stated in the spec: nothing was checked.
  const onlySweep = { ...alpha.results, claims: alpha.results.claims.slice(-1) };
  const sweepSpec = { ...alpha.spec, claims: alpha.spec.claims.slice(-1) };
  assert.deepEqual(reScienceTitle(onlySweep, sweepSpec).reasons, [
    "no claim on a stated protocol",
  ]);
  assert.match(RESCIENCE_RULE, /inconclusive/);
});

Deno.test("buildSite: pages, summary.md and results.csv from every results.json", async () => {
  const out = await Deno.makeTempDir({ prefix: "claimcheck-site-" });
  try {
    await _seed(out);
    const { written, skipped } = await buildSite(out, options);
    assert.deepEqual(skipped, []);
    assert.deepEqual(written, [
      join(out, "alpha-dense", "events.jsonl"),
      join(out, "alpha-dense", "index.html"),
      join(out, "beta-conv", "events.jsonl"),
      join(out, "beta-conv", "index.html"),
      join(out, "index.html"),
      join(out, "summary.md"),
      join(out, "results.csv"),
    ]);
    // No temp file is left behind by the atomic writes, and the pages are world-readable.
    for (const dir of [out, join(out, "alpha-dense")]) {
      for await (const e of Deno.readDir(dir)) assert.ok(!e.name.startsWith(".tmp-"), e.name);
    }
    if (Deno.build.os !== "windows") {
      for (const path of written) assert.equal((await Deno.stat(path)).mode! & 0o777, 0o644);
    }

    const index = await Deno.readTextFile(join(out, "index.html"));
    const rows = [...index.matchAll(/<tr data-replication="([^"]+)" data-claim="([^"]+)">/g)]
      .map((m) => `${m[1]}/${m[2]}`);
    assert.deepEqual(
      rows,
      fixtures.flatMap((f) => f.results.claims.map((c) => `${f.results.replication}/${c.id}`)),
    );
    assert.ok(index.includes('href="alpha-dense/index.html"'));
    assert.ok(index.includes(`0.9745 ± 0.0050<span class="sub">n=3</span>`), "mean ± CI (n)");
    assert.ok(index.includes("8.4 s"), "olympic time to accuracy");
    assert.ok(index.includes("epochs 3 · 3 · 3"), "epochs per seed");
    assert.ok(index.includes("not reached"), "beta's accuracy target is never reached");
    assert.ok(index.includes("NVIDIA &lt;H100&gt; 80GB"), "backend adapter, escaped");
    assert.ok(index.includes("2025-01-03"));
    assert.equal(index.match(/class="re yes"/g)?.length, 1);
    assert.equal(index.match(/class="re no"/g)?.length, 1);

    for (const page of ["index.html", "alpha-dense/index.html", "beta-conv/index.html"]) {
      const html = await Deno.readTextFile(join(out, page));
      assert.ok(!/<script/i.test(html), `${page}: no script`);
      assert.ok(html.includes("&lt;script&gt;alert(1)&lt;/script&gt;"), `${page}: escaped`);
      const withoutNs = html.replace(/\sxmlns(:\w+)?="http:\/\/www\.w3\.org\/[^"]*"/g, "");
      assert.ok(!/https?:\/\//i.test(withoutNs), `${page}: no http(s) URL outside xmlns`);
      // Only inline images: a src is a data: URI, never a file or a URL.
      assert.ok(!/\ssrc\s*=\s*"(?!data:image\/bmp;base64,)/i.test(html), `${page}: nothing loaded`);
      for (const href of _hrefs(html)) {
        assert.ok(!/^([a-z][a-z0-9+.-]*:|\/)/i.test(href), `${page}: ${href} is relative`);
        const target = join(out, page, "..", decodeURIComponent(href));
        assert.ok((await Deno.stat(target)).isFile, `${page}: link ${href} resolves`);
      }
    }
    const beta = await Deno.readTextFile(join(out, "beta-conv", "index.html"));
    assert.ok(beta.includes('href="events.jsonl"') && beta.includes('href="results.json"'));
    assert.ok(beta.includes('href="../index.html"'));

    const md = await Deno.readTextFile(join(out, "summary.md"));
    assert.ok(md.includes("**\\[Re\\] Alpha"));
    assert.ok(md.includes("**\\[¬Re\\] Beta"));
    assert.ok(md.includes("about 0.12, \\| pipes \\| and new lines."), "pipes escaped, one line");
    const table = md.split("\n").filter((l) => l.startsWith("| "));
    assert.equal(table.length, 2 + 9, "header, rule and one row per claim");
    for (const line of table) assert.equal(line.split(/(?<!\\)\|/).length, 7, line);
    assert.ok(md.includes("| 0.9745 ± 0.0050 (n=3) | reproduced |"));

    const csv = parseCsv(await Deno.readTextFile(join(out, "results.csv")));
    assert.deepEqual(csv[0], [...CSV_COLUMNS]);
    const perClaim = fixtures.flatMap((f) => f.results.claims.map((c) => c.values.length || 1));
    assert.equal(csv.length - 1, perClaim.reduce((a, b) => a + b, 0));
    const col = (name: string) => CSV_COLUMNS.indexOf(name as (typeof CSV_COLUMNS)[number]);
    const hostile = csv.filter((r) => r[col("claim")] === "acc");
    assert.deepEqual(hostile.map((r) => r[col("statement")]), [HOSTILE, HOSTILE, HOSTILE]);
    assert.deepEqual(hostile.map((r) => r[col("seed")]), ["1", "2", "3"]);
    assert.ok(csv.some((r) => r[col("statement")].includes("\n")), "a line break survives");
    const diverged = csv.filter((r) => r[col("claim")] === "blow-up");
    assert.equal(diverged.length, 1);
    assert.equal(diverged[0][col("value")], "");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("buildSite: an invalid results.json stops the build unless onSkip takes it", async () => {
  const out = await Deno.makeTempDir();
  try {
    await _seed(out);
    await Deno.mkdir(join(out, "old"));
    await Deno.writeTextFile(join(out, "old", "results.json"), `{"schema": 0}`);
    await assert.rejects(buildSite(out, options), /old\/results\.json is not valid/);
    const seen: string[] = [];
    const built = await buildSite(out, { ...options, onSkip: (file) => seen.push(file) });
    assert.deepEqual(seen, [join(out, "old", "results.json")]);
    // The skipped files are also returned, so a command line can exit non-zero.
    assert.deepEqual(built.skipped.map((s) => s.file), seen);
    assert.match(built.skipped[0].error.message, /old\/results\.json is not valid/);
    assert.ok(built.written.includes(join(out, "index.html")), "the rest of the site is built");
    const index = await Deno.readTextFile(join(out, "index.html"));
    assert.equal(index.match(/<tr data-replication=/g)?.length, 9);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("buildSite with no results writes an empty scoreboard", async () => {
  const out = await Deno.makeTempDir();
  try {
    const { written } = await buildSite(join(out, "missing"), options);
    assert.equal(written.length, 3);
    assert.match(await Deno.readTextFile(written[0]), /No results yet/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

const haveBrowser = chromiumAvailable();
if (!haveBrowser && !Deno.env.get("CI")) {
  console.warn(
    `site_test: ${CHROMIUM} not found, skipping the browser check ` +
      "(install it with apt-get install -y chromium; with CI set, the test fails instead)",
  );
}

Deno.test({
  name: "site in headless Chromium: no errors, charts drawn, every claim listed",
  ignore: !haveBrowser && !Deno.env.get("CI"),
  fn: async () => {
    assert.ok(haveBrowser, `${CHROMIUM} is missing: apt-get install -y chromium`);
    // Kept after the test (and cleared before the next) so the screenshots can be looked at.
    const out = Deno.env.get("CLAIMCHECK_SITE_OUT") ??
      join(Deno.env.get("TMPDIR") ?? "/tmp", "claimcheck-site-test");
    await _seed(out);
    await buildSite(out, options);

    const browser = await Chromium.launch();
    try {
      const page = await browser.newPage(1280, 900);
      const pages = ["index.html", ...fixtures.map((f) => `${f.results.replication}/index.html`)];
      for (const file of pages) {
        const url = new URL(`file://${join(await Deno.realPath(out), file)}`).href;
        await page.goto(url);
        const charts = await page.evaluate<
          { id: string; groups: number; empty: number; paths: number; area: number }[]
        >(`[...document.querySelectorAll("figure.chart svg")].map((svg, i) => {
          const groups = [...svg.querySelectorAll("g.role-mark")];
          const drawn = (g) => [...g.querySelectorAll("path")].filter((p) => {
            const d = p.getAttribute("d");
            const box = p.getBBox();
            return d && d.length > 2 && (box.width > 0 || box.height > 0);
          }).length + [...g.querySelectorAll("text")].filter((t) => t.textContent.trim()).length;
          const box = svg.getBoundingClientRect();
          return {
            id: (svg.closest("figure").dataset.chart ?? "") + ":" +
              (svg.closest("figure").dataset.protocol ?? i),
            groups: groups.length,
            empty: groups.filter((g) => drawn(g) === 0).length,
            paths: groups.reduce((n, g) => n + drawn(g), 0),
            area: box.width * box.height,
          };
        })`);
        if (file === "index.html") {
          const listed = await page.evaluate<string[]>(
            `[...document.querySelectorAll("table.scoreboard tr[data-claim]")].map((tr) =>
              tr.dataset.replication + "/" + tr.dataset.claim)`,
          );
          assert.deepEqual(
            listed,
            fixtures.flatMap((f) =>
              f.results.claims.map((c) => `${f.results.replication}/${c.id}`)
            ),
          );
          const words = (s: string) => s.replace(/\s+/g, " ");
          const visible = words(await page.evaluate<string>(`document.body.innerText`));
          for (const f of fixtures) {
            for (const c of f.results.claims) {
              assert.ok(visible.includes(words(c.statement)), `${c.id} shown`);
            }
          }
          await page.screenshot(join(out, "screenshot-index.png"));
        } else {
          // alpha: 2 accuracy charts (one per protocol) and the train-loss chart; beta: 1 + 1.
          assert.ok(charts.length >= 2, `${file}: ${charts.length} charts`);
          for (const c of charts) {
            assert.ok(c.groups >= 2, `${file} ${c.id}: mark groups`);
            assert.equal(c.empty, 0, `${file} ${c.id}: every mark group draws something`);
            assert.ok(c.area > 100 * 100, `${file} ${c.id}: laid out with a size`);
          }
          if (file.startsWith("alpha")) {
            // The classifier section: a drawn confusion matrix and the misclassified digits as
            // images that decoded (a broken data: URI has no natural size).
            assert.ok(charts.some((c) => c.id === "confusion:stated"), "confusion matrix drawn");
            const digits = await page.evaluate<{ shown: number; decoded: number; text: string }>(
              `(() => {
                const imgs = [...document.querySelectorAll(".digits figure.digit img")];
                return {
                  shown: imgs.length,
                  decoded: imgs.filter((i) => i.complete && i.naturalWidth === 56).length,
                  text: document.querySelector(".digits figure.digit figcaption").innerText,
                };
              })()`,
            );
            assert.equal(digits.shown, 9, "3 misclassified digits for each of 3 seeds");
            assert.equal(digits.decoded, 9, "every digit image decodes");
            assert.match(digits.text, /0 → 7/);
            await page.screenshot(join(out, "screenshot-alpha-dense.png"));
          }
        }
        // At 1280 px nothing is wider than the page, tables included (they scroll inside a
        // wrapper on narrower windows, which would hide columns on a screenshot).
        const overflow = await page.evaluate<string[]>(
          `[document.documentElement, ...document.querySelectorAll(".scroll")]
            .filter((e) => e.scrollWidth > e.clientWidth + 1)
            .map((e) => (e.firstElementChild?.className || e.tagName) + " " + e.scrollWidth +
              " > " + e.clientWidth)`,
        );
        assert.deepEqual(overflow, [], `${file}: wider than the window`);
        assert.deepEqual(page.errors, [], `${file}: console errors or exceptions`);
      }
      await page.close();
    } finally {
      await browser.close();
    }
    console.log(
      `screenshots:\n  ${join(out, "screenshot-index.png")}\n  ${
        join(out, "screenshot-alpha-dense.png")
      }`,
    );
  },
});
