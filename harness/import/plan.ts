/**
 * What a snippet reader hands the translator: the values an abstract run of the snippet found
 * (the model, `compile`, `fit`, the data) and the text where it states numbers.
 * @module
 */
import type { SyntaxNode } from "@lezer/common";
import type { ScheduleFunction } from "./schedule_function.ts";

/** A call as written: the callee's Keras name (`Dense`), arguments, and where it is. */
export interface Call {
  /** The callee's last name, e.g. `Dense`, `RMSprop`, `Input`. */
  name: string;
  /** The callee's full path with TensorFlow's Keras spelled `keras.`, e.g. `keras.layers.Dense`. */
  path: string;
  /** Positional arguments. */
  args: Val[];
  /** Keyword arguments by their Python (snake_case) names. */
  kw: Record<string, Val>;
  /** Where it is in the snippet, e.g. "line 40". */
  where: string;
  /** The call as written, on one line, shortened. */
  text: string;
}

/** MNIST-like data as the snippet holds it: which split and role, its scaling and shape. */
export interface DataVal {
  /** claimcheck's dataset name (`mnist`, `fashion-mnist`). */
  dataset: string;
  /** Which split it came from. */
  split: "train" | "test";
  /** Images or class labels. */
  role: "images" | "labels";
  /** Raw pixels are divided by this (1: not scaled). */
  divisor: number;
  /** Labels made one-hot (to_categorical). */
  oneHot: boolean;
  /** Its shape, where the reshapes are known. */
  shape: number[] | null;
  /** Set when the snippet does something to it that is not translated (noise, a slice…). */
  why?: string;
  /**
   * Set where it is one part of the training split cut at row `at`, as a notebook holds out
   * validation data: numpy's `A[:at]` (the `first` rows) or `A[at:]` (the `rest`), cut `where`.
   */
  cut?: { at: number; part: "first" | "rest"; where: string };
  /**
   * Set where the images are standardized, `where`: the mean of the images `of` subtracted, over
   * all their pixels or each pixel's own (`over`), then (`std`) divided by their std.
   */
  standardized?: { over: StatsOver; of: DataVal; std: boolean; where: string };
}

/** What numpy's mean or std of images is taken over: all their pixels, or each pixel apart. */
export type StatsOver = "dataset" | "pixel";

/** A symbolic tensor of a functional model: an Input, or a layer applied to tensors. */
export type TensorNode =
  | { kind: "input"; call: Call; id: number }
  | { kind: "apply"; layer: Extract<Val, { k: "layer" }>; inputs: TensorNode[]; id: number };

/** A model the snippet builds, with its compile and fit calls. */
export interface ModelState {
  /** Sequential (a list of layers) or functional (inputs → outputs). */
  kind: "sequential" | "functional";
  /** A Sequential's layers, in order. */
  layers: Val[];
  /** A functional model's inputs. */
  inputs?: TensorNode[];
  /** A functional model's outputs. */
  outputs?: TensorNode[];
  /** Where the model is made. */
  where: string;
  /** The constructor call as written. */
  text: string;
  /** The last compile() call. */
  compile?: Call;
  /** Its fit() calls, in order. */
  fits: FitCall[];
  /** Set when the snippet changes the model in a way the walk cannot follow. */
  opaque?: string;
  /** The first name the snippet gives it, e.g. `model`. */
  name?: string;
}

/** One fit() call with the model and the compile() in force then. */
export interface FitCall {
  /** The fit call. */
  call: Call;
  /** The model it trains. */
  model: ModelState;
  /** The compile() call in force when fit ran. */
  compile?: Call;
  /**
   * Its LearningRateScheduler callbacks' schedule functions, read with the names in force when
   * fit() ran, by the callback's call; a string says why one is not a function claimcheck runs.
   */
  schedulers: Map<Call, ScheduleFunction | string>;
}

/** A `model.evaluate()` result a notebook cell printed, as its stored output shows it. */
export interface PrintedScore {
  /** The evaluate() call. */
  evaluate: Call;
  /** The fit() the evaluated model went through last before evaluate(); none: not trained. */
  fit?: FitCall;
  /** The compile() in force at evaluate(): its metrics say what each index of the result is. */
  compile?: Call;
  /** The print() call. */
  print: Call;
  /** The text it printed, as the output shows it. */
  text: string;
  /** The cell whose output shows it, e.g. "cell 10". */
  cell: string;
  /** The figures shown, as printed, by their index in evaluate()'s result (0: the loss). */
  figures: Map<number, string>;
}

/**
 * A value met while walking a snippet. A number's `py` is its Python type where the walk knows
 * it (a literal, arithmetic on known types); a `score` is what `model.evaluate()` returns (one
 * `index` of it, where the snippet takes one); `stats` are numpy's mean or std of the images
 * `of`.
 */
export type Val =
  | { k: "num"; v: number; py?: "int" | "float" }
  | { k: "str"; v: string }
  | { k: "bool"; v: boolean }
  | { k: "none" }
  | { k: "seq"; items: Val[] }
  | { k: "ref"; path: string }
  | { k: "layer"; call: Call; id: number }
  | { k: "obj"; call: Call }
  | { k: "tensor"; node: TensorNode }
  | { k: "model"; model: ModelState }
  | { k: "data"; data: DataVal }
  | { k: "fn"; node: SyntaxNode; env: Map<string, Val> }
  | { k: "method"; of: Val; name: string }
  | { k: "score"; evaluate: Call; fit?: FitCall; compile?: Call; index?: number }
  | { k: "stats"; stat: "mean" | "std"; over: StatsOver; of: DataVal }
  | { k: "unknown"; why: string };

/** The symbolic tensors a value is: one tensor, or a list of tensors; else undefined. */
function _tensors(v: Val | undefined): TensorNode[] | undefined {
  if (v?.k === "tensor") return [v.node];
  if (v?.k === "seq" && v.items.every((t) => t.k === "tensor")) {
    return v.items.map((t) => (t as Extract<Val, { k: "tensor" }>).node);
  }
  return undefined;
}

/**
 * `layer` applied to `x` (Keras' `layer(x)`, tfjs' `layer.apply(x)`): the symbolic tensor it
 * makes, numbered by `nextId`, or why the walk cannot follow it.
 */
export function appliedLayer(
  layer: Extract<Val, { k: "layer" }>,
  x: Val | undefined,
  call: { where: string; text: string },
  nextId: () => number,
): Extract<Val, { k: "tensor" | "unknown" }> {
  const inputs = _tensors(x);
  if (!inputs) {
    return x?.k === "unknown" ? x : unknown(`${call.where}: \`${call.text}\` is not translated`);
  }
  return { k: "tensor", node: { kind: "apply", layer, inputs, id: nextId() } };
}

/**
 * A functional model from its inputs and outputs (each a tensor or a list of them); opaque,
 * with the reason, where either is something else.
 */
export function functionalModel(
  inputs: Val | undefined,
  outputs: Val | undefined,
  call: { where: string; text: string },
): ModelState {
  const ins = _tensors(inputs), outs = _tensors(outputs);
  const why = (v: Val | undefined) =>
    v?.k === "unknown" ? v.why : `${call.where}: the model's inputs or outputs`;
  const model: ModelState = {
    kind: "functional",
    layers: [],
    inputs: ins ?? [],
    outputs: outs ?? [],
    where: call.where,
    text: call.text,
    fits: [],
  };
  if (!ins) model.opaque = why(inputs);
  else if (!outs) model.opaque = why(outputs);
  return model;
}

/** Whether `a` and `b` are the same rows (split and cut) of one dataset, divided alike. */
export function sameData(a: DataVal, b: DataVal): boolean {
  return a.dataset === b.dataset && a.split === b.split && a.role === b.role &&
    a.divisor === b.divisor && sameCut(a, b);
}

/** Whether `a` and `b` are cut alike: neither, or both the same part at the same row. */
export function sameCut(a: DataVal, b: DataVal): boolean {
  return a.cut?.at === b.cut?.at && a.cut?.part === b.cut?.part;
}

/** Whether `a` and `b` are standardized alike: neither, or both with the same statistics. */
export function sameStandardization(a: DataVal, b: DataVal): boolean {
  const s = a.standardized, t = b.standardized;
  if (!s || !t) return s === t;
  return s.over === t.over && s.std === t.std && sameData(s.of, t.of);
}

/** A value the walk could not follow, with the reason. */
export function unknown(why: string): Extract<Val, { k: "unknown" }> {
  return { k: "unknown", why };
}

/** Text in which a snippet may state a result. */
export interface SnippetText {
  /** A comment, a docstring, a string printed, or a notebook's printed output. */
  kind: "comment" | "docstring" | "print" | "output";
  /** The text. */
  text: string;
  /** Where it is. */
  where: string;
}

/** What reading a snippet found. */
export interface SnippetPlan {
  /** Texts that may state results (claim drafts come from them). */
  texts: SnippetText[];
  /** Things the reader assumed or skipped, for the report (not TODOs by themselves). */
  notes: string[];
  /** Every fit() call, in order. */
  fits: FitCall[];
  /** The evaluate() results printed where a notebook's output shows them. */
  scores: PrintedScore[];
  /** Every module the snippet imports (dotted paths as written). */
  imports: string[];
  /** A model found without a fit() call (a model.json, or a snippet that only builds one). */
  model?: ModelState;
  /** The Keras version the source states (a notebook's `keras.__version__`, a model.json). */
  keras?: string;
  /** The document's title, where it states one (a notebook's first heading). */
  title?: string;
  /**
   * Set for a TensorFlow.js snippet: its names are given in Keras' terms, but it trains with
   * tfjs' optimizers and defaults (written out in full), under no Keras version.
   */
  tfjs?: boolean;
}
