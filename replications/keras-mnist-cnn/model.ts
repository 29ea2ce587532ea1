/**
 * Models of the keras-mnist-cnn replication, by the names spec.json uses: written by
 * `deno task new keras-mnist-cnn --from mnist_cnn.py`; check them against the source.
 */
import * as tf from "@tensorflow/tfjs";
import { type ModelBuilder, type ReplicationModule, seededGlorot } from "claimcheck/plugin";
import * as replication from "./model.ts";

/** Model builders: name → (seed) → an uncompiled model with seeded initializers. */
export const models: Record<string, ModelBuilder> = {
  /** The snippet's model: mnist_cnn.py, line 47. */
  model: (seed) => {
    const init = seededGlorot(seed);
    return tf.sequential({
      layers: [
        tf.layers.conv2d({
          filters: 32,
          kernelSize: [3, 3],
          activation: "relu",
          inputShape: [28, 28, 1],
          kernelInitializer: init(),
        }),
        tf.layers.conv2d({
          filters: 64,
          kernelSize: [3, 3],
          activation: "relu",
          kernelInitializer: init(),
        }),
        tf.layers.maxPooling2d({ poolSize: [2, 2] }),
        tf.layers.dropout({ rate: 0.25 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 128, activation: "relu", kernelInitializer: init() }),
        tf.layers.dropout({ rate: 0.5 }),
        tf.layers.dense({ units: 10, activation: "softmax", kernelInitializer: init() }),
      ],
    });
  },
};

// `deno check` holds this module to the contract: a table of the wrong shape fails here.
replication satisfies ReplicationModule;
