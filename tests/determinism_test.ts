import assert from "assert";
import { setupBackend } from "../harness/backend/backend.ts";
import { loadReplication } from "../harness/replications.ts";
import { replicate } from "../harness/train/replicate.ts";
import type { Results } from "../harness/results/result.ts";

/** Everything a rerun measures except wall-clock times. */
function metrics(r: Results) {
  return r.runs.map((run) => ({
    seed: run.seed,
    params: run.params,
    epochs: run.epochs.map(({ seconds: _s, evalSeconds: _e, ...m }) => m),
  }));
}

Deno.test("same seed and backend give the same metrics; another seed does not", async () => {
  const backend = await setupBackend("wasm");
  const rep = await loadReplication("keras-dense");
  const opts = { protocols: ["slides"], epochs: 2, trainLimit: 3000, backend, command: "test" };
  const a = await replicate(rep, { ...opts, seeds: [7] });
  const b = await replicate(rep, { ...opts, seeds: [7] });
  const c = await replicate(rep, { ...opts, seeds: [8] });
  assert.deepEqual(metrics(a), metrics(b));
  assert.notDeepEqual(metrics(a)[0].epochs, metrics(c)[0].epochs);
  assert.ok(a.deviations.some((d) => d.includes("first 3000 training images")));
});

Deno.test("--jobs 2 (workers) gives the same runs as one process", async () => {
  const backend = await setupBackend("wasm");
  const rep = await loadReplication("keras-dense");
  const opts = {
    seeds: [3, 4],
    protocols: ["slides"],
    epochs: 1,
    trainLimit: 2000,
    backend,
    command: "test",
    data: { dataDir: Deno.env.get("CLAIMCHECK_DATA_DIR") },
  };
  const sequential = await replicate(rep, opts);
  const parallel = await replicate(rep, { ...opts, jobs: 2 });
  assert.deepEqual(metrics(parallel), metrics(sequential));
  assert.deepEqual(parallel.runs.map((r) => r.seed), [3, 4]);
});
