/**
 * tfjs' Adam and momentum SGD with each weight's update fused into one kernel on wasm.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { FUSED_ADAM, FUSED_MOMENTUM } from "../backend/wasm_kernels.ts";

interface _Slot {
  originalName: string;
  variable: tf.Variable;
}

/** tfjs' AdamOptimizer's private state, which this subclass keeps exactly as tfjs does. */
interface _AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: _Slot[];
  accumulatedSecondMoment: _Slot[];
  epsilon: number;
}

/**
 * `tf.train.adam`, except that on the wasm backend each weight's update is one fused kernel
 * ({@link FUSED_ADAM}, harness/backend/simd/adam.wat) instead of tfjs' 14 kernels and their
 * scalar tensors: for small models at batch 32 the per-kernel overhead, not the arithmetic, is
 * the step's cost. The kernel does the same float32 operations in the same order, so weights,
 * moments and saved optimizer state are bit-identical to tfjs' Adam; elsewhere this is tfjs'
 * Adam.
 */
export class FusedAdamOptimizer extends tf.AdamOptimizer {
  /** Sets the learning rate the next steps take (tfjs' Adam reads it at every step). */
  setLearningRate(learningRate: number): void {
    this.learningRate = learningRate;
  }

  override applyGradients(
    variableGradients: Parameters<tf.AdamOptimizer["applyGradients"]>[0],
  ): void {
    if (tf.getBackend() !== "wasm" || !tf.getKernel(FUSED_ADAM, "wasm")) {
      return super.applyGradients(variableGradients);
    }
    const state = this as unknown as _AdamState;
    const named = Array.isArray(variableGradients);
    const names = named ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    // 1 − β^t as tfjs computes it: one float32 subtraction from the float32 accumulator.
    const oneMinus = (acc: tf.Variable) => Math.fround(1 - acc.dataSync()[0]);
    const attrs = {
      beta1: this.beta1,
      beta2: this.beta2,
      oneMinusAccBeta1: oneMinus(state.accBeta1),
      oneMinusAccBeta2: oneMinus(state.accBeta2),
      epsilon: state.epsilon,
      learningRate: this.learningRate,
    };
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        const slot = (moments: _Slot[], suffix: string) =>
          moments[i] ??= {
            originalName: `${name}/${suffix}`,
            variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
          };
        const m = slot(state.accumulatedFirstMoment, "m").variable;
        const v = slot(state.accumulatedSecondMoment, "v").variable;
        const g = named ? variableGradients[i].tensor : variableGradients[name];
        if (g == null) return;
        const [w2, m2, v2] = tf.engine().runKernel(
          FUSED_ADAM,
          { value, m, v, g },
          attrs as unknown as tf.NamedAttrMap,
        ) as tf.Tensor[];
        m.assign(m2);
        v.assign(v2);
        value.assign(w2);
      });
      state.accBeta1.assign(tf.mul(state.accBeta1, this.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }
}

/** tfjs' Adam (defaults β1 0.9, β2 0.999, ε the backend's: 1e-7 on wasm, cpu, WebGPU), fused. */
export function adam(
  learningRate: number,
  beta1 = 0.9,
  beta2 = 0.999,
  epsilon?: number,
): FusedAdamOptimizer {
  return new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon);
}

/** tfjs' MomentumOptimizer's private state, which this subclass keeps exactly as tfjs does. */
interface _MomentumState {
  momentum: number;
  useNesterov: boolean;
  accumulations: _Slot[];
}

/**
 * `tf.train.momentum` (without Nesterov), except that on the wasm backend each weight's update
 * is one fused kernel ({@link FUSED_MOMENTUM}, harness/backend/simd/momentum.wat) instead of
 * tfjs' four kernels: the same float32 operations in the same order, so bit-identical weights
 * and accumulations; elsewhere (or with Nesterov) this is tfjs' momentum optimizer.
 */
export class FusedMomentumOptimizer extends tf.MomentumOptimizer {
  override applyGradients(
    variableGradients: Parameters<tf.MomentumOptimizer["applyGradients"]>[0],
  ): void {
    const state = this as unknown as _MomentumState;
    if (
      state.useNesterov || tf.getBackend() !== "wasm" || !tf.getKernel(FUSED_MOMENTUM, "wasm")
    ) {
      return super.applyGradients(variableGradients);
    }
    const named = Array.isArray(variableGradients);
    const names = named ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const attrs = { momentum: state.momentum, learningRate: this.learningRate };
    names.forEach((name, i) => {
      const value = tf.engine().registeredVariables[name];
      state.accumulations[i] ??= {
        originalName: `${name}/momentum`,
        variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
      };
      const accumulation = state.accumulations[i].variable;
      const g = named ? variableGradients[i].tensor : variableGradients[name];
      if (g == null) return;
      tf.tidy(() => {
        const [w2, a2] = tf.engine().runKernel(
          FUSED_MOMENTUM,
          { value, accumulation, g },
          attrs as unknown as tf.NamedAttrMap,
        ) as tf.Tensor[];
        accumulation.assign(a2);
        value.assign(w2);
      });
    });
    this.incrementIterations();
  }
}

/** Momentum SGD as `tf.train.momentum(learningRate, momentum, nesterov)`, fused on wasm. */
export function momentum(
  learningRate: number,
  momentum: number,
  nesterov = false,
): FusedMomentumOptimizer {
  return new FusedMomentumOptimizer(learningRate, momentum, nesterov);
}
