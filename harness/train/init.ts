import * as tf from "@tensorflow/tfjs";
import { deriveSeed } from "./random.ts";

/**
 * Returns a factory of Glorot-uniform initializers (Keras' default for Dense and Conv
 * kernels), each seeded from `seed` and its call order, because tfjs initializers are
 * unseeded unless told otherwise.
 */
export function seededGlorot(seed: number): () => ReturnType<typeof tf.initializers.glorotUniform> {
  let layer = 0;
  return () => tf.initializers.glorotUniform({ seed: deriveSeed(seed, "glorot", layer++) });
}
