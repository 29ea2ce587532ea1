/** Test fixtures: a small results record and the spec its claims come from. */
import assert from "assert";
import { epochRecord, type Results } from "../harness/results/result.ts";
import { betterOf, claimValue } from "../harness/score/claims.ts";
import { summarize } from "../harness/score/stats.ts";
import { parseSpec } from "../harness/spec/load_spec.ts";
import type { ReplicationSpec } from "../harness/spec/spec.ts";
import { timeToTarget } from "../harness/score/time_to_accuracy.ts";

export const HOSTILE = `<script>alert(1)</script> & "quotes"`;

/** A small rerun: 2 protocols × 2 seeds × 3 epochs, and claims covering every verdict colour. */
function _withStats(c: Omit<Results["claims"][number], "stats">): Results["claims"][number] {
  return { ...c, stats: summarize(c.values as number[]) };
}

/** Epoch records with the four standard metrics. */
function _epoch(
  epoch: number,
  m: { trainLoss: number; trainAcc: number; testLoss: number; testAcc: number },
  seconds: number,
  evalSeconds: number,
) {
  return epochRecord(
    epoch,
    {
      train_loss: m.trainLoss,
      train_acc: m.trainAcc,
      test_loss: m.testLoss,
      test_acc: m.testAcc,
    },
    seconds,
    evalSeconds,
  );
}

/** The fixtures' provenance fields. */
const _PROVENANCE = {
  schema: 2 as const,
  spec: { version: 2, sha256: "ef".repeat(32) },
  gitCommit: "0123456789abcdef0123456789abcdef01234567",
  versions: { deno: "2.9.6", v8: "13.0", tfjs: "4.22.0" },
  setupSeconds: 1.25,
};

/** The event log of a run whose epochs each take 2.8 s and reach these test accuracies. */
function _events(accs: number[], epochMs = 2800): Results["runs"][number]["events"] {
  const t0 = Date.UTC(2025, 0, 1);
  const train = epochMs - 300;
  return [
    { time: t0 - 500, key: "init_start" },
    { time: t0 - 80, key: "init_stop" },
    { time: t0, key: "run_start" },
    ...accs.flatMap((acc, i) => [
      { time: t0 + epochMs * i, key: "epoch_start" as const, epoch: i + 1 },
      { time: t0 + epochMs * i + train, key: "epoch_stop" as const, epoch: i + 1, value: 1 - acc },
      { time: t0 + epochMs * (i + 1), key: "eval_accuracy" as const, epoch: i + 1, value: acc },
    ]),
    { time: t0 + epochMs * accs.length, key: "run_stop", value: "success" },
  ];
}

export function fixtureResults(): Results {
  const protocols = [["adam-b32", 0.9], ["sgd-b128", 0.8]] as const;
  const runs = protocols.flatMap(([protocol, base]) =>
    [1, 2].map((seed) => ({
      protocol,
      seed,
      params: 101_770,
      epochsPlanned: 3,
      epochs: [1, 2, 3].map((epoch) => {
        const acc = base + 0.03 * epoch + 0.004 * seed;
        return _epoch(
          epoch,
          {
            trainLoss: 1 - acc,
            trainAcc: acc - 0.01,
            testLoss: 1.1 - acc,
            testAcc: acc,
          },
          2.5,
          0.3,
        );
      }),
      finalEpoch: 3,
      earlyStop: null,
      warmupSeconds: 0.42,
      trainSeconds: 7.5,
      samplesPerSecond: 24_000.4,
      diverged: null,
      events: _events([1, 2, 3].map((epoch) => base + 0.03 * epoch + 0.004 * seed)),
    }))
  );
  const claim = (c: Partial<Results["claims"][number]>) =>
    _withStats({
      timeToTarget: null,
      id: "x",
      source: "002",
      statement: "After training, the network reaches about 98% accuracy on the test set.",
      protocol: "adam-b32",
      metric: "test_acc" as const,
      better: "higher" as const,
      epoch: null,
      claimed: 0.98,
      compare: "approx" as const,
      epsilon: 0.005,
      seeds: [1, 2],
      values: [0.994, 0.998],
      mean: 0.996,
      verdict: "reproduced" as const,
      evidence: "n=2, mean 0.9960; claimed 0.9800 ± 0.005: off by 0.0160",
      ...c,
    });
  return {
    ..._PROVENANCE,
    replication: "keras-dense",
    title: "Keras dense MNIST",
    createdAt: "2025-01-01T00:00:00.000Z",
    command: "deno task replicate keras-dense --epochs 3",
    backend: { name: "wasm", adapter: null, fallbackAdapter: null, note: "no WebGPU adapter" },
    datasets: [{
      name: "mnist",
      files: [{ file: "t10k-images-idx3-ubyte.gz", sha256: "ab".repeat(32) }],
    }],
    grid: runs.map(({ protocol, seed }) => ({ protocol, seed })),
    shard: null,
    deviations: ["--epochs 3 instead of 5"],
    runs,
    claims: [
      claim({ id: "final-acc", statement: HOSTILE }),
      claim({
        id: "sgd-acc-e2",
        protocol: "sgd-b128",
        epoch: 2,
        claimed: 0.85,
        compare: "atLeast",
        values: [0.864, 0.868],
        mean: 0.866,
        verdict: "reproduced (better)",
      }),
      claim({ id: "bad-acc", claimed: 0.999, values: [0.994, 0.998], verdict: "not reproduced" }),
      claim({
        id: "params",
        metric: "params",
        better: "neither",
        claimed: 101_770,
        epsilon: 0,
        values: [101_770, 101_770],
        mean: 101_770,
      }),
      claim({
        id: "sgd-loss",
        protocol: "sgd-b128",
        metric: "test_loss",
        better: "lower",
        claimed: 0.2,
        compare: "atMost",
        values: [0.206, 0.202],
        mean: 0.204,
        verdict: "diverged",
      }),
      claim({
        id: "lr-too-high",
        protocol: "sgd-b128",
        metric: "train_acc",
        claimed: 0.2,
        compare: "fails",
        epsilon: 0.05,
        values: [0.11, 0.1],
        mean: 0.105,
        verdict: "fails as claimed",
      }),
    ],
  };
}

/** The spec the fixture claims come from. */
export function fixtureSpec(): ReplicationSpec {
  const protocol = (id: string, name: "adam" | "sgd") => ({
    id,
    source: "002",
    description: `${id} as in the source`,
    model: "dense",
    dataset: "mnist",
    optimizer: { name },
    loss: "categoricalCrossentropy",
    batchSize: 32,
    epochs: 3,
  });
  return parseSpec({
    version: 2,
    name: "keras-dense",
    title: "Keras dense network on MNIST",
    sources: [{ id: "002", file: "002_5dcc19fec036a721.txt", title: "A <b>Keras</b> tutorial" }],
    protocols: [protocol("adam-b32", "adam"), protocol("sgd-b128", "sgd")],
    claims: fixtureResults().claims.map((c) => ({
      id: c.id,
      source: c.source,
      where: "model.evaluate output",
      statement: c.statement,
      protocol: c.protocol,
      metric: c.metric,
      ...(c.epoch === null ? {} : { epoch: c.epoch }),
      claimed: c.claimed,
      compare: c.compare,
      epsilon: c.epsilon,
      twoSided: c.metric === "params",
    })),
    defaultSeeds: 2,
    gates: [],
  }, "fixture spec.json");
}

/** One replication of the site fixture: its results.json content and its spec. */
export interface SiteFixture {
  results: Results;
  spec: ReplicationSpec;
}

type _SpecClaim = ReplicationSpec["claims"][number];
type _Verdict = Results["claims"][number]["verdict"];

/** A run of `protocol` whose test accuracy after epoch e is acc(e); loss falls with it. */
function _siteRun(
  protocol: string,
  seed: number,
  acc: (epoch: number) => number,
  epochs: number,
  epochMs: number,
): Results["runs"][number] {
  const accs = Array.from({ length: epochs }, (_, i) => acc(i + 1));
  return {
    protocol,
    seed,
    params: 50_890,
    epochsPlanned: epochs,
    epochs: accs.map((a, i) =>
      _epoch(
        i + 1,
        {
          trainLoss: 1.6 * (1 - a) + 0.01 * seed,
          trainAcc: a - 0.004,
          testLoss: 1.5 * (1 - a),
          testAcc: a,
        },
        (epochMs - 300) / 1000,
        0.3,
      )
    ),
    finalEpoch: epochs,
    earlyStop: null,
    warmupSeconds: 0.3 + 0.05 * seed,
    trainSeconds: (epochs * (epochMs - 300)) / 1000,
    samplesPerSecond: 60_000 / ((epochMs - 300) / 1000),
    diverged: null,
    events: _events(accs, epochMs),
  };
}

/** A claim result read from the runs the way the runner reads it, with a given verdict. */
function _siteClaim(
  spec: ReplicationSpec,
  claim: _SpecClaim,
  runs: Results["runs"],
  verdict: _Verdict,
  values?: number[],
): Results["claims"][number] {
  const mine = runs.filter((r) => r.protocol === claim.protocol);
  const vs = values ?? mine.map((r) => claimValue(claim, r)!);
  const stats = vs.length ? summarize(vs) : null;
  const better = betterOf(spec, claim);
  return {
    id: claim.id,
    source: claim.source,
    statement: claim.statement,
    protocol: claim.protocol,
    metric: claim.metric,
    better,
    epoch: claim.epoch ?? null,
    claimed: claim.claimed,
    compare: claim.compare,
    epsilon: claim.epsilon,
    seeds: vs.length ? mine.map((r) => r.seed) : [],
    values: vs,
    mean: stats?.mean ?? null,
    stats,
    verdict,
    evidence: stats
      ? `n=${stats.n}, mean ${stats.mean.toFixed(4)}; claimed ${claim.claimed} (${HOSTILE})`
      : `n=${mine.length}; a run produced NaN/Inf or no value`,
    timeToTarget: timeToTarget({ ...claim, better }, mine),
  };
}

function _siteSpec(
  name: string,
  title: string,
  protocols: { id: string; epochs: number; exploratory?: boolean }[],
  claims:
    (Omit<_SpecClaim, "source" | "where" | "twoSided" | "headline"> & { headline?: boolean })[],
): ReplicationSpec {
  return parseSpec({
    version: 2,
    name,
    title,
    sources: [
      { id: "001", file: "001_047e3bde729cdd55.txt", title: "A blog post with <em>markup</em>" },
      { id: "002", file: "002_5dcc19fec036a721.txt", title: "Lecture slides" },
    ],
    protocols: protocols.map((p) => ({
      id: p.id,
      source: "002",
      description: `${p.id}: Adam, batch 32, ${p.epochs} epochs <as stated>`,
      model: "dense",
      dataset: "mnist",
      optimizer: { name: "adam" },
      loss: "categoricalCrossentropy",
      batchSize: 32,
      epochs: p.epochs,
      exploratory: p.exploratory ?? false,
    })),
    claims: claims.map((c, i) => ({
      source: i % 2 ? "001" : "002",
      where: "model.evaluate output",
      twoSided: c.metric === "params",
      ...c,
    })),
    defaultSeeds: 3,
    gates: [],
  }, `${name}/spec.json`);
}

function _siteResults(
  spec: ReplicationSpec,
  runs: Results["runs"],
  claims: Results["claims"],
  backend: Results["backend"],
  createdAt: string,
): Results {
  return {
    ..._PROVENANCE,
    replication: spec.name,
    title: spec.title,
    createdAt,
    command: `deno task replicate ${spec.name} --seeds 3 --data-dir "/tmp/a b/<data>"`,
    backend,
    datasets: [{
      name: "mnist",
      files: [
        { file: "train-images-idx3-ubyte.gz", sha256: "ab".repeat(32) },
        { file: "t10k-images-idx3-ubyte.gz", sha256: "cd".repeat(32) },
      ],
    }],
    grid: runs.map(({ protocol, seed }) => ({ protocol, seed })),
    shard: null,
    deviations: [],
    runs,
    claims,
  };
}

/**
 * Two replications with 3 seeds each, for the site: "alpha-dense" holds on every stated claim
 * ([Re]; its one failing claim is on an exploratory sweep; `final-acc` is its headline),
 * "beta-conv" does not ([¬Re]: not reproduced, inconclusive and diverged claims, a time to
 * accuracy never reached, a WebGPU adapter, hostile text in the title and statements; no
 * headline marked, so the scoreboard leads with its stated claims).
 */
export function siteFixtures(): SiteFixture[] {
  const seeds = [1, 2, 3];
  const alphaSpec = _siteSpec("alpha-dense", "Alpha: a dense <i>MNIST</i> net", [
    { id: "stated", epochs: 4 },
    { id: "sweep-learning-rate-times-ten", epochs: 3, exploratory: true },
  ], [
    {
      id: "final-acc",
      statement: "After 4 epochs the test accuracy is 0.97 & more.",
      protocol: "stated",
      metric: "test_acc",
      claimed: 0.97,
      compare: "approx",
      epsilon: 0.01,
      headline: true,
    },
    {
      id: "curve-e2",
      statement: "Test accuracy after epoch 2 is 0.95.",
      protocol: "stated",
      metric: "test_acc",
      epoch: 2,
      claimed: 0.95,
      compare: "approx",
      epsilon: 0.02,
    },
    {
      id: "params",
      statement: "The model has 50,890 parameters.",
      protocol: "stated",
      metric: "params",
      claimed: 50_890,
      compare: "approx",
      epsilon: 0,
    },
    {
      id: "final-loss",
      statement: "The test loss is at most 0.1.",
      protocol: "stated",
      metric: "test_loss",
      claimed: 0.1,
      compare: "atMost",
      epsilon: 0.01,
    },
    {
      id: "sweep-acc",
      statement: "With a 10× learning rate it still reaches 0.97.",
      protocol: "sweep-learning-rate-times-ten",
      metric: "test_acc",
      claimed: 0.97,
      compare: "atLeast",
      epsilon: 0.005,
    },
  ]);
  const alphaRuns = [
    ...seeds.map((s) =>
      _siteRun("stated", s, (e) => 0.975 - 0.09 * Math.exp(1 - e) + 0.002 * s, 4, 2000 + 400 * s)
    ),
    ...seeds.map((s) =>
      _siteRun(
        "sweep-learning-rate-times-ten",
        s,
        (e) => 0.9 - 0.2 * Math.exp(1 - e) + 0.004 * s,
        3,
        1500,
      )
    ),
  ];
  // The stated protocol's runs kept a confusion matrix and misclassified digits (spec `record`).
  for (const run of alphaRuns.filter((r) => r.protocol === "stated")) {
    run.artifacts = _classifierArtifacts(run.seed);
  }
  const alphaVerdicts: _Verdict[] = [
    "reproduced",
    "reproduced",
    "reproduced",
    "reproduced (better)",
    "not reproduced",
  ];
  const alpha = _siteResults(
    alphaSpec,
    alphaRuns,
    alphaSpec.claims.map((c, i) => _siteClaim(alphaSpec, c, alphaRuns, alphaVerdicts[i])),
    { name: "wasm", adapter: null, fallbackAdapter: null, note: "no WebGPU adapter" },
    "2025-01-02T10:20:30.000Z",
  );

  const betaSpec = _siteSpec("beta-conv", `Beta ${HOSTILE}`, [{ id: "paper", epochs: 3 }], [
    {
      id: "acc",
      statement: HOSTILE,
      protocol: "paper",
      metric: "test_acc",
      claimed: 0.99,
      compare: "approx",
      epsilon: 0.005,
    },
    {
      id: "loss",
      statement: "The test loss is about 0.12, | pipes | and\nnew lines.",
      protocol: "paper",
      metric: "test_loss",
      claimed: 0.12,
      compare: "approx",
      epsilon: 0.01,
    },
    {
      id: "lr-too-high",
      statement: 'Training "fails" with a learning rate of 10.',
      protocol: "paper",
      metric: "train_acc",
      claimed: 0.2,
      compare: "fails",
      epsilon: 0.05,
    },
    {
      id: "blow-up",
      statement: "Train loss, epoch 3.",
      protocol: "paper",
      metric: "train_loss",
      epoch: 3,
      claimed: 0.3,
      compare: "atMost",
      epsilon: 0.01,
    },
  ]);
  const betaRuns = seeds.map((s) =>
    _siteRun("paper", s, (e) => 0.94 - 0.1 * Math.exp(1 - e) + 0.01 * s, 3, 3000)
  );
  const beta = _siteResults(
    betaSpec,
    betaRuns,
    [
      _siteClaim(betaSpec, betaSpec.claims[0], betaRuns, "not reproduced"),
      _siteClaim(betaSpec, betaSpec.claims[1], betaRuns, "inconclusive", [0.11, 0.125, 0.131]),
      _siteClaim(betaSpec, betaSpec.claims[2], betaRuns, "fails as claimed", [0.1, 0.11, 0.09]),
      _siteClaim(betaSpec, betaSpec.claims[3], betaRuns, "diverged", []),
    ],
    {
      name: "webgpu",
      adapter: "NVIDIA <H100> 80GB",
      fallbackAdapter: false,
      note: null,
    },
    "2025-01-03T08:00:00.000Z",
  );
  return [{ results: alpha, spec: alphaSpec }, { results: beta, spec: betaSpec }];
}

/** A confusion matrix and three misclassified 28×28 "digits" (a drawn bar), as a run keeps them. */
function _classifierArtifacts(seed: number): Record<string, unknown> {
  const matrix = Array.from(
    { length: 10 },
    (_, t) =>
      Array.from({ length: 10 }, (_, p) => t === p ? 970 + seed : (t + p + seed) % 4 === 0 ? 3 : 0),
  );
  const digit = (k: number) => {
    const bytes = new Uint8Array(28 * 28);
    for (let r = 4; r < 24; r++) bytes[r * 28 + 10 + k] = bytes[r * 28 + 11 + k] = 255;
    return btoa(String.fromCharCode(...bytes));
  };
  return {
    confusion: { classes: 10, matrix },
    misclassified: {
      count: 3,
      shown: [0, 1, 2].map((k) => ({
        index: 100 * k + seed,
        label: k,
        predicted: (k + 7) % 10,
        confidence: 0.6,
        rows: 28,
        cols: 28,
        pixels: digit(k),
      })),
    },
  };
}

/** Parses RFC 4180 CSV (quoted fields may hold commas, quotes and line breaks). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"', i++);
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") (row.push(field), field = "");
    else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(field), rows.push(row), row = [], field = "", i++;
    } else field += ch;
  }
  assert.equal(field + row.join(""), "", "CSV ends with CRLF");
  return rows;
}
