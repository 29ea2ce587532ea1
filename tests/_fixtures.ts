/** Test fixtures: a small results record and the spec its claims come from. */
import type { Results } from "../harness/result.ts";
import { summarize } from "../harness/stats.ts";
import { type ReplicationSpec, ReplicationSpecSchema } from "../harness/spec.ts";

export const HOSTILE = `<script>alert(1)</script> & "quotes"`;

/** A small rerun: 2 protocols × 2 seeds × 3 epochs, and claims covering every verdict colour. */
function _withStats<T extends { values: number[] }>(c: T) {
  return { timeToTarget: null, ...c, stats: summarize(c.values) };
}

/** The event log of a run whose epochs each take 2.8 s and reach these test accuracies. */
function _events(accs: number[]): Results["runs"][number]["events"] {
  const t0 = Date.UTC(2025, 0, 1);
  return [
    { time: t0 - 500, key: "init_start" },
    { time: t0 - 80, key: "init_stop" },
    { time: t0, key: "run_start" },
    ...accs.flatMap((acc, i) => [
      { time: t0 + 2800 * i, key: "epoch_start" as const, epoch: i + 1 },
      { time: t0 + 2800 * i + 2500, key: "epoch_stop" as const, epoch: i + 1, value: 1 - acc },
      { time: t0 + 2800 * (i + 1), key: "eval_accuracy" as const, epoch: i + 1, value: acc },
    ]),
    { time: t0 + 2800 * accs.length, key: "run_stop", value: "success" },
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
        return {
          epoch,
          trainLoss: 1 - acc,
          trainAcc: acc - 0.01,
          testLoss: 1.1 - acc,
          testAcc: acc,
          seconds: 2.5,
          evalSeconds: 0.3,
        };
      }),
      warmupSeconds: 0.42,
      trainSeconds: 7.5,
      samplesPerSecond: 24_000.4,
      diverged: false,
      events: _events([1, 2, 3].map((epoch) => base + 0.03 * epoch + 0.004 * seed)),
    }))
  );
  const claim = (c: Partial<Results["claims"][number]>) =>
    _withStats({
      id: "x",
      source: "002",
      statement: "After training, the network reaches about 98% accuracy on the test set.",
      protocol: "adam-b32",
      metric: "test_acc" as const,
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
    schema: 1,
    replication: "keras-dense",
    title: "Keras dense MNIST",
    createdAt: "2025-01-01T00:00:00.000Z",
    command: "deno task replicate keras-dense --epochs 3",
    gitCommit: "0123456789abcdef0123456789abcdef01234567",
    versions: { deno: "2.9.6", v8: "13.0", tfjs: "4.22.0" },
    backend: { name: "wasm", adapter: null, fallbackAdapter: null, note: "no WebGPU adapter" },
    setupSeconds: 1.25,
    dataset: {
      name: "mnist",
      files: [{ file: "t10k-images-idx3-ubyte.gz", sha256: "ab".repeat(32) }],
    },
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
        claimed: 101_770,
        epsilon: 0,
        values: [101_770, 101_770],
        mean: 101_770,
      }),
      claim({
        id: "sgd-loss",
        protocol: "sgd-b128",
        metric: "test_loss",
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
    pixelScale: 1 / 255,
    optimizer: { name },
    loss: "categoricalCrossentropy",
    batchSize: 32,
    epochs: 3,
  });
  return ReplicationSpecSchema.parse({
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
  });
}
