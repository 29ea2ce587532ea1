import assert from "assert";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { badgeSvg } from "../harness/report/badge.ts";
import { RESCIENCE_RULE, reScienceTitle } from "../harness/report/report.ts";
import {
  buildSite,
  CSV_COLUMNS,
  renderIndexPage,
  scoreboardRows,
  type SiteOptions,
} from "../harness/report/site.ts";
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

/**
 * The scoreboard's rows in page order, `replication/claim`: each replication's headline claims
 * (alpha marks final-acc; beta marks none, so its stated claims lead), then the folded rest.
 */
const HEADLINE = [
  "alpha-dense/final-acc",
  ...fixtures[1].results.claims.map((c) => `beta-conv/${c.id}`),
];
const FOLDED = ["curve-e2", "params", "final-loss", "sweep-acc"].map((id) => `alpha-dense/${id}`);

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
  assert.deepEqual(b.held, ["lr-too-high"], "fails as claimed holds");

  // A stated claim of the spec that the rerun left out (e.g. --protocols) is not a [Re].
  const partial = { ...alpha.results, claims: alpha.results.claims.slice(1) };
  const left = reScienceTitle(partial, alpha.spec);
  assert.deepEqual(left.reasons, ["final-acc: not checked"]);
  assert.deepEqual([left.unchecked, left.held], [["final-acc"], [
    "curve-e2",
    "params",
    "final-loss",
  ]]);
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
      join(out, "alpha-dense", "badge.svg"),
      join(out, "alpha-dense", "badge.json"),
      join(out, "beta-conv", "badge.svg"),
      join(out, "beta-conv", "badge.json"),
      join(out, "badge.svg"),
      join(out, "badge.json"),
    ]);
    // No temp file is left behind by the atomic writes, and the pages are world-readable.
    for (const dir of [out, join(out, "alpha-dense")]) {
      for await (const e of Deno.readDir(dir)) assert.ok(!e.name.startsWith(".tmp-"), e.name);
    }
    if (Deno.build.os !== "windows") {
      for (const path of written) assert.equal((await Deno.stat(path)).mode! & 0o777, 0o644);
    }

    const index = await Deno.readTextFile(join(out, "index.html"));
    const rows = (html: string) =>
      [...html.matchAll(/<tr data-replication="([^"]+)" data-claim="([^"]+)">/g)]
        .map((m) => `${m[1]}/${m[2]}`);
    // Headline claims in the first table, every other claim once, folded below it.
    const [lead, folded] = index.split('<details class="more">');
    assert.deepEqual(rows(lead), HEADLINE);
    assert.deepEqual(rows(folded), FOLDED);
    assert.match(folded, /^<summary>4 more claims, by replication<\/summary>/);
    assert.ok(lead.includes('<table class="scoreboard" data-rows="headline">'));
    assert.ok(folded.includes('<table class="scoreboard" data-rows="more">'));
    assert.ok(index.includes('href="alpha-dense/index.html"'));
    assert.ok(index.includes(`0.9745 ± 0.0050<span class="sub">n=3</span>`), "mean ± CI (n)");
    assert.ok(index.includes("8.4 s"), "olympic time to accuracy");
    assert.ok(index.includes("epochs 3 · 3 · 3"), "epochs per seed");
    assert.ok(index.includes("not reached"), "beta's accuracy target is never reached");
    assert.ok(index.includes("NVIDIA &lt;H100&gt; 80GB"), "backend adapter, escaped");
    assert.ok(index.includes("2025-01-03"));
    // alpha heads both tables (headline and folded), beta only the headline one.
    assert.equal(index.match(/class="re yes"/g)?.length, 2);
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
    // blow-up: seed 3 diverged, so its value cell is empty; the other seeds keep their numbers.
    const diverged = csv.filter((r) => r[col("claim")] === "blow-up");
    assert.deepEqual(diverged.map((r) => [r[col("seed")], r[col("value")] === ""]), [
      ["1", false],
      ["2", false],
      ["3", true],
    ]);
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
    assert.equal(written.length, 5, "scoreboard, summary, CSV and the suite's two badge files");
    assert.match(await Deno.readTextFile(written[0]), /No results yet/);
    assert.equal(
      await Deno.readTextFile(join(out, "missing", "badge.json")),
      `{"schemaVersion":1,"label":"claimcheck","message":"no results","color":"lightgrey"}\n`,
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("scoreboard rows: headline claims lead, the rest is folded", () => {
  const [alpha, beta] = fixtures;
  const ids = (rows: { id: string }[]) => rows.map((c) => c.id);
  const a = scoreboardRows(alpha.results, alpha.spec);
  assert.deepEqual(ids(a.headline), ["final-acc"], "the claim the spec marks `headline`");
  assert.deepEqual(ids(a.rest), ["curve-e2", "params", "final-loss", "sweep-acc"]);
  // No claim marked: the claims on stated protocols lead (all of beta's).
  const b = scoreboardRows(beta.results, beta.spec);
  assert.deepEqual(ids(b.headline), ["acc", "loss", "lr-too-high", "blow-up"]);
  assert.deepEqual(b.rest, []);
  // Nothing marked in alpha: its exploratory sweep is folded, the stated claims lead.
  const unmarked = {
    ...alpha.spec,
    claims: alpha.spec.claims.map((c) => ({ ...c, headline: false })),
  };
  assert.deepEqual(ids(scoreboardRows(alpha.results, unmarked).rest), ["sweep-acc"]);
  // Only exploratory claims: they lead rather than leave the row empty.
  const sweepOnly = { ...alpha.results, claims: alpha.results.claims.slice(-1) };
  assert.deepEqual(ids(scoreboardRows(sweepOnly, unmarked).headline), ["sweep-acc"]);

  // A headline claim the rerun left out (e.g. --protocols) leads as "not checked".
  const partial = { ...alpha.results, claims: alpha.results.claims.slice(1) };
  const p = scoreboardRows(partial, alpha.spec);
  assert.deepEqual(ids(p.headline), ["final-acc"]);
  assert.ok(!("verdict" in p.headline[0]), "the spec's claim, not a result");
  const html = renderIndexPage([{
    ...alpha,
    dir: "alpha-dense",
    results: partial,
    title: reScienceTitle(partial, alpha.spec),
  }]);
  const row =
    html.match(/<tr data-replication="alpha-dense" data-claim="final-acc">.*?<\/tr>/s)?.[0] ?? "";
  assert.ok(row.includes('<span class="badge muted">not checked</span>'), row);
  assert.ok(row.includes('0.97<span class="sub">≈ ±0.01</span>'), "claimed value and rule");
});

Deno.test("buildSite: a badge per replication and for the suite; variants never drive them", async () => {
  const out = await Deno.makeTempDir({ prefix: "claimcheck-badges-" });
  try {
    await _seed(out);
    // A --epochs 1 rerun of alpha where its accuracy and loss claims fail, and a folder
    // holding only a variant.
    const [alpha, beta] = siteFixtures(1);
    const variant = (r: typeof alpha.results) => ({
      ...r,
      variant: "epochs-1",
      deviations: ["--epochs 1 instead of 4"],
    });
    assert.equal(reScienceTitle(alpha.results, alpha.spec).mark, "[¬Re]");
    await Deno.writeTextFile(
      join(out, "alpha-dense", "results.epochs-1.json"),
      JSON.stringify(variant(alpha.results)),
    );
    await Deno.mkdir(join(out, "only-variant"));
    await Deno.writeTextFile(
      join(out, "only-variant", "results.epochs-1.json"),
      JSON.stringify(variant(beta.results)),
    );
    const { written } = await buildSite(out, options);
    const json = async (...path: string[]) =>
      JSON.parse(await Deno.readTextFile(join(out, ...path)));
    assert.deepEqual(await json("alpha-dense", "badge.json"), {
      schemaVersion: 1,
      label: "alpha-dense",
      message: "reproduced",
      color: "brightgreen",
    });
    // beta: of its 4 stated claims only "fails as claimed" holds.
    assert.deepEqual(await json("beta-conv", "badge.json"), {
      schemaVersion: 1,
      label: "beta-conv",
      message: "partly reproduced 1/4",
      color: "yellow",
    });
    assert.deepEqual(await json("badge.json"), {
      schemaVersion: 1,
      label: "claimcheck",
      message: "1 of 2 reproduced",
      color: "yellow",
    });
    const svg = await Deno.readTextFile(join(out, "alpha-dense", "badge.svg"));
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="20"/);
    assert.ok(svg.includes(">reproduced</text>") && svg.includes('fill="#4c1"'));
    assert.ok((await Deno.readTextFile(join(out, "badge.svg"))).includes(">1 of 2 reproduced<"));
    // The variants got their pages, but no badge of their own and no say in the others.
    assert.ok(written.includes(join(out, "alpha-dense", "index.epochs-1.html")));
    const badges = written.filter((f) => basename(f).startsWith("badge."));
    assert.deepEqual(badges.filter((f) => /epochs|only-variant/.test(f)), []);
    await assert.rejects(Deno.stat(join(out, "only-variant", "badge.svg")), Deno.errors.NotFound);
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
        const url = pathToFileURL(join(await Deno.realPath(out), file)).href;
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
          const listed = (rows: string) =>
            page.evaluate<string[]>(
              `[...document.querySelectorAll('table.scoreboard[data-rows="${rows}"] tr[data-claim]')]
                .map((tr) => tr.dataset.replication + "/" + tr.dataset.claim)`,
            );
          assert.deepEqual(await listed("headline"), HEADLINE);
          assert.deepEqual(await listed("more"), FOLDED);
          const claims = fixtures.flatMap((f) =>
            f.results.claims.map((c) => ({
              key: `${f.results.replication}/${c.id}`,
              statement: c.statement,
            }))
          );
          const words = (s: string) => s.replace(/\s+/g, " ");
          const visible = async () => words(await page.evaluate<string>(`document.body.innerText`));
          // Folded: the headline claims are shown and the rest is not, until the reader opens it.
          const closed = await visible();
          for (const c of claims) {
            const shown = closed.includes(words(c.statement));
            assert.equal(shown, HEADLINE.includes(c.key), `${c.key} shown: ${shown}`);
          }
          const bottom = await page.evaluate<number>(
            `document.querySelector('table[data-rows="headline"]').getBoundingClientRect().bottom`,
          );
          assert.ok(bottom <= 900, `the headline table ends at ${bottom} px, below one screen`);
          await page.screenshot(join(out, "screenshot-index.png"));
          await page.evaluate(`document.querySelector("details.more").open = true`);
          const open = await visible();
          for (const c of claims) assert.ok(open.includes(words(c.statement)), `${c.key} shown`);
        } else {
          // alpha and beta: an accuracy chart per protocol (2 each) and the train-loss chart.
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
      // Badges parse as SVG (an XML error would show as a parsererror), odd text included.
      await Deno.writeTextFile(
        join(out, "hostile-badge.svg"),
        badgeSvg({ label: HOSTILE, message: "a\u0007b\nc", color: "red" }),
      );
      for (
        const [file, label, message] of [
          ["badge.svg", "claimcheck", "1 of 2 reproduced"],
          ["alpha-dense/badge.svg", "alpha-dense", "reproduced"],
          ["beta-conv/badge.svg", "beta-conv", "partly reproduced 1/4"],
          ["hostile-badge.svg", HOSTILE, "ab c"],
        ]
      ) {
        await page.goto(pathToFileURL(join(await Deno.realPath(out), file)).href);
        const svg = await page.evaluate(`(() => {
          const root = document.documentElement;
          const [box, right] = [...root.querySelectorAll("rect")].map((r) => r.getBBox());
          return {
            root: root.localName,
            parseErrors: document.getElementsByTagName("parsererror").length,
            texts: [...root.querySelectorAll("text")].map((t) => t.textContent),
            partsFill: box.width === root.width.baseVal.value && right.x + right.width === box.width,
          };
        })()`);
        assert.deepEqual(svg, {
          root: "svg",
          parseErrors: 0,
          texts: [label, label, message, message],
          partsFill: true,
        }, file);
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
