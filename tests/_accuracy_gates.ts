/**
 * The accuracy gate: every gate in every replication's spec.json is rerun with its seeds and
 * budget (epochs, training images), and its threshold asserted. Thresholds live in the specs, not
 * here. Before its gates, every replication passes the determinism probe: a short rerun trained
 * twice gives the same numbers, so no randomness outside its seed hides in the figures the gates
 * read.
 *
 * The replications are dealt round-robin to several test files (`accuracy_gate_<i>_test.ts`), so
 * that `deno test --parallel` trains them on every core instead of one file holding one core.
 */
import assert from "assert";
import { setupBackend } from "../harness/backend/backend.ts";
import { listReplications, loadReplication } from "../harness/replications.ts";
import { replicate } from "../harness/pipeline/replicate.ts";
import { betterOf } from "../harness/score/claims.ts";
import { probeDeterminism, probeText } from "../harness/train/determinism.ts";

/** Registers the determinism probe and the gates of every `shards`-th replication from `shard`. */
export async function defineGates(shard: number, shards: number): Promise<void> {
  const names = (await listReplications()).filter((_, i) => i % shards === shard);
  for (const name of names) await _defineGatesOf(name);
}

async function _defineGatesOf(name: string) {
  const rep = await loadReplication(name);
  Deno.test(`determinism ${name}: a short rerun trained twice gives the same numbers`, async () => {
    await setupBackend("wasm");
    const probe = await probeDeterminism(rep);
    console.log(probeText(probe));
    assert.deepEqual(probe.failures, [], probeText(probe));
    assert.deepEqual(probe.differences, [], probeText(probe));
  });
  for (const gate of rep.spec.gates) {
    const claim = rep.spec.claims.find((c) => c.id === gate.claim)!;
    // An upper bound for "at most" and "fails" claims and for metrics where lower is better.
    const upper = claim.compare === "atMost" || claim.compare === "fails" ||
      claim.compare === "approx" && betterOf(rep.spec, claim) === "lower";
    const dir = upper ? "≤" : "≥";
    Deno.test(`gate ${name}/${claim.id}: ${claim.metric} ${dir} ${gate.threshold}`, async () => {
      const backend = await setupBackend("wasm");
      const results = await replicate(rep, {
        seeds: gate.seeds,
        protocols: [claim.protocol],
        epochs: gate.epochs,
        trainLimit: gate.trainImages,
        backend,
        command: "deno test (gate)",
      });
      const result = results.claims.find((c) => c.id === claim.id)!;
      const seconds = results.runs.map((r) => r.trainSeconds.toFixed(0)).join(", ");
      console.log(
        `${name}/${claim.id}: ${result.values.map((v) => v?.toFixed(4)).join(", ")} ` +
          `(claimed ${claim.claimed}; ${result.verdict}; train ${seconds} s on ${backend.name})`,
      );
      for (const value of result.values) {
        assert.ok(value !== null, `${name}/${claim.id}: a run diverged`);
        if (dir === "≥") assert.ok(value >= gate.threshold, `${value} < ${gate.threshold}`);
        else assert.ok(value <= gate.threshold, `${value} > ${gate.threshold}`);
      }
    });
  }
}
