/** Models of the cnn-sgd replication, by the names spec.json uses. */
import * as tf from "@tensorflow/tfjs";
import { type ModelBuilder, type ReplicationModule, seededGlorot } from "claimcheck/plugin";
import * as replication from "./model.ts";

/**
 * 003: `Conv2D(32, 5×5, relu) → MaxPool(3×3) → Conv2D(64, 2×2, relu) → MaxPool(2×2) → Flatten →
 * Dense(500, relu) → Dense(100, relu) → Dense(10, softmax)` on 28×28×1 inputs, with Keras'
 * defaults: valid padding, pooling strides equal to the pool size, Glorot-uniform kernels (seeded
 * here), zero biases.
 */
export function cnn(seed: number): tf.LayersModel {
  const init = seededGlorot(seed);
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [28, 28, 1],
        filters: 32,
        kernelSize: 5,
        activation: "relu",
        kernelInitializer: init(),
      }),
      tf.layers.maxPooling2d({ poolSize: 3 }),
      tf.layers.conv2d({
        filters: 64,
        kernelSize: 2,
        activation: "relu",
        kernelInitializer: init(),
      }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 500, activation: "relu", kernelInitializer: init() }),
      tf.layers.dense({ units: 100, activation: "relu", kernelInitializer: init() }),
      tf.layers.dense({ units: 10, activation: "softmax", kernelInitializer: init() }),
    ],
  });
}

/** Model builders: name → (seed) → an uncompiled model. */
export const models: Record<string, ModelBuilder> = { cnn };

// `deno check` holds this module to the contract: a table of the wrong shape fails here.
replication satisfies ReplicationModule;
