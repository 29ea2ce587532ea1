/**
 * Keras' optimizers as spec data: which arguments each Keras version's optimizers take, their
 * defaults, and the update rule that runs. Keras changed both between versions (Adadelta's
 * learning rate 1.0 became 0.001 in 2.4, RMSprop's ε moved inside the square root in 2.11, the
 * legacy `decay` became an error in 2.11 and is ignored in 3), so a protocol may name the Keras
 * version its source ran (`"keras": "2.2.4"`); without one, Keras 3's defaults and rules apply,
 * except that Adam and momentum SGD run tfjs' own update (see {@link runsTfjsFormula}).
 * @module
 */
import { z } from "zod";
import type { SameType } from "../util/same_type.ts";

/** The optimizers a spec can name, by Keras' names in lower case. */
export const OPTIMIZER_NAMES = [
  "sgd",
  "rmsprop",
  "adagrad",
  "adadelta",
  "adam",
  "adamax",
  "nadam",
] as const;

/** An optimizer's name (see OPTIMIZER_NAMES). */
export type OptimizerName = typeof OPTIMIZER_NAMES[number];

/** The tfjs version whose Adam and momentum updates run where a protocol names no Keras version. */
export const TFJS_FORMULA_VERSION = "4.22";

const _lr = z.number().positive().optional();
const _unit = z.number().min(0).max(1).optional();
const _beta = z.number().min(0).lt(1).optional();
const _epsilon = z.number().positive().optional();
const _flag = z.boolean().optional();
const _decay = z.number().min(0).optional();

/**
 * An optimizer as a spec writes it: Keras' arguments in camelCase (`learningRate` for
 * `learning_rate`/`lr`, `beta1` for `beta_1`); what it omits takes the defaults of the Keras
 * version the protocol names. A key no Keras version's optimizer of that name takes is an
 * unknown key; one that only other versions take is an error naming the version.
 */
export const OptimizerSchema = z.discriminatedUnion("name", [
  z.strictObject({
    name: z.literal("sgd"),
    learningRate: _lr,
    momentum: _unit,
    nesterov: _flag,
    decay: _decay,
  }),
  z.strictObject({
    name: z.literal("rmsprop"),
    learningRate: _lr,
    rho: _unit,
    momentum: _unit,
    epsilon: _epsilon,
    centered: _flag,
    decay: _decay,
  }),
  z.strictObject({
    name: z.literal("adagrad"),
    learningRate: _lr,
    initialAccumulatorValue: z.number().min(0).optional(),
    epsilon: _epsilon,
    decay: _decay,
  }),
  z.strictObject({
    name: z.literal("adadelta"),
    learningRate: _lr,
    rho: _unit,
    epsilon: _epsilon,
    decay: _decay,
  }),
  z.strictObject({
    name: z.literal("adam"),
    learningRate: _lr,
    beta1: _beta,
    beta2: _beta,
    epsilon: _epsilon,
    amsgrad: _flag,
    decay: _decay,
  }),
  z.strictObject({
    name: z.literal("adamax"),
    learningRate: _lr,
    beta1: _beta,
    beta2: _beta,
    epsilon: _epsilon,
    decay: _decay,
  }),
  z.strictObject({
    name: z.literal("nadam"),
    learningRate: _lr,
    beta1: _beta,
    beta2: _beta,
    epsilon: _epsilon,
    scheduleDecay: z.number().min(0).optional(),
    decay: _decay,
  }),
]);

/** An optimizer as the spec writes it (see OptimizerSchema). */
export type WrittenOptimizer = z.infer<typeof OptimizerSchema>;

/** The Keras version a protocol names: `"2.2.4"`, `"2.10"`, `"3"`. */
export const KerasVersionSchema = z.string().regex(
  /^\d+(\.\d+){0,2}$/,
  'a Keras version such as "2.2.4" or "3"',
);

/**
 * An optimizer with the defaults of its Keras version filled in: every argument that version's
 * optimizer takes, plus a `decay` the spec gives where that version ignores it (Keras 3, and
 * Nadam in 2.4–2.10). A key is absent where the version has no such argument (e.g. `amsgrad`
 * before Keras 2.1.3, `initialAccumulatorValue` before 2.4, `scheduleDecay` from 2.11).
 */
export type Optimizer =
  | { name: "sgd"; learningRate: number; momentum: number; nesterov: boolean; decay?: number }
  | {
    name: "rmsprop";
    learningRate: number;
    rho: number;
    momentum?: number;
    epsilon: number;
    centered?: boolean;
    decay?: number;
  }
  | {
    name: "adagrad";
    learningRate: number;
    initialAccumulatorValue?: number;
    epsilon: number;
    decay?: number;
  }
  | { name: "adadelta"; learningRate: number; rho: number; epsilon: number; decay?: number }
  | {
    name: "adam";
    learningRate: number;
    beta1: number;
    beta2: number;
    epsilon: number;
    amsgrad?: boolean;
    decay?: number;
  }
  | {
    name: "adamax";
    learningRate: number;
    beta1: number;
    beta2: number;
    epsilon: number;
    decay?: number;
  }
  | {
    name: "nadam";
    learningRate: number;
    beta1: number;
    beta2: number;
    epsilon: number;
    scheduleDecay?: number;
    decay?: number;
  };

/**
 * The Keras versions whose optimizers differ, by the first version of each: `2.0` (multi-backend
 * Keras, ε 1e-8), `2.1.3` (ε = K.epsilon() = 1e-7, Adam's amsgrad), `2.4` (tf.keras'
 * OptimizerV2: new defaults), `2.11` (the new optimizers: Keras 3's rules, `decay` an error),
 * `3` (Keras 3: `decay` ignored with a warning).
 */
export type KerasFamily = "2.0" | "2.1.3" | "2.4" | "2.11" | "3";

/** The family of a Keras version, or why claimcheck cannot model it. */
export function kerasFamily(keras: string | undefined): KerasFamily | { error: string } {
  if (keras === undefined) return "3";
  const [major, minor, patch] = keras.split(".").map(Number);
  if (major === 3) return "3";
  if (major !== 2) {
    return { error: `Keras ${keras} is not modelled (claimcheck knows Keras 2.0 to 3.x)` };
  }
  if (minor === undefined) {
    return {
      error: 'name the minor version, e.g. "2.2.4": Keras 2 changed its optimizers between 2.x',
    };
  }
  if (minor === 1 && patch === undefined) {
    return {
      error: 'name the patch version, e.g. "2.1.6": Keras 2.1.3 changed ε and added amsgrad',
    };
  }
  if (minor === 0 || (minor === 1 && patch < 3)) return "2.0";
  if (minor < 4) return "2.1.3";
  if (minor < 11) return "2.4";
  return "2.11";
}

/** Multi-backend Keras (2.0–2.3): its own defaults and RMSprop/Adagrad's ε outside the root. */
function _multiBackend(f: KerasFamily): boolean {
  return f === "2.0" || f === "2.1.3";
}

/** Versions that take and honour `decay` (lr / (1 + decay · iterations)). */
function _honoursDecay(f: KerasFamily): boolean {
  return _multiBackend(f) || f === "2.4";
}

/**
 * The legacy `decay` that applies to `o` under family `f` (the learning rate of step t is
 * lr / (1 + decay·(t − 1))): its decay up to Keras 2.10, but Nadam's; else 0.
 */
export function effectiveDecay(o: Optimizer, f: KerasFamily): number {
  return _honoursDecay(f) && o.name !== "nadam" ? o.decay ?? 0 : 0;
}

/** Every argument the family's optimizer takes, with its default. */
function _defaults(name: OptimizerName, f: KerasFamily): Record<string, number | boolean> {
  const multi = _multiBackend(f);
  const epsilon = f === "2.0" ? 1e-8 : 1e-7;
  const decay: Record<string, number> = _honoursDecay(f) && name !== "nadam" ? { decay: 0 } : {};
  switch (name) {
    case "sgd":
      return { learningRate: 0.01, momentum: 0, nesterov: false, ...decay };
    case "rmsprop":
      return multi
        ? { learningRate: 0.001, rho: 0.9, epsilon, ...decay }
        : { learningRate: 0.001, rho: 0.9, momentum: 0, epsilon, centered: false, ...decay };
    case "adagrad":
      return multi
        ? { learningRate: 0.01, epsilon, ...decay }
        : { learningRate: 0.001, initialAccumulatorValue: 0.1, epsilon, ...decay };
    case "adadelta":
      return { learningRate: multi ? 1 : 0.001, rho: 0.95, epsilon, ...decay };
    case "adam":
      return {
        learningRate: 0.001,
        beta1: 0.9,
        beta2: 0.999,
        epsilon,
        ...(f === "2.0" ? {} : { amsgrad: false }),
        ...decay,
      };
    case "adamax":
      return { learningRate: multi ? 0.002 : 0.001, beta1: 0.9, beta2: 0.999, epsilon, ...decay };
    case "nadam":
      return {
        learningRate: multi ? 0.002 : 0.001,
        beta1: 0.9,
        beta2: 0.999,
        epsilon,
        ...(_honoursDecay(f) ? { scheduleDecay: 0.004 } : {}),
      };
  }
}

/** Keras' class name of an optimizer. */
/** Keras' class name of each optimizer, e.g. `RMSprop`. */
export const KERAS_CLASS: Record<OptimizerName, string> = {
  sgd: "SGD",
  rmsprop: "RMSprop",
  adagrad: "Adagrad",
  adadelta: "Adadelta",
  adam: "Adam",
  adamax: "Adamax",
  nadam: "Nadam",
};

/** Why a version lacks an argument that another version's optimizer of that name takes. */
const _ADDED_LATER: Record<string, string> = {
  amsgrad: "Keras 2.1.3 added it",
  momentum: "Keras 2.4 added it",
  centered: "Keras 2.4 added it",
  initialAccumulatorValue: "its accumulator starts at 0; Keras 2.4 added the argument, default 0.1",
  scheduleDecay: "since Keras 2.11 its momentum schedule is fixed, β₁(1 − ½·0.96ᵗ)",
};

/** The `decay` a spec gives that its Keras version ignores (Keras 3; Nadam in 2.4–2.10). */
function _ignoredDecay(name: OptimizerName, f: KerasFamily): boolean {
  return f === "3" || (f === "2.4" && name === "nadam");
}

/** A problem of an optimizer under a Keras version: the field (`keras`, `optimizer.x`) and why. */
export interface OptimizerIssue {
  /** The field's path within the protocol. */
  path: string[];
  /** What is wrong and what to do. */
  message: string;
}

/**
 * The problems of `o` under the Keras version `keras` (undefined: Keras 3): a version claimcheck
 * does not model, or an argument that version's optimizer does not take.
 */
export function optimizerIssues(o: WrittenOptimizer, keras: string | undefined): OptimizerIssue[] {
  // A malformed version, an unknown optimizer or key is the schema's to report.
  if (keras !== undefined && !KerasVersionSchema.safeParse(keras).success) return [];
  if (!OPTIMIZER_NAMES.includes(o.name)) return [];
  const f = kerasFamily(keras);
  if (typeof f !== "string") return [{ path: ["keras"], message: f.error }];
  const version = `Keras ${keras ?? "3"}`;
  // Without "keras", Keras 3 is only the default: the source may have run another version.
  const hint = keras === undefined ? '; name the source\'s Keras version in "keras"' : "";
  const known = _defaults(o.name, f);
  const issues: OptimizerIssue[] = [];
  for (const key of Object.keys(o)) {
    if (key in known || !(key in _ADDED_LATER || key === "decay")) continue;
    if (key === "decay" && _ignoredDecay(o.name, f)) continue;
    const message = key === "decay" && f === "2.11"
      ? `${version} rejects decay (an error since Keras 2.11); drop it, or name the Keras ` +
        "version the source ran (2.10 and earlier apply it, 3 ignores it)"
      : key === "decay"
      ? `${version}'s Nadam takes no decay (scheduleDecay is its momentum schedule's)`
      : `${version}'s ${KERAS_CLASS[o.name]} takes no ${key} (${_ADDED_LATER[key]})${hint}`;
    issues.push({ path: ["optimizer", key], message });
  }
  return issues;
}

/**
 * `o` with its Keras version's defaults filled in (see Optimizer), for an optimizer and version
 * that {@link optimizerIssues} passes.
 */
export function withKerasDefaults(o: WrittenOptimizer, keras: string | undefined): Optimizer {
  const f = kerasFamily(keras);
  if (typeof f !== "string") throw new Error(f.error);
  return { ..._defaults(o.name, f), ...o } as Optimizer;
}

/**
 * Whether `o` runs tfjs' own update instead of Keras': where no Keras version is named, Adam and
 * momentum SGD keep tfjs 4.22's formulas (claimcheck's fused wasm kernels, bit-identical to
 * tfjs), so the numbers of replications written before Keras versions could be named stay the
 * same. tfjs' Adam adds ε to the bias-corrected √v̂ (Keras to √v) and its momentum accumulates
 * gradients (a ← μa + g; w ← w − lr·a) where Keras accumulates steps (v ← μv − lr·g; w ← w + v).
 * tfjs has no AMSGrad, so Adam with `amsgrad` runs Keras 3's rule; plain SGD is the same float32
 * operation in both.
 */
export function runsTfjsFormula(o: Optimizer, keras: string | undefined): boolean {
  if (keras !== undefined) return false;
  return (o.name === "adam" && !o.amsgrad) || (o.name === "sgd" && o.momentum > 0);
}

/** The optimizer a run trained with, exactly as it ran (recorded in the run). */
export const OptimizerRunSchema = z.strictObject({
  /** Its name, as in the spec. */
  name: z.enum(OPTIMIZER_NAMES),
  /** The Keras version the protocol named; null: none (Keras 3's defaults). */
  keras: z.string().nullable(),
  /** Every argument, defaults filled in (camelCase Keras names). */
  args: z.record(z.string(), z.union([z.number(), z.boolean()])),
  /** Whose update rule ran: `Keras 2.2.4`, `Keras 3` or `tfjs 4.22`. */
  formula: z.string(),
  /** The update rule, per weight w with gradient g at step t (from 1). */
  update: z.string(),
});

/** The optimizer a run trained with, exactly as it ran (see OptimizerRunSchema). */
export interface OptimizerRun {
  /** Its name, as in the spec. */
  name: OptimizerName;
  /** The Keras version the protocol named; null: none (Keras 3's defaults). */
  keras: string | null;
  /** Every argument, defaults filled in (camelCase Keras names). */
  args: Record<string, number | boolean>;
  /** Whose update rule ran: `Keras 2.2.4`, `Keras 3` or `tfjs 4.22`. */
  formula: string;
  /** The update rule, per weight w with gradient g at step t (from 1). */
  update: string;
}

/** The update rule `o` runs under family `f` (or tfjs'), in words. */
function _update(o: Optimizer, f: KerasFamily, tfjs: boolean): string {
  const rule = _rule(o, f, tfjs);
  return effectiveDecay(o, f) > 0 ? `lr = lr₀/(1 + decay·(t − 1)); ${rule}` : rule;
}

function _rule(o: Optimizer, f: KerasFamily, tfjs: boolean): string {
  const inside = epsilonInsideRoot(o, f);
  switch (o.name) {
    case "sgd":
      if (o.momentum === 0) return "w ← w − lr·g";
      if (tfjs) {
        return o.nesterov ? "a ← μa + g; w ← w − lr·(g + μa)" : "a ← μa + g; w ← w − lr·a";
      }
      return o.nesterov ? "v ← μv − lr·g; w ← w + μv − lr·g" : "v ← μv − lr·g; w ← w + v";
    case "rmsprop": {
      const mean = o.centered ? "ḡ ← ρḡ + (1−ρ)g; " : "";
      const a = o.centered ? "a − ḡ²" : "a";
      const step = inside ? `lr·g/√(${a} + ε)` : `lr·g/(√(${a}) + ε)`;
      const apply = (o.momentum ?? 0) > 0 ? `m ← μm + ${step}; w ← w − m` : `w ← w − ${step}`;
      return `a ← ρa + (1−ρ)g²; ${mean}${apply}`;
    }
    case "adagrad":
      return `a ← a + g² (a₀ = ${o.initialAccumulatorValue ?? 0}); w ← w − ` +
        (inside ? "lr·g/√(a + ε)" : "lr·g/(√a + ε)");
    case "adadelta":
      return "a ← ρa + (1−ρ)g²; Δ = g·√(d + ε)/√(a + ε); w ← w − lr·Δ; d ← ρd + (1−ρ)Δ²";
    case "adam": {
      const moments = "m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; ";
      if (tfjs) return `${moments}w ← w − lr·m̂/(√v̂ + ε), m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)`;
      return o.amsgrad
        ? `${moments}v̂ ← max(v̂, v); w ← w − lr·√(1−β₂ᵗ)/(1−β₁ᵗ)·m/(√v̂ + ε)`
        : `${moments}w ← w − lr·√(1−β₂ᵗ)/(1−β₁ᵗ)·m/(√v + ε)`;
    }
    case "adamax":
      return "m ← β₁m + (1−β₁)g; u ← max(β₂u, |g|); w ← w − lr/(1−β₁ᵗ)·m/(u + ε)";
    case "nadam":
      return `μₜ = β₁(1 − ½·0.96^${_scheduled(nadamScheduleDecay(o))}); Πₜ = Πₜ₋₁μₜ; ` +
        "m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; " +
        "w ← w − lr·(μₜ₊₁m/(1 − Πₜμₜ₊₁) + (1−μₜ)g/(1 − Πₜ))/(√(v/(1−β₂ᵗ)) + ε)";
  }
}

/** The exponent of Nadam's schedule in words: `t`, or `(0.004t)`. */
function _scheduled(factor: number): string {
  return factor === 1 ? "t" : `(${factor}t)`;
}

/**
 * Whether ε is added under the square root (√(a + ε)) rather than to it (√a + ε): RMSprop and
 * Adagrad from Keras 2.11 on, and RMSprop with momentum in 2.4–2.10 (tf.keras' RMSProp kernel);
 * outside in multi-backend Keras and in 2.4–2.10 otherwise.
 */
export function epsilonInsideRoot(o: Optimizer, f: KerasFamily): boolean {
  if (o.name !== "rmsprop" && o.name !== "adagrad") return false;
  if (f === "2.11" || f === "3") return true;
  return f === "2.4" && o.name === "rmsprop" && (o.momentum ?? 0) > 0;
}

/** The factor of t in Nadam's momentum schedule 0.96^(factor·t): scheduleDecay, or 1 from 2.11. */
export function nadamScheduleDecay(o: Optimizer): number {
  return o.name === "nadam" ? o.scheduleDecay ?? 1 : 1;
}

/**
 * The optimizer of a protocol as it runs (`o` with defaults filled in, under the Keras version
 * `keras`) and the notes the run records where it departs from what the spec says: a `decay`
 * that version ignores, or tfjs' formula where no version is named.
 */
export function optimizerRun(
  o: Optimizer,
  keras: string | undefined,
): { run: OptimizerRun; notes: string[] } {
  const f = kerasFamily(keras);
  if (typeof f !== "string") throw new Error(f.error);
  const tfjs = runsTfjsFormula(o, keras);
  const { name, ...given } = o;
  const ignored = _ignoredDecay(name, f) && o.decay !== undefined;
  const args = Object.fromEntries(
    Object.entries(given).filter(([k]) => !(ignored && k === "decay")),
  ) as Record<string, number | boolean>;
  const notes: string[] = [];
  const version = `Keras ${keras ?? "3"}`;
  if (ignored) {
    notes.push(
      `optimizer.decay ${o.decay} was ignored, as ${version}'s ${KERAS_CLASS[name]} ignores it` +
        (f === "3"
          ? ' (with a warning); name the source\'s Keras version in "keras" (2.10 or earlier ' +
            "applies it)"
          : " (its decay argument is overwritten by schedule_decay)"),
    );
  }
  if (tfjs) {
    notes.push(
      name === "adam"
        ? `Adam ran tfjs ${TFJS_FORMULA_VERSION}'s update, which adds ε to the bias-corrected ` +
          '√v̂ where Keras adds it to √v; name the source\'s Keras version in "keras" to run ' +
          "Keras' formula"
        : `SGD with momentum ran tfjs ${TFJS_FORMULA_VERSION}'s update (a ← μa + g; ` +
          "w ← w − lr·a), equal to Keras' (v ← μv − lr·g; w ← w + v) but for float32 " +
          "rounding; name the source's Keras version in \"keras\" to run Keras' formula",
    );
  }
  return {
    run: {
      name,
      keras: keras ?? null,
      args,
      formula: tfjs ? `tfjs ${TFJS_FORMULA_VERSION}` : version,
      update: _update(o, f, tfjs),
    },
    notes,
  };
}

// The public type above is the schema's output type: a change to one alone fails type checking.
const _sameAsSchema: SameType<OptimizerRun, z.infer<typeof OptimizerRunSchema>> = true;
