/**
 * Every replication's model.ts is a `ReplicationModule` (harness/plugin.ts), checked by the type
 * checker: the table below only compiles if each module satisfies the contract, and the test
 * fails when a replication folder (or the template) is missing from it.
 */
import assert from "assert";
import type { ReplicationModule } from "../harness/plugin.ts";
import { listReplications } from "../harness/replications.ts";
import { REPLICATIONS_DIR } from "../harness/util/paths.ts";
import * as template from "../replications/_template/model.ts";
import * as cnnSgd from "../replications/cnn-sgd/model.ts";
import * as hml2LrSchedules from "../replications/hml2-lr-schedules/model.ts";
import * as kerasDense from "../replications/keras-dense/model.ts";
import * as kerasMnistCnn from "../replications/keras-mnist-cnn/model.ts";
import * as kerasMnistMlp from "../replications/keras-mnist-mlp/model.ts";
import * as mediumAutoencoder from "../replications/medium-autoencoder/model.ts";
import * as soScratchMlp from "../replications/so-scratch-mlp/model.ts";

/** Each folder's model.ts, typed as the contract: a module that does not satisfy it fails `deno check`. */
const MODULES: Record<string, ReplicationModule> = {
  "_template": template,
  "cnn-sgd": cnnSgd,
  "hml2-lr-schedules": hml2LrSchedules,
  "keras-dense": kerasDense,
  "keras-mnist-cnn": kerasMnistCnn,
  "keras-mnist-mlp": kerasMnistMlp,
  "medium-autoencoder": mediumAutoencoder,
  "so-scratch-mlp": soScratchMlp,
};

Deno.test("contract: every replication (and the template) is type-checked as a ReplicationModule", async () => {
  const folders = [...await listReplications(REPLICATIONS_DIR), "_template"].sort();
  assert.deepEqual(Object.keys(MODULES).sort(), folders);
  for (const [name, module] of Object.entries(MODULES)) {
    assert.ok(module.models || module.trainers, `${name}: neither models nor trainers`);
  }
});
