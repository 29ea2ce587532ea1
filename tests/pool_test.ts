import assert from "assert";
import { join } from "node:path";
import { DATA_DIR_ENV } from "../harness/data/datasets.ts";
import { runOnWorkers } from "../harness/train/pool.ts";
import { REPLICATIONS_DIR } from "../harness/util/paths.ts";

Deno.test("a worker looks for data where the caller's env reader says, not the process's", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "claimcheck-pool-test-" });
  try {
    // A data directory only the reader names: a worker reading the process environment instead
    // would load MNIST from CLAIMCHECK_DATA_DIR (or fail to find it), not name this one.
    const nope = join(tmp, "nope");
    const out = await runOnWorkers(
      { name: "keras-dense", dir: REPLICATIONS_DIR },
      [[{ protocol: "slides", seed: 1 }]],
      {
        epochs: 1,
        trainLimit: 100,
        data: {
          env: (name) => name === DATA_DIR_ENV ? nope : undefined,
          cacheDir: join(tmp, "cache"),
          download: false,
        },
      },
      "wasm",
      1,
      1,
    );
    assert.deepEqual(out.runs, []);
    assert.deepEqual(out.failures.map((f) => [f.protocol, f.seed]), [["slides", 1]]);
    assert.ok(
      out.failures[0].error.includes(`${DATA_DIR_ENV} "${nope}": no such directory`),
      out.failures[0].error,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
