/**
 * claimcheck: rerun published claims about small neural networks and say, with evidence,
 * whether each one holds.
 *
 * The command line (`deno task replicate <name> | --all`, `report`, `merge`, `new`, `verify`)
 * covers the usual work; this module exposes the same pieces for scripts and tests. A
 * replication's own code imports `claimcheck/plugin` instead (harness/plugin.ts, the contract
 * for model.ts, by the name deno.json's import map gives it); its types are re-exported here.
 *
 * Decide a claim from reproduced values:
 *
 * ```ts
 * import { verdictFor } from "./mod.ts";
 *
 * const claim = { better: "higher", claimed: 0.9714, compare: "approx", epsilon: 0.005 } as const;
 * const { verdict } = verdictFor(claim, [0.9731, 0.9702, 0.9715]);
 * if (verdict !== "reproduced") throw new Error(verdict);
 * ```
 *
 * Load and validate a replication folder (spec.json, and model.ts against it) and list the runs
 * a rerun of one protocol trains; `replicate(rep, { seeds: [1, 2], protocols: ["slides"],
 * backend: await setupBackend("auto"), command: "example" })` trains them and scores its claims:
 *
 * ```ts
 * import { loadReplication, runGrid } from "./mod.ts";
 *
 * const rep = await loadReplication("keras-dense");
 * const runs = runGrid(rep.spec, [1, 2], ["slides"]);
 * if (runs.map((r) => `${r.protocol}#${r.seed}`).join() !== "slides#1,slides#2") {
 *   throw new Error("two seeds of slides");
 * }
 * ```
 *
 * Validate a spec written in a blog post's spirit (a protocol, a claim) without running it:
 *
 * ```ts
 * import { parseSpec } from "./mod.ts";
 *
 * const spec = parseSpec({
 *   version: 2,
 *   name: "demo",
 *   title: "A dense net gets 97 %",
 *   sources: [{ id: "post", url: "https://example.com/post", title: "a post" }],
 *   protocols: [{
 *     id: "stated", source: "post", description: "as stated", model: "dense", dataset: "mnist",
 *     loss: "categoricalCrossentropy", optimizer: { name: "adam" }, batchSize: 32, epochs: 5,
 *   }],
 *   claims: [{
 *     id: "acc", source: "post", where: "results", statement: "97 %", protocol: "stated",
 *     metric: "test_acc", claimed: 0.97, compare: "atLeast", epsilon: 0.005,
 *   }],
 *   defaultSeeds: 3,
 * }, "demo/spec.json");
 * if (spec.protocols[0].kind !== "layers") throw new Error("a layers protocol");
 * ```
 * @module
 */
export {
  type BackendChoice,
  type BackendInfo,
  BACKENDS,
  setupBackend,
} from "./harness/backend/backend.ts";
export {
  checkDataDirs,
  type DataOptions,
  type ImageDataset,
  type ImageSet,
  loadDigits,
  type LoadedFile,
  loadFashionMnist,
  loadMnist,
  type TableDataset,
} from "./harness/data/datasets.ts";
export { DataError, type DataErrorKind } from "./harness/data/data_error.ts";
export { listReplications, loadReplication, type Replication } from "./harness/replications.ts";
export type * from "./harness/plugin.ts";
export { newReplication, newReplicationFrom, type SnippetSource } from "./harness/commands/new.ts";
export type { ImportedReplication } from "./harness/import/import_snippet.ts";
export { loadSpec, parseSpec } from "./harness/spec/load_spec.ts";
export {
  type Augmentation,
  type Better,
  type Claim,
  type Compare,
  type CustomProtocol,
  type DerivedMetric,
  type EarlyStopping,
  type Gate,
  type LayersProtocol,
  type LossName,
  type Metric,
  type Optimizer,
  type OptimizerName,
  type Output,
  type OutputMetric,
  type Protocol,
  type ProtocolBase,
  type ReplicationSpec,
  type Scaling,
  type Source,
  SPEC_VERSION,
  SpecError,
  type TopKMetric,
} from "./harness/spec/spec.ts";
export {
  type ExponentialDecay,
  type LearningRateSchedule,
  type PiecewiseConstantDecay,
  type ReduceLROnPlateau,
  scheduledLearningRate,
} from "./harness/spec/schedules.ts";
export {
  type KerasFamily,
  kerasFamily,
  OPTIMIZER_NAMES,
  type OptimizerRun,
  optimizerRun,
} from "./harness/spec/optimizers.ts";
export { type PixelScalingRun, type ScalingRun } from "./harness/spec/scaling.ts";
export { FILL_MODES, type FillMode } from "./harness/spec/augmentation.ts";
export { replicate, type ReplicateOptions } from "./harness/pipeline/replicate.ts";
export { runGrid, selectProtocols } from "./harness/train/plan.ts";
export type { Progress } from "./harness/train/loop.ts";
export type { RunFailure, RunTask, TrainSettings } from "./harness/train/trainer.ts";
export {
  type RerunDifference,
  resultsFile,
  type RunKey,
  runKey,
  type RunProvenance,
  RunStore,
  variantOf,
  type VariantSettings,
  variantSettings,
} from "./harness/results/run_store.ts";
export { withStoredRuns } from "./harness/score/merge.ts";
export {
  compareProvenance,
  compareRuns,
  CROSS_BACKEND_TOLERANCE,
  type FieldComparison,
  type FieldValue,
  type ProvenanceField,
} from "./harness/results/compare_runs.ts";
export { type Verification, type VerifyOptions, verifyRun } from "./harness/commands/verify.ts";
export { type GitCommit, gitCommit } from "./harness/util/git_commit.ts";
export { type LockOptions, withLock } from "./harness/util/with_lock.ts";
export {
  type ClaimResult,
  type DatasetProvenance,
  type Epoch,
  type EventKey,
  type LearningRateRecord,
  loadResults,
  parseResults,
  type Results,
  RESULTS_SCHEMA,
  type Run,
  type RunEvent,
  type Summary,
  type TestPredictions,
  type Verdict,
} from "./harness/results/result.ts";
export { parseShard, type Shard, shardItems } from "./harness/results/shard.ts";
export { mergeShards } from "./harness/score/merge.ts";
export { claimResults } from "./harness/score/claims.ts";
export { type ClaimRule, verdictFor } from "./harness/score/verdict.ts";
export { summarize } from "./harness/score/stats.ts";
export {
  buildSite,
  type SiteBuild,
  type SiteOptions,
  type SiteReplication,
  type SiteSkip,
} from "./harness/report/site.ts";
export { mulberry32, type Rng, SeededMathRandom, shuffledIndices } from "./harness/util/random.ts";
export {
  type DeterminismProbe,
  PROBE_SETTINGS,
  probeDeterminism,
  probeProtocols,
  probeText,
} from "./harness/train/determinism.ts";
