/** Models of the _template replication, by the names spec.json uses. */
import * as tf from "@tensorflow/tfjs";
import { type ModelBuilder, type ReplicationModule, seededGlorot } from "claimcheck/plugin";
import * as replication from "./model.ts";

/** Model builders: name → (seed) → an uncompiled model with seeded initializers. */
export const models: Record<string, ModelBuilder> = {
  /** TODO: the source's architecture. */
  dense: (seed) => {
    const init = seededGlorot(seed);
    return tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [28, 28] }),
        tf.layers.dense({ units: 64, activation: "relu", kernelInitializer: init() }),
        tf.layers.dense({ units: 10, activation: "softmax", kernelInitializer: init() }),
      ],
    });
  },
};

// `deno check` holds this module to the contract: a table of the wrong shape fails here.
replication satisfies ReplicationModule;
