/**
 * Seeded randomness in any model: each random layer of tfjs-layers 4.22 (Dropout,
 * SpatialDropout1D, GaussianNoise, GaussianDropout, AlphaDropout), an augmentation of a
 * replication's own and a custom trainer's tf.randomNormal, none given a seed, draw the same
 * numbers for the same run seed and new ones at every step (fixture
 * tests/fixtures/replications/random-layers: 32 training images, batches of 8, 2 epochs).
 */
import assert from "assert";
import { fileURLToPath } from "node:url";
import { setupBackend } from "../harness/backend/backend.ts";
import { loadReplication } from "../harness/replications.ts";
import type { Run } from "../harness/results/result.ts";
import { Trainer } from "../harness/train/trainer.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/replications", import.meta.url));
const platformRandom = Math.random;

await setupBackend("wasm");
const rep = await loadReplication("random-layers", FIXTURES);
const trainer = new Trainer(rep, {
  epochs: 2,
  trainLimit: 32,
  data: { dataDir: Deno.env.get("CLAIMCHECK_DATA_DIR") },
});

/** What a run drew at each training step, and its final weights. */
function drawsOf(run: Run): { drawn: number[][]; weights: number[][] } {
  return run.artifacts as { drawn: number[][]; weights: number[][] };
}

for (const protocol of rep.spec.protocols.map((p) => p.id)) {
  Deno.test(`${protocol}: the same seed draws the same numbers, new ones at each step`, async () => {
    const first = drawsOf(await trainer.run({ protocol, seed: 1 }));
    const again = drawsOf(await trainer.run({ protocol, seed: 1 }));
    const other = drawsOf(await trainer.run({ protocol, seed: 2 }));
    assert.equal(first.drawn.length, 8, "2 epochs of 4 steps");
    assert.deepEqual(again.drawn, first.drawn, "seed 1 drew other numbers the second time");
    assert.deepEqual(again.weights, first.weights, "seed 1 trained other weights the second time");
    for (let s = 1; s < first.drawn.length; s++) {
      assert.notDeepEqual(first.drawn[s], first.drawn[s - 1], `step ${s + 1} drew step ${s}'s`);
    }
    assert.notDeepEqual(other.drawn, first.drawn, "seed 2 drew seed 1's numbers");
    assert.equal(Math.random, platformRandom, "Math.random was not given back after the run");
  });
}
