/**
 * Models of the keras-mnist-mlp replication, by the names spec.json uses: written by
 * `deno task new keras-mnist-mlp --from mnist_mlp.py`; check them against the source.
 */
import * as tf from "@tensorflow/tfjs";
import { type ModelBuilder, type ReplicationModule, seededGlorot } from "claimcheck/plugin";
import * as replication from "./model.ts";

/** Model builders: name → (seed) → an uncompiled model with seeded initializers. */
export const models: Record<string, ModelBuilder> = {
  /** The snippet's model: mnist_mlp.py, line 36. */
  model: (seed) => {
    const init = seededGlorot(seed);
    return tf.sequential({
      layers: [
        tf.layers.dense({
          units: 512,
          activation: "relu",
          inputShape: [784],
          kernelInitializer: init(),
        }),
        tf.layers.dropout({ rate: 0.2 }),
        tf.layers.dense({ units: 512, activation: "relu", kernelInitializer: init() }),
        tf.layers.dropout({ rate: 0.2 }),
        tf.layers.dense({ units: 10, activation: "softmax", kernelInitializer: init() }),
      ],
    });
  },
};

// `deno check` holds this module to the contract: a table of the wrong shape fails here.
replication satisfies ReplicationModule;
