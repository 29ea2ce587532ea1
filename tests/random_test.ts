import assert from "assert";
import { deriveSeed, mulberry32, shuffledIndices } from "../harness/util/random.ts";

Deno.test("shuffledIndices is a seeded permutation", () => {
  const a = shuffledIndices(1000, mulberry32(42));
  const b = shuffledIndices(1000, mulberry32(42));
  const c = shuffledIndices(1000, mulberry32(43));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
});

Deno.test("deriveSeed separates streams by label", () => {
  assert.equal(deriveSeed(1, "shuffle", 3), deriveSeed(1, "shuffle", 3));
  assert.notEqual(deriveSeed(1, "shuffle", 3), deriveSeed(1, "shuffle", 4));
  assert.notEqual(deriveSeed(1, "shuffle", 3), deriveSeed(2, "shuffle", 3));
});
