/**
 * Keras' optimizer update rules as a tfjs optimizer (float32, one tidy per step), for the Keras
 * version a protocol names, and the optimizer a protocol trains with. tfjs' own optimizers differ
 * from Keras' (Adam's ε, the momentum form, RMSprop's and Adagrad's ε inside the root, Adadelta
 * reading the old accumulator), so they run only where spec/optimizers.ts says tfjs' formula runs.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  effectiveDecay,
  epsilonInsideRoot,
  type KerasFamily,
  kerasFamily,
  nadamScheduleDecay,
  type Optimizer,
  runsTfjsFormula,
} from "../spec/optimizers.ts";
import { adam, momentum } from "./fused_optimizers.ts";

type _Gradients = Parameters<tf.Optimizer["applyGradients"]>[0];

/** What one step of a rule needs besides the weight and its gradient. */
interface _Step {
  /** The step, from 1 (Keras' iterations + 1). */
  t: number;
  /** The learning rate after the legacy decay. */
  lr: number;
  /** Nadam's μₜ, μₜ₊₁ and Πₜ = μ₁⋯μₜ. */
  nadam?: { mu: number; next: number; product: number };
}

/**
 * One of Keras' optimizers with the update rule of a Keras version family (see
 * spec/optimizers.ts for the rules and which version has which), applied in float32 with the
 * step's scalars (bias corrections, decayed learning rate) computed in float64.
 */
export class KerasOptimizer extends tf.Optimizer {
  /** tfjs' serialization name. */
  static readonly className = "KerasOptimizer";
  readonly #slots = new Map<string, tf.Variable>();
  /** Nadam's Πₜ₋₁, the product of the momentum schedule so far. */
  #product = 1;
  /** The learning rate before the legacy decay (what Keras' schedules and callbacks set). */
  #learningRate: number;

  /** @param o the optimizer, defaults filled in; @param family its Keras version's family */
  constructor(readonly o: Optimizer, readonly family: KerasFamily) {
    super();
    this.#learningRate = o.learningRate;
  }

  /** Sets the learning rate the next steps take (before the legacy decay), as Keras' callbacks do. */
  setLearningRate(learningRate: number): void {
    this.#learningRate = learningRate;
  }

  override applyGradients(variableGradients: _Gradients): void {
    const gradients = Array.isArray(variableGradients)
      ? variableGradients
      : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
    const o = this.o, t = this.iterations + 1;
    const step: _Step = {
      t,
      lr: this.#learningRate / (1 + effectiveDecay(o, this.family) * (t - 1)),
    };
    if (o.name === "nadam") {
      const decay = nadamScheduleDecay(o);
      const mu = (k: number) => o.beta1 * (1 - 0.5 * 0.96 ** (decay * k));
      this.#product *= mu(t);
      step.nadam = { mu: mu(t), next: mu(t + 1), product: this.#product };
    }
    tf.tidy(() => {
      for (const { name, tensor: g } of gradients) {
        if (g == null) continue;
        this.#update(name, tf.engine().registeredVariables[name], g, step);
      }
    });
    this.incrementIterations();
  }

  /** The optimizer's state variable `slot` of weight `name`, created as `init` on first use. */
  #slot(name: string, slot: string, like: tf.Tensor, init = 0): tf.Variable {
    const key = `${name}/${slot}`;
    let v = this.#slots.get(key);
    if (!v) {
      v = tf.tidy(() => tf.fill(like.shape, init).variable(false));
      this.#slots.set(key, v);
    }
    return v;
  }

  #update(name: string, w: tf.Variable, g: tf.Tensor, { t, lr, nadam }: _Step): void {
    const o = this.o;
    /** Sets state `slot` to `f` of its value (created as `init`) and returns the new value. */
    const advance = (slot: string, f: (x: tf.Tensor) => tf.Tensor, init?: number) => {
      const v = this.#slot(name, slot, w, init), next = f(v);
      v.assign(next);
      return next;
    };
    const average = (x: tf.Tensor, y: tf.Tensor, rate: number) => x.mul(rate).add(y.mul(1 - rate));
    // RMSprop's and Adagrad's ε: under the root or added to it, by version.
    const root = (x: tf.Tensor, epsilon: number) =>
      epsilonInsideRoot(o, this.family) ? x.add(epsilon).sqrt() : x.sqrt().add(epsilon);
    switch (o.name) {
      case "sgd": {
        if (o.momentum === 0) return void w.assign(w.sub(g.mul(lr)));
        const v = advance("momentum", (v) => v.mul(o.momentum).sub(g.mul(lr)));
        w.assign(o.nesterov ? w.add(v.mul(o.momentum).sub(g.mul(lr))) : w.add(v));
        return;
      }
      case "rmsprop": {
        const a = advance("rms", (a) => average(a, g.square(), o.rho));
        const mean = o.centered ? advance("mg", (m) => average(m, g, o.rho)) : undefined;
        const increment = g.mul(lr).div(root(mean ? a.sub(mean.square()) : a, o.epsilon));
        if (!o.momentum) return void w.assign(w.sub(increment));
        w.assign(w.sub(advance("momentum", (m) => m.mul(o.momentum!).add(increment))));
        return;
      }
      case "adagrad": {
        const a = advance("accumulator", (a) => a.add(g.square()), o.initialAccumulatorValue);
        w.assign(w.sub(g.mul(lr).div(root(a, o.epsilon))));
        return;
      }
      case "adadelta": {
        const a = advance("accum_grad", (a) => average(a, g.square(), o.rho));
        const d = this.#slot(name, "accum_var", w);
        const delta = g.mul(d.add(o.epsilon).sqrt()).div(a.add(o.epsilon).sqrt());
        w.assign(w.sub(delta.mul(lr)));
        d.assign(average(d, delta.square(), o.rho));
        return;
      }
      case "adam": {
        const m = advance("m", (m) => average(m, g, o.beta1));
        const v = advance("v", (v) => average(v, g.square(), o.beta2));
        const vMax = o.amsgrad ? advance("vhat", (h) => tf.maximum(h, v)) : v;
        const alpha = lr * Math.sqrt(1 - o.beta2 ** t) / (1 - o.beta1 ** t);
        w.assign(w.sub(m.mul(alpha).div(vMax.sqrt().add(o.epsilon))));
        return;
      }
      case "adamax": {
        const m = advance("m", (m) => average(m, g, o.beta1));
        const u = advance("u", (u) => tf.maximum(u.mul(o.beta2), g.abs()));
        w.assign(w.sub(m.mul(lr / (1 - o.beta1 ** t)).div(u.add(o.epsilon))));
        return;
      }
      case "nadam": {
        const { mu, next, product } = nadam!;
        const m = advance("m", (m) => average(m, g, o.beta1));
        const v = advance("v", (v) => average(v, g.square(), o.beta2));
        const mBar = g.mul((1 - mu) / (1 - product)).add(m.mul(next / (1 - product * next)));
        const denominator = v.div(1 - o.beta2 ** t).sqrt().add(o.epsilon);
        w.assign(w.sub(mBar.mul(lr).div(denominator)));
        return;
      }
    }
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...this.o, family: this.family };
  }

  override dispose(): void {
    tf.dispose([...this.#slots.values()]);
    this.#slots.clear();
    super.dispose();
  }
}

/**
 * The optimizer protocol settings `o` (defaults filled in) run with under the Keras version
 * `keras`: tfjs' fused Adam or momentum where spec/optimizers.ts's runsTfjsFormula says so, tfjs'
 * SGD for plain SGD without a version (Keras 3's rule in the same float32 operations), else
 * {@link KerasOptimizer}.
 */
export function makeOptimizer(o: Optimizer, keras: string | undefined): tf.Optimizer {
  if (runsTfjsFormula(o, keras)) {
    if (o.name === "adam") return adam(o.learningRate, o.beta1, o.beta2, o.epsilon);
    if (o.name === "sgd") return momentum(o.learningRate, o.momentum, o.nesterov);
  }
  if (keras === undefined && o.name === "sgd") return tf.train.sgd(o.learningRate);
  const family = kerasFamily(keras);
  if (typeof family !== "string") throw new Error(family.error);
  return new KerasOptimizer(o, family);
}
