import * as tf from "@tensorflow/tfjs";
import { deriveSeed } from "./random.ts";

/** A tfjs kernel initializer, as tf.initializers' factories return it. */
export type KernelInitializer = ReturnType<typeof tf.initializers.glorotUniform>;

/**
 * Keras' variance-scaling kernel initializers, by their Keras names: the scale, which fan the
 * variance is divided by, and the distribution (a normal truncated at 2σ, or a uniform one with
 * limit √(3·scale/fan)), as Keras 2 and 3 define them (tfjs' glorotNormal, heNormal, … alike).
 */
export const KERNEL_INITIALIZERS = {
  glorot_uniform: { scale: 1, mode: "fanAvg", distribution: "uniform" },
  glorot_normal: { scale: 1, mode: "fanAvg", distribution: "normal" },
  he_uniform: { scale: 2, mode: "fanIn", distribution: "uniform" },
  he_normal: { scale: 2, mode: "fanIn", distribution: "normal" },
  lecun_uniform: { scale: 1, mode: "fanIn", distribution: "uniform" },
  lecun_normal: { scale: 1, mode: "fanIn", distribution: "normal" },
} as const;

/** A kernel initializer's Keras name (see KERNEL_INITIALIZERS). */
export type KernelInitializerName = keyof typeof KERNEL_INITIALIZERS;

/**
 * The standard deviation of a standard normal truncated at ±2 (scipy's
 * `truncnorm.std(a=-2, b=2)`): Keras from 2.2.0 (keras-team/keras#9963; tf.keras, Keras 3)
 * divides the normal's σ by it, so that the truncated draws have variance scale/fan; Keras
 * 2.0–2.1 and tfjs draw with σ = √(scale/fan), a standard deviation 0.88 times that.
 */
const _TRUNCATED_STD = 0.87962566103423978;

/**
 * Returns a factory of seeded kernel initializers by Keras name, drawn as `rules` draws them:
 * a Keras version (`"2.2.4"`, `"2.6"`, `"3"`; default Keras 3) or `"tfjs"`. Only the normal
 * ones differ: Keras from 2.2 scales the truncated normal up to the stated variance, Keras 2.0–2.1
 * and tfjs do not. Each call takes the next seed derived from `seed`, the stream seededGlorot
 * draws from, so Glorot-uniform kernels get the same weights from either in the same order.
 */
export function seededInitializers(
  seed: number,
  rules = "3",
): (name: KernelInitializerName) => KernelInitializer {
  const rescaled = _rescalesTruncatedNormal(rules);
  let layer = 0;
  return (name) => {
    if (!Object.hasOwn(KERNEL_INITIALIZERS, name)) {
      throw new Error(
        `seededInitializers: unknown initializer "${name}" (one of ${
          Object.keys(KERNEL_INITIALIZERS).join(", ")
        })`,
      );
    }
    const drawSeed = deriveSeed(seed, "glorot", layer++);
    if (name === "glorot_uniform") return tf.initializers.glorotUniform({ seed: drawSeed });
    const { scale, mode, distribution } = KERNEL_INITIALIZERS[name];
    return tf.initializers.varianceScaling({
      // tfjs draws the truncated normal with σ = √(scale/fan): Keras' σ/0.8796 is scale/0.8796².
      scale: distribution === "normal" && rescaled ? scale / _TRUNCATED_STD ** 2 : scale,
      mode,
      distribution,
      seed: drawSeed,
    });
  };
}

/** Whether `rules` (a Keras version or "tfjs") divides the truncated normal's σ by 0.8796. */
function _rescalesTruncatedNormal(rules: string): boolean {
  if (rules === "tfjs") return false;
  const [major, minor] = /^\d+(\.\d+){0,2}$/.test(rules) ? rules.split(".").map(Number) : [];
  if (major === 3) return true;
  if (major === 2 && minor !== undefined) return minor >= 2;
  throw new Error(
    `seededInitializers: "${rules}" is neither "tfjs" nor a Keras version with its minor ` +
      'version, e.g. "2.1.6", "2.2.4" or "3" (Keras 2.2 changed the normal initializers)',
  );
}

/**
 * Returns a factory of Glorot-uniform initializers (Keras' default for Dense and Conv
 * kernels), each seeded from `seed` and its call order, because tfjs initializers are
 * unseeded unless told otherwise.
 */
export function seededGlorot(seed: number): () => KernelInitializer {
  const init = seededInitializers(seed);
  return () => init("glorot_uniform");
}
