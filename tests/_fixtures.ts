/**
 * Test fixtures: small results records and the specs their claims come from. As in a real
 * rerun, each record's claims are exactly what `claimResults` gives for its runs, so the runs
 * are shaped to give the verdicts the tests need.
 */
import assert from "assert";
import { epochRecord, type Results, type Run } from "../harness/results/result.ts";
import { claimResults } from "../harness/score/claims.ts";
import { parseSpec } from "../harness/spec/load_spec.ts";
import { type ReplicationSpec, SpecError } from "../harness/spec/spec.ts";

export const HOSTILE = `<script>alert(1)</script> & "quotes"`;

/** The fixtures' provenance fields; `spec.sha256` is also the fixture specs' hash. */
const _PROVENANCE = {
  schema: 2 as const,
  spec: { version: 2, sha256: "ef".repeat(32) },
  gitCommit: "0123456789abcdef0123456789abcdef01234567",
  versions: { deno: "2.9.6", v8: "13.0", tfjs: "4.22.0" },
  setupSeconds: 1.25,
};

/** The four standard metrics of one epoch. */
interface _Metrics {
  trainLoss: number;
  trainAcc: number;
  testLoss: number;
  testAcc: number;
}

/** An epoch record with the four standard metrics (NaN ones stored as the runner stores them). */
function _epoch(epoch: number, m: _Metrics, seconds: number, evalSeconds: number) {
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

/**
 * The metrics of an epoch where the weights blew up: the losses are NaN, while the accuracy of
 * NaN predictions is still a (chance-level) number, as the runner records it.
 */
const _BLOWN_UP: _Metrics = { trainLoss: NaN, trainAcc: 0.0987, testLoss: NaN, testAcc: 0.098 };

/**
 * The event log of a run whose epochs each take `epochMs` and reach these test accuracies; a
 * run that diverged (its last epoch's train loss is NaN) stops with "diverged".
 */
function _events(epochs: _Metrics[], epochMs: number, diverged: boolean): Run["events"] {
  const t0 = Date.UTC(2025, 0, 1);
  const train = epochMs - 300;
  const value = (v: number) => Number.isFinite(v) ? v : String(v);
  return [
    { time: t0 - 500, key: "init_start" },
    { time: t0 - 80, key: "init_stop" },
    { time: t0, key: "run_start" },
    ...epochs.flatMap((m, i) => [
      { time: t0 + epochMs * i, key: "epoch_start" as const, epoch: i + 1 },
      {
        time: t0 + epochMs * i + train,
        key: "epoch_stop" as const,
        epoch: i + 1,
        value: value(m.trainLoss),
      },
      {
        time: t0 + epochMs * (i + 1),
        key: "eval_accuracy" as const,
        epoch: i + 1,
        value: m.testAcc,
      },
    ]),
    {
      time: t0 + epochMs * epochs.length,
      key: "run_stop",
      value: diverged ? "diverged" : "success",
    },
  ];
}

/**
 * A run with these per-epoch metrics, each epoch taking `epochMs` (300 ms of it evaluation).
 * Where `divergesAt` is within the planned epochs, that epoch's metrics are _BLOWN_UP and the
 * run stops there, as the runner stops it.
 */
function _run(
  run: Pick<Run, "protocol" | "seed" | "params" | "warmupSeconds">,
  planned: number,
  metrics: (epoch: number) => _Metrics,
  epochMs: number,
  divergesAt?: number,
): Run {
  const last = divergesAt !== undefined && divergesAt <= planned ? divergesAt : undefined;
  const epochs = Array.from(
    { length: last ?? planned },
    (_, i) => i + 1 === last ? _BLOWN_UP : metrics(i + 1),
  );
  const trainSeconds = (epochMs - 300) / 1000;
  return {
    ...run,
    epochsPlanned: planned,
    epochs: epochs.map((m, i) => _epoch(i + 1, m, trainSeconds, 0.3)),
    finalEpoch: epochs.length,
    earlyStop: null,
    trainSeconds: epochs.length * trainSeconds,
    samplesPerSecond: 60_000 / trainSeconds,
    diverged: last === undefined ? null : { epoch: last, metric: "train_loss" },
    events: _events(epochs, epochMs, last !== undefined),
  };
}

/**
 * `results` as a rerun with `runs` would write it: its grid is theirs and its claims are what
 * they give under `spec` (e.g. a rerun of fewer protocols, or on another dataset).
 */
export function withRuns(results: Results, spec: ReplicationSpec, runs: Run[]): Results {
  return {
    ...results,
    grid: runs.map(({ protocol, seed }) => ({ protocol, seed })),
    runs,
    claims: claimResults(spec, runs),
  };
}

/**
 * The spec of fixtureResults: 2 protocols, and claims with every verdict but inconclusive
 * (siteFixtures has one): reproduced (final-acc, params), reproduced (better) (sgd-acc-e2),
 * not reproduced (bad-acc), diverged (sgd-loss), fails as claimed (lr-too-high).
 */
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
  const claim = (c: Record<string, unknown>) => ({
    source: "002",
    where: "model.evaluate output",
    metric: "test_acc",
    compare: "approx",
    epsilon: 0.005,
    ...c,
  });
  return parseSpec(
    {
      version: 2,
      name: "keras-dense",
      title: "Keras dense network on MNIST",
      sources: [{ id: "002", file: "002_5dcc19fec036a721.txt", title: "A <b>Keras</b> tutorial" }],
      protocols: [protocol("adam-b32", "adam"), protocol("sgd-b128", "sgd")],
      claims: [
        claim({ id: "final-acc", statement: HOSTILE, protocol: "adam-b32", claimed: 0.99 }),
        claim({
          id: "sgd-acc-e2",
          statement: "With SGD the test accuracy after epoch 2 is at least 84%.",
          protocol: "sgd-b128",
          epoch: 2,
          claimed: 0.84,
          compare: "atLeast",
        }),
        claim({
          id: "bad-acc",
          statement: "After training, the network reaches 99.9% accuracy on the test set.",
          protocol: "adam-b32",
          claimed: 0.999,
        }),
        claim({
          id: "params",
          statement: "The network has 101,770 parameters.",
          protocol: "adam-b32",
          metric: "params",
          claimed: 101_770,
          epsilon: 0,
          twoSided: true,
        }),
        claim({
          id: "sgd-loss",
          statement: "With SGD the test loss ends at most 0.2.",
          protocol: "sgd-b128",
          metric: "test_loss",
          claimed: 0.2,
          compare: "atMost",
        }),
        claim({
          id: "lr-too-high",
          statement: "With SGD's large learning rate the first epoch learns nothing.",
          protocol: "sgd-b128",
          metric: "train_acc",
          epoch: 1,
          claimed: 0.2,
          compare: "fails",
          epsilon: 0.05,
        }),
      ],
      defaultSeeds: 2,
      gates: [],
    },
    "fixture spec.json",
    _PROVENANCE.spec.sha256,
  );
}

/**
 * A small rerun of fixtureSpec: 2 protocols × 2 seeds × 3 epochs, epochs of 2.8 s. adam-b32
 * learns steadily; sgd-b128 is stuck at chance in epoch 1, catches up in epoch 2, and its seed 2
 * diverges in epoch 3. The seeds agree more as training goes on, so the final intervals are
 * tight even with n = 2.
 */
export function fixtureResults(): Results {
  const spec = fixtureSpec();
  const base = { "adam-b32": [0.93, 0.96, 0.99], "sgd-b128": [0.1, 0.86, 0.89] };
  const spread = [0.004, 0.001, 0.0002];
  const runs = (["adam-b32", "sgd-b128"] as const).flatMap((protocol) =>
    [1, 2].map((seed) =>
      _run(
        { protocol, seed, params: 101_770, warmupSeconds: 0.42 },
        3,
        (epoch) => {
          const acc = base[protocol][epoch - 1] + spread[epoch - 1] * seed;
          return { trainLoss: 1 - acc, trainAcc: acc - 0.01, testLoss: 1.1 - acc, testAcc: acc };
        },
        2800,
        protocol === "sgd-b128" && seed === 2 ? 3 : undefined,
      )
    )
  );
  return withRuns(
    {
      ..._PROVENANCE,
      replication: spec.name,
      title: "Keras dense MNIST",
      createdAt: "2025-01-01T00:00:00.000Z",
      command: "deno task replicate keras-dense --epochs 3",
      backend: { name: "wasm", adapter: null, fallbackAdapter: null, note: "no WebGPU adapter" },
      datasets: [{
        name: "mnist",
        files: [{ file: "t10k-images-idx3-ubyte.gz", sha256: "ab".repeat(32) }],
      }],
      grid: [],
      shard: null,
      deviations: ["--epochs 3 instead of 5"],
      runs: [],
      claims: [],
    },
    spec,
    runs,
  );
}

/** One replication of the site fixture: its results.json content and its spec. */
export interface SiteFixture {
  results: Results;
  spec: ReplicationSpec;
}

type _SpecClaim = ReplicationSpec["claims"][number];

/**
 * A run of `protocol` whose test accuracy after epoch e is acc(e); loss falls with it. It trains
 * `epochs` epochs, unless it diverges at `divergesAt` first.
 */
function _siteRun(
  protocol: string,
  seed: number,
  acc: (epoch: number) => number,
  epochs: number,
  epochMs: number,
  divergesAt?: number,
): Run {
  return _run(
    { protocol, seed, params: 50_890, warmupSeconds: 0.3 + 0.05 * seed },
    epochs,
    (epoch) => {
      const a = acc(epoch);
      return {
        trainLoss: 1.6 * (1 - a) + 0.01 * seed,
        trainAcc: a - 0.004,
        testLoss: 1.5 * (1 - a),
        testAcc: a,
      };
    },
    epochMs,
    divergesAt,
  );
}

function _siteSpec(
  name: string,
  title: string,
  protocols: { id: string; epochs: number; exploratory?: boolean }[],
  claims:
    (Omit<_SpecClaim, "source" | "where" | "twoSided" | "headline"> & { headline?: boolean })[],
): ReplicationSpec {
  return parseSpec(
    {
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
    },
    `${name}/spec.json`,
    _PROVENANCE.spec.sha256,
  );
}

/** The results.json a rerun of `spec` with these runs writes. */
function _siteResults(
  spec: ReplicationSpec,
  runs: Run[],
  backend: Results["backend"],
  createdAt: string,
): Results {
  return withRuns(
    {
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
      grid: [],
      shard: null,
      deviations: [],
      runs: [],
      claims: [],
    },
    spec,
    runs,
  );
}

/**
 * Two replications with 3 seeds each, for the site: "alpha-dense" holds on every stated claim
 * ([Re]; its one failing claim is on an exploratory sweep; `final-acc` is its headline; hostile
 * text in a folded statement), "beta-conv" does not ([¬Re]: not reproduced, inconclusive and
 * diverged claims, a fails-as-claimed one that holds, a time to accuracy never reached, a WebGPU
 * adapter, hostile text in the title and statements; no headline marked, so the scoreboard
 * leads with its stated claims). Beta's "lr-ten" protocol stays at chance and its seed 3
 * diverges in epoch 3. With `epochs`, every run stops there, as `replicate --epochs` stops it
 * (the first epochs of each run are the same).
 */
export function siteFixtures(epochs?: number): SiteFixture[] {
  const seeds = [1, 2, 3];
  const cut = (planned: number) => Math.min(planned, epochs ?? planned);
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
      statement: `The test loss is at most 0.1 (${HOSTILE}).`,
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
  // final-acc reproduced, curve-e2 reproduced, final-loss reproduced (better), sweep-acc not.
  const alphaRuns = [
    ...seeds.map((s) =>
      _siteRun(
        "stated",
        s,
        (e) => 0.975 - 0.09 * Math.exp(1 - e) + 0.002 * s,
        cut(4),
        2000 + 400 * s,
      )
    ),
    ...seeds.map((s) =>
      _siteRun(
        "sweep-learning-rate-times-ten",
        s,
        (e) => 0.9 - 0.2 * Math.exp(1 - e) + 0.004 * s,
        cut(3),
        1500,
      )
    ),
  ];
  // The stated protocol's runs kept a confusion matrix and misclassified digits (spec `record`).
  for (const run of alphaRuns.filter((r) => r.protocol === "stated")) {
    run.artifacts = _classifierArtifacts(run.seed);
  }
  const alpha = _siteResults(
    alphaSpec,
    alphaRuns,
    { name: "wasm", adapter: null, fallbackAdapter: null, note: "no WebGPU adapter" },
    "2025-01-02T10:20:30.000Z",
  );

  const betaSpec = _siteSpec("beta-conv", `Beta ${HOSTILE}`, [
    { id: "paper", epochs: 3 },
    { id: "lr-ten", epochs: 3 },
  ], [
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
      protocol: "lr-ten",
      metric: "train_acc",
      epoch: 2,
      claimed: 0.2,
      compare: "fails",
      epsilon: 0.05,
    },
    {
      id: "blow-up",
      statement: "Train loss, epoch 3.",
      protocol: "lr-ten",
      metric: "train_loss",
      epoch: 3,
      claimed: 0.3,
      compare: "atMost",
      epsilon: 0.01,
    },
  ]);
  // paper: acc not reproduced (0.99 never reached), loss inconclusive (its interval crosses
  // 0.11); lr-ten: at chance (fails as claimed) until seed 3 diverges (blow-up diverged).
  const betaRuns = [
    ...seeds.map((s) =>
      _siteRun("paper", s, (e) => 0.94 - 0.1 * Math.exp(1 - e) + 0.01 * s, cut(3), 3000)
    ),
    ...seeds.map((s) =>
      _siteRun("lr-ten", s, () => 0.1 + 0.002 * (s - 2), cut(3), 3000, s === 3 ? 3 : undefined)
    ),
  ];
  const beta = _siteResults(
    betaSpec,
    betaRuns,
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

/**
 * A spec.json (as data) of layers protocols p0, p1, … on MNIST, each `{...defaults, ...given}`,
 * with one claim on p0: for tests of a protocol field's validation.
 */
export function layersSpec(...protocols: Record<string, unknown>[]): Record<string, unknown> {
  return {
    version: 2,
    name: "demo",
    title: "demo",
    sources: [{ id: "src", url: "https://example.com/", title: "a source" }],
    protocols: protocols.map((p, i) => ({
      id: `p${i}`,
      source: "src",
      description: "d",
      model: "m",
      dataset: "mnist",
      loss: "categoricalCrossentropy",
      optimizer: { name: "sgd" },
      batchSize: 32,
      epochs: 1,
      ...p,
    })),
    claims: [{
      id: "c",
      source: "src",
      where: "w",
      statement: "s",
      protocol: "p0",
      metric: "test_acc",
      claimed: 0.9,
      compare: "atLeast",
      epsilon: 0.01,
    }],
    defaultSeeds: 1,
  };
}

/** The problems parseSpec finds in `spec`, one line each (none for a valid spec). */
export function specIssues(spec: unknown): string[] {
  try {
    parseSpec(spec, "spec.json");
  } catch (e) {
    assert.ok(e instanceof SpecError, String(e));
    return e.issues;
  }
  return [];
}
