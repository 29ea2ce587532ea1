/** Models of the keras-dense replication, by the names spec.json uses. */
import * as tf from "@tensorflow/tfjs";
import { type ReplicationModule, seededGlorot } from "claimcheck/plugin";
import * as replication from "./model.ts";

function _mlp(hidden: number, activation: "sigmoid" | "relu", seed: number): tf.Sequential {
  const init = seededGlorot(seed);
  return tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [28, 28] }),
      tf.layers.dense({ units: hidden, activation, kernelInitializer: init() }),
      tf.layers.dense({ units: 10, activation: "softmax", kernelInitializer: init() }),
    ],
  });
}

/** Model builders: name → (seed) → an uncompiled model. */
export const models = {
  /** 002: Flatten → Dense(64, sigmoid) → Dense(10, softmax). */
  "dense64-sigmoid": (seed: number) => _mlp(64, "sigmoid", seed),
  /** 001: one hidden Dense layer; its width and activation are our assumption (README). */
  "dense128-relu": (seed: number) => _mlp(128, "relu", seed),
};

// `deno check` holds this module to the contract: a table of the wrong shape fails here.
replication satisfies ReplicationModule;
