import assert from "assert";
import { verdictFor } from "../harness/verdict.ts";

const acc = { metric: "test_acc", claimed: 0.97, compare: "approx", epsilon: 0.005 } as const;

Deno.test("approx: within ε reproduces, above is better, below is not", () => {
  assert.equal(verdictFor(acc, [0.966]).verdict, "reproduced");
  assert.equal(verdictFor(acc, [0.974, 0.972]).verdict, "reproduced");
  assert.equal(verdictFor(acc, [0.98]).verdict, "reproduced (better)");
  assert.equal(verdictFor(acc, [0.96]).verdict, "not reproduced");
});

Deno.test("approx on a loss: lower is better", () => {
  const loss = { metric: "test_loss", claimed: 0.1, compare: "approx", epsilon: 0.01 } as const;
  assert.equal(verdictFor(loss, [0.05]).verdict, "reproduced (better)");
  assert.equal(verdictFor(loss, [0.2]).verdict, "not reproduced");
});

Deno.test("two-sided claims and counts have no better side", () => {
  assert.equal(verdictFor({ ...acc, twoSided: true }, [0.99]).verdict, "not reproduced");
  const params = { metric: "params", claimed: 50890, compare: "approx", epsilon: 0 } as const;
  assert.equal(verdictFor(params, [50890]).verdict, "reproduced");
  assert.equal(verdictFor(params, [50891]).verdict, "not reproduced");
});

Deno.test("atLeast and atMost", () => {
  const atLeast = { ...acc, compare: "atLeast" } as const;
  assert.equal(verdictFor(atLeast, [0.966]).verdict, "reproduced");
  assert.equal(verdictFor(atLeast, [0.99]).verdict, "reproduced (better)");
  assert.equal(verdictFor(atLeast, [0.9]).verdict, "not reproduced");
  const atMost = { metric: "test_loss", claimed: 0.1, compare: "atMost", epsilon: 0.01 } as const;
  assert.equal(verdictFor(atMost, [0.105]).verdict, "reproduced");
  assert.equal(verdictFor(atMost, [0.2]).verdict, "not reproduced");
});

Deno.test("fails: a claim that the model fails", () => {
  const fails = { metric: "test_acc", claimed: 0.3, compare: "fails", epsilon: 0 } as const;
  assert.equal(verdictFor(fails, [0.11]).verdict, "fails as claimed");
  assert.equal(verdictFor(fails, [0.8]).verdict, "not reproduced");
});

Deno.test("NaN or Inf is diverged, and the evidence names n and the mean", () => {
  assert.equal(verdictFor(acc, [0.97, NaN]).verdict, "diverged");
  assert.equal(verdictFor(acc, []).verdict, "diverged");
  assert.match(
    verdictFor(acc, [0.97, 0.968]).evidence,
    /n=2, mean 0\.9690; claimed 0\.9700 ± 0\.005/,
  );
});
