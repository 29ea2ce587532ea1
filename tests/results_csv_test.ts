import assert from "assert";
import { reScienceTitle } from "../harness/report/report.ts";
import { CSV_COLUMNS, renderResultsCsv, type SiteEntry } from "../harness/report/site.ts";
import { parseCsv, siteFixtures } from "./_fixtures.ts";

/** The alpha fixture with text a spreadsheet would run as a formula, and negative numbers. */
function _hostileEntry(): SiteEntry {
  const { results, spec } = siteFixtures()[0];
  const [first, second] = results.claims;
  results.claims = [
    {
      ...first,
      id: "-2+3",
      source: "@SUM(A1)", // no such source in the spec: the column shows the id as it is
      statement: `=HYPERLINK("http://x","y")`,
      claimed: -0.5,
      epsilon: 1e-7,
      values: [-1e-5, -2, 3],
    },
    { ...second, id: "+1+2", source: "\tTAB", statement: "\rCR, then text" },
  ];
  results.backend = { ...results.backend, adapter: "-1e-5" }; // numeric text stays as it is
  results.gitCommit = "@evil";
  return { dir: results.replication, results, spec, title: reScienceTitle(results, spec) };
}

Deno.test("results.csv: formulas are neutralised with a leading quote, numbers are not", () => {
  const entry = _hostileEntry();
  const text = renderResultsCsv([entry]);
  const lines = text.split("\r\n");
  assert.equal(lines.at(-1), "", "ends with CRLF");
  assert.equal(lines[0], CSV_COLUMNS.join(","));
  const col = (row: string[], name: (typeof CSV_COLUMNS)[number]) => row[CSV_COLUMNS.indexOf(name)];

  // The first claim's first seed, as written: the text cells neutralised (and quoted where
  // RFC 4180 needs it), the numbers, negative ones included, as they are.
  const row = lines[1];
  assert.ok(
    row.startsWith(
      [
        "alpha-dense",
        entry.title.mark, // [¬Re]: the fixture's claims were renamed
        "'-2+3",
        "stated",
        "false",
        "'@SUM(A1)",
        `"'=HYPERLINK(""http://x"",""y"")"`,
        "test_acc",
        "",
        "-0.5",
        "approx",
        "1e-7",
        "1",
        "-0.00001",
        "3",
      ].join(",") + ",",
    ),
    row,
  );
  assert.ok(row.endsWith(",wasm,-1e-5,2025-01-02T10:20:30.000Z,'@evil"), row);
  // Every seed of that claim: the same neutralised text, its own negative value.
  const rows = parseCsv(lines.join("\r\n")).slice(1);
  assert.deepEqual(rows.slice(0, 3).map((r) => col(r, "value")), ["-0.00001", "-2", "3"]);
  assert.deepEqual(rows.slice(0, 3).map((r) => col(r, "claim")), ["'-2+3", "'-2+3", "'-2+3"]);
  assert.deepEqual(rows.slice(0, 3).map((r) => col(r, "statement")), [
    `'=HYPERLINK("http://x","y")`,
    `'=HYPERLINK("http://x","y")`,
    `'=HYPERLINK("http://x","y")`,
  ]);

  // Tab and carriage return at the start are neutralised too; the CR still forces quoting.
  assert.ok(text.includes(`,'+1+2,`), "+1+2");
  assert.ok(text.includes(`,'\tTAB,`), "tab");
  assert.ok(text.includes(`,"'\rCR, then text",`), "carriage return, quoted");
  // No cell starts with a formula character unless it is a number.
  for (const r of rows) {
    for (const cell of r) {
      assert.ok(
        !/^[=+@\t\r]/.test(cell) && (!cell.startsWith("-") || !isNaN(Number(cell))),
        `cell ${JSON.stringify(cell)}`,
      );
    }
  }
});
