import assert from "assert";
import { targetOf, timeToTarget } from "../harness/score/time_to_accuracy.ts";
import { EventLineSchema, eventLog } from "../harness/report/event_log.ts";
import { epochRecord, type Run } from "../harness/results/result.ts";
import { fixtureResults } from "./_fixtures.ts";

const claim = {
  metric: "test_acc",
  better: "higher",
  claimed: 0.97,
  compare: "approx",
  epsilon: 0.005,
} as const;

/** A run whose epochs end at these seconds after run_start with these test accuracies. */
function run(seed: number, accs: number[], every = 10): Run {
  const t0 = 1_000_000;
  return {
    ...fixtureResults().runs[0],
    seed,
    epochs: accs.map((value, i) => epochRecord(i + 1, { test_acc: value }, every - 1, 1)),
    events: [
      { time: t0 - 100, key: "init_start" },
      { time: t0, key: "run_start" },
      ...accs.map((value, i) => ({
        time: t0 + every * 1000 * (i + 1),
        key: "eval_accuracy" as const,
        epoch: i + 1,
        value,
      })),
    ],
  };
}

Deno.test("targets: final test accuracies only, at claimed − ε", () => {
  assert.equal(targetOf(claim), 0.965);
  assert.equal(targetOf({ ...claim, compare: "atLeast" }), 0.965);
  assert.equal(targetOf({ ...claim, epoch: 3 }), null);
  assert.equal(targetOf({ ...claim, metric: "test_loss", better: "lower" }), null);
  assert.equal(targetOf({ ...claim, metric: "train_acc" }), null, "a test-set metric only");
  assert.equal(targetOf({ ...claim, metric: "test_acc.sum_units" }), 0.965, "any test accuracy");
  assert.equal(targetOf({ ...claim, compare: "fails" }), null);
});

Deno.test("time to target: first evaluation at or above it, per seed", () => {
  const t = timeToTarget(claim, [run(1, [0.9, 0.965, 0.97]), run(2, [0.96, 0.96])])!;
  assert.deepEqual(t.perSeed, [
    { seed: 1, seconds: 20, epochs: 2 },
    { seed: 2, seconds: null, epochs: null },
  ]);
  assert.equal(t.olympicSeconds, null, "with n < 3 every run must reach the target");
});

Deno.test("olympic mean drops the fastest and slowest; one miss counts as slowest", () => {
  const runs = [1, 2, 3, 4, 5].map((s) => run(s, [0.97], s * 10));
  assert.equal(timeToTarget(claim, runs)!.olympicSeconds, 30);
  const oneMiss = [...runs.slice(0, 4), run(5, [0.9])];
  assert.equal(timeToTarget(claim, oneMiss)!.olympicSeconds, 30, "drops 10 s and the miss");
  const twoMiss = [...runs.slice(0, 3), run(4, [0.9]), run(5, [0.9])];
  assert.equal(timeToTarget(claim, twoMiss)!.olympicSeconds, null);
});

Deno.test("the event log is one valid JSON object per line, per run and event", () => {
  const results = fixtureResults();
  const lines = eventLog(results).trimEnd().split("\n");
  const events = results.runs.reduce((n, r) => n + r.events.length, 0);
  assert.equal(lines.length, events);
  for (const line of lines) EventLineSchema.parse(JSON.parse(line));
  const first = JSON.parse(lines[0]);
  assert.equal(first.replication, results.replication);
  assert.equal(first.key, "init_start");
  assert.throws(() => EventLineSchema.parse({ ...first, key: "coffee_break" }));
});
