import assert from "assert";
import { verdictFor } from "../harness/score/verdict.ts";
import { seedsToDecide, summarize, tQuantile975 } from "../harness/score/stats.ts";

const acc = { better: "higher", claimed: 0.97, compare: "approx", epsilon: 0.005 } as const;

Deno.test("summarize: mean, sample sd, Student-t interval, olympic mean", () => {
  const s = summarize([1, 2, 3, 4, 10]);
  assert.equal(s.mean, 4);
  assert.ok(Math.abs(s.sd - Math.sqrt(12.5)) < 1e-12);
  const half = 2.776 * Math.sqrt(12.5) / Math.sqrt(5);
  assert.ok(Math.abs(s.ci95![0] - (4 - half)) < 1e-12 && Math.abs(s.ci95![1] - (4 + half)) < 1e-12);
  assert.equal(s.olympicMean, 3);
  assert.deepEqual([s.min, s.max, s.n], [1, 10, 5]);
  assert.equal(summarize([0.5]).ci95, null);
  assert.equal(summarize([1, 3]).olympicMean, 2);
  assert.equal(tQuantile975(4), 2.776);
  assert.ok(Math.abs(tQuantile975(1000) - 1.962) < 0.001);
});

Deno.test("seedsToDecide: the n whose interval stops reaching the boundary", () => {
  // sd 1, boundary 1 away: t(n-1)/sqrt(n) < 1 first at n = 7 (2.447/√7 = 0.925; n=6: 1.049).
  assert.equal(seedsToDecide(1, 1), 7);
  assert.equal(seedsToDecide(1, 0), null);
});

Deno.test("one seed: the value itself decides", () => {
  assert.equal(verdictFor(acc, [0.966]).verdict, "reproduced");
  assert.equal(verdictFor(acc, [0.965]).verdict, "reproduced", "the band's ends are inside");
  assert.equal(verdictFor(acc, [0.98]).verdict, "reproduced (better)");
  assert.equal(verdictFor(acc, [0.96]).verdict, "not reproduced");
  assert.match(verdictFor(acc, [0.96]).evidence, /one seed: no interval/);
});

Deno.test("several seeds: the 95% interval must lie in one region", () => {
  assert.equal(verdictFor(acc, [0.969, 0.970, 0.971, 0.970, 0.970]).verdict, "reproduced");
  assert.equal(verdictFor(acc, [0.985, 0.986, 0.984]).verdict, "reproduced (better)");
  assert.equal(verdictFor(acc, [0.95, 0.951, 0.949]).verdict, "not reproduced");
  const straddle = verdictFor(acc, [0.961, 0.967, 0.963]);
  assert.equal(straddle.verdict, "inconclusive");
  assert.match(straddle.evidence, /crosses 0\.9650; about \d+ more seed\(s\) would decide/);
});

Deno.test("approx on a loss: lower is better", () => {
  const loss = { better: "lower", claimed: 0.1, compare: "approx", epsilon: 0.01 } as const;
  assert.equal(verdictFor(loss, [0.05]).verdict, "reproduced (better)");
  assert.equal(verdictFor(loss, [0.2]).verdict, "not reproduced");
});

Deno.test("two-sided claims and counts have no better side", () => {
  assert.equal(verdictFor({ ...acc, twoSided: true }, [0.99]).verdict, "not reproduced");
  const params = { better: "neither", claimed: 50890, compare: "approx", epsilon: 0 } as const;
  assert.equal(verdictFor(params, [50890, 50890, 50890]).verdict, "reproduced");
  assert.equal(verdictFor(params, [50891]).verdict, "not reproduced");
});

Deno.test("atLeast: the interval's lower bound decides", () => {
  const atLeast = { ...acc, compare: "atLeast" } as const;
  assert.equal(verdictFor(atLeast, [0.966]).verdict, "reproduced");
  assert.equal(verdictFor(atLeast, [0.99, 0.991, 0.989]).verdict, "reproduced (better)");
  assert.equal(verdictFor(atLeast, [0.972, 0.98, 0.976]).verdict, "reproduced", "spans the band");
  assert.equal(verdictFor(atLeast, [0.9, 0.91, 0.905]).verdict, "not reproduced");
  assert.equal(verdictFor(atLeast, [0.955, 0.975, 0.965]).verdict, "inconclusive");
  const atMost = { metric: "test_loss", claimed: 0.1, compare: "atMost", epsilon: 0.01 } as const;
  assert.equal(verdictFor(atMost, [0.105]).verdict, "reproduced");
  assert.equal(verdictFor(atMost, [0.2]).verdict, "not reproduced");
});

Deno.test("fails: a claim that the model fails", () => {
  const fails = { metric: "test_acc", claimed: 0.3, compare: "fails", epsilon: 0 } as const;
  assert.equal(verdictFor(fails, [0.11, 0.1, 0.12]).verdict, "fails as claimed");
  assert.equal(verdictFor(fails, [0.8]).verdict, "not reproduced");
  assert.equal(verdictFor(fails, [0.1, 0.5, 0.3]).verdict, "inconclusive");
});

Deno.test("NaN or Inf is diverged, and the evidence names n, the mean and the interval", () => {
  assert.equal(verdictFor(acc, [0.97, NaN]).verdict, "diverged");
  assert.equal(verdictFor(acc, []).verdict, "diverged");
  assert.match(
    verdictFor(acc, [0.97, 0.968]).evidence,
    /^n=2, mean 0\.9690, 95% CI \[0\.9563, 0\.9817\]; claimed 0\.9700, approx with ε 0\.005/,
  );
});
