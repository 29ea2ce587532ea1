/**
 * The model of hml2-lr-schedules: the chapter's SELU MLP for Fashion-MNIST, as every one of the
 * notebook's learning-rate-scheduling runs builds it.
 */
import * as tf from "@tensorflow/tfjs";
import { type ModelBuilder, type ReplicationModule, seededInitializers } from "claimcheck/plugin";
import * as replication from "./model.ts";

/** Model builders: name → (seed) → an uncompiled model with seeded initializers. */
export const models: Record<string, ModelBuilder> = {
  /**
   * Flatten → Dense(300, selu) → Dense(100, selu) → Dense(10, softmax); the hidden kernels
   * LeCun-normal as tf.keras 2.6 draws them, the output kernel Glorot-uniform (Keras' default).
   */
  mlp: (seed) => {
    const init = seededInitializers(seed, "2.6");
    return tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [28, 28] }),
        tf.layers.dense({
          units: 300,
          activation: "selu",
          kernelInitializer: init("lecun_normal"),
        }),
        tf.layers.dense({
          units: 100,
          activation: "selu",
          kernelInitializer: init("lecun_normal"),
        }),
        tf.layers.dense({
          units: 10,
          activation: "softmax",
          kernelInitializer: init("glorot_uniform"),
        }),
      ],
    });
  },
};

// `deno check` holds this module to the contract: a table of the wrong shape fails here.
replication satisfies ReplicationModule;
