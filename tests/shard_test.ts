import assert from "assert";
import { parseShard, shardItems } from "../harness/results/shard.ts";
import { mergeShards } from "../harness/score/merge.ts";
import type { Results } from "../harness/results/result.ts";
import { fixtureResults, fixtureSpec } from "./_fixtures.ts";

Deno.test("parseShard accepts i/n and rejects the rest with the flag's name", () => {
  assert.deepEqual(parseShard("2/4"), { index: 2, count: 4 });
  for (const bad of ["0/4", "5/4", "2", "a/b", "1/0"]) {
    assert.throws(() => parseShard(bad), /--shard: .* is not i\/n/);
  }
});

Deno.test("the shards of a grid cover every cell exactly once", () => {
  const grid = Array.from({ length: 11 }, (_, i) => i);
  const parts = [1, 2, 3].map((index) => shardItems(grid, { index, count: 3 }));
  assert.deepEqual(parts.flat().sort((a, b) => a - b), grid);
  assert.deepEqual(parts[0], [0, 3, 6, 9]);
});

function shardsOf(full: Results, count: number): Results[] {
  return [1, 2].slice(0, count).map((index) => ({
    ...full,
    shard: { index, count },
    runs: shardItems(full.runs, { index, count }),
    claims: [],
  }));
}

Deno.test("merging shards gives back the whole grid's runs and claims", () => {
  const full = fixtureResults();
  const merged = mergeShards(shardsOf(full, 2).reverse(), fixtureSpec());
  assert.deepEqual(merged.runs, full.runs);
  assert.equal(merged.shard, null);
  assert.deepEqual(merged.claims.map((c) => [c.id, c.values.length]), [
    ["final-acc", 2],
    ["sgd-acc-e2", 2],
    ["bad-acc", 2],
    ["params", 2],
    ["sgd-loss", 2],
    ["lr-too-high", 2],
  ]);
});

Deno.test("merge refuses missing, doubled or mismatched shards", () => {
  const [a, b] = shardsOf(fixtureResults(), 2);
  assert.throws(() => mergeShards([a], fixtureSpec()), /missing runs: adam-b32 seed 2/);
  assert.throws(() => mergeShards([a, b, a], fixtureSpec()), /ran twice/);
  const other = { ...b, backend: { ...b.backend, name: "cpu" as const } };
  assert.throws(() => mergeShards([a, other], fixtureSpec()), /backend differs/);
});

Deno.test("merge refuses shards of another variant, spec, code, data or tfjs, in either order", () => {
  const [a, b] = shardsOf(fixtureResults(), 2);
  const code = (sha256: string) => ({ sha256, files: ["replication:model.ts"] });
  const unlike: [Results, RegExp][] = [
    [{ ...b, variant: "epochs-5" }, /variant differs/],
    [{ ...b, spec: { ...b.spec, sha256: "other" } }, /spec sha256 differs/],
    [{ ...b, code: code("other") }, /code sha256 differs/],
    [{ ...b, datasets: [{ name: "mnist", files: [] }] }, /datasets differs/],
    [{ ...b, versions: { ...b.versions, tfjs: "4.21.0" } }, /tfjs differs/],
    [{ ...b, shard: { index: 2, count: 3 } }, /shard count differs/],
    [{ ...b, shard: { index: 1, count: 2 } }, /shard 1 given twice/],
  ];
  for (const [shard, why] of unlike) {
    assert.throws(() => mergeShards([{ ...a, code: code("same") }, shard], fixtureSpec()), why);
    assert.throws(() => mergeShards([shard, { ...a, code: code("same") }], fixtureSpec()), why);
  }
});

Deno.test("merge gives the same results whatever order the shards come in", () => {
  const [a, b] = shardsOf(fixtureResults(), 2);
  const tagged = [{ ...a, command: "shard one", deviations: ["x"] }, {
    ...b,
    command: "shard two",
    deviations: ["y"],
  }];
  const strip = (r: Results) => ({ ...r, createdAt: "" });
  assert.deepEqual(
    strip(mergeShards(tagged, fixtureSpec())),
    strip(mergeShards([...tagged].reverse(), fixtureSpec())),
  );
});
