/**
 * A Keras model found in a snippet, written as a model.ts builder: each layer as its tfjs-layers
 * twin with the same arguments (camelCase), Dense and convolution kernels seeded (`seededGlorot`
 * where all are Keras' default Glorot-uniform, else `seededInitializers` by Keras name, drawn as
 * the snippet's Keras version or tfjs draws them), Sequential models as `tf.sequential` and
 * functional ones as `tf.input` … `tf.model`. A layer or argument without a tfjs twin is written
 * as a `todo("…")` call that throws when the model is built, and listed; nothing is dropped or
 * guessed.
 * @module
 */
import { KERNEL_INITIALIZERS, type KernelInitializerName } from "../util/seeded_initializers.ts";
import type { Call, ModelState, TensorNode, Val } from "./plan.ts";

/** How one Keras layer maps to tfjs: its factory, positional names and translated arguments. */
interface _LayerRule {
  /** The tfjs factory under `tf.layers`. */
  fn: string;
  /** Keras' positional parameters, in order (only those the same in every Keras 2/3 version). */
  pos: string[];
  /** Keras argument → tfjs argument, besides the common ones. */
  args: Record<string, string>;
  /** Has a kernel (seeded with `init()`, or `init(name)`). */
  kernel?: boolean;
}

const _CONV = {
  filters: "filters",
  kernel_size: "kernelSize",
  strides: "strides",
  padding: "padding",
  activation: "activation",
  use_bias: "useBias",
  dilation_rate: "dilationRate",
};
const _POOL = { pool_size: "poolSize", strides: "strides", padding: "padding" };

/** The Keras layers claimcheck translates. */
const _LAYERS: Record<string, _LayerRule> = {
  Dense: {
    fn: "dense",
    pos: ["units"],
    args: { units: "units", activation: "activation", use_bias: "useBias" },
    kernel: true,
  },
  Conv2D: { fn: "conv2d", pos: ["filters", "kernel_size"], args: _CONV, kernel: true },
  Conv2DTranspose: {
    fn: "conv2dTranspose",
    pos: ["filters", "kernel_size"],
    args: _CONV,
    kernel: true,
  },
  MaxPooling2D: { fn: "maxPooling2d", pos: ["pool_size", "strides", "padding"], args: _POOL },
  MaxPool2D: { fn: "maxPooling2d", pos: ["pool_size", "strides", "padding"], args: _POOL },
  AveragePooling2D: {
    fn: "averagePooling2d",
    pos: ["pool_size", "strides", "padding"],
    args: _POOL,
  },
  AvgPool2D: { fn: "averagePooling2d", pos: ["pool_size", "strides", "padding"], args: _POOL },
  GlobalAveragePooling2D: { fn: "globalAveragePooling2d", pos: [], args: {} },
  GlobalMaxPooling2D: { fn: "globalMaxPooling2d", pos: [], args: {} },
  Flatten: { fn: "flatten", pos: [], args: {} },
  Reshape: { fn: "reshape", pos: ["target_shape"], args: { target_shape: "targetShape" } },
  Dropout: { fn: "dropout", pos: ["rate"], args: { rate: "rate", seed: "seed" } },
  GaussianNoise: { fn: "gaussianNoise", pos: ["stddev"], args: { stddev: "stddev" } },
  GaussianDropout: { fn: "gaussianDropout", pos: ["rate"], args: { rate: "rate" } },
  AlphaDropout: { fn: "alphaDropout", pos: ["rate"], args: { rate: "rate" } },
  BatchNormalization: {
    fn: "batchNormalization",
    pos: [],
    args: {
      axis: "axis",
      momentum: "momentum",
      epsilon: "epsilon",
      center: "center",
      scale: "scale",
    },
  },
  Activation: { fn: "activation", pos: ["activation"], args: { activation: "activation" } },
  UpSampling2D: {
    fn: "upSampling2d",
    pos: ["size"],
    args: { size: "size", interpolation: "interpolation" },
  },
  ZeroPadding2D: { fn: "zeroPadding2d", pos: ["padding"], args: { padding: "padding" } },
  LeakyReLU: { fn: "leakyReLU", pos: [], args: { alpha: "alpha", negative_slope: "alpha" } },
  ReLU: { fn: "reLU", pos: [], args: { max_value: "maxValue" } },
  ELU: { fn: "elu", pos: [], args: { alpha: "alpha" } },
  Softmax: { fn: "softmax", pos: [], args: { axis: "axis" } },
  Concatenate: { fn: "concatenate", pos: [], args: { axis: "axis" } },
  Add: { fn: "add", pos: [], args: {} },
  Multiply: { fn: "multiply", pos: [], args: {} },
  Average: { fn: "average", pos: [], args: {} },
  Maximum: { fn: "maximum", pos: [], args: {} },
  Minimum: { fn: "minimum", pos: [], args: {} },
};

/** The Keras layer whose tfjs twin is `tf.layers.<factory>` (its first name), if translated. */
export function kerasLayerName(factory: string): string | undefined {
  return Object.entries(_LAYERS).find(([, rule]) => rule.fn === factory)?.[0];
}

/** Keras activation names → tfjs'. */
const _ACTIVATIONS: Record<string, string> = {
  relu: "relu",
  softmax: "softmax",
  sigmoid: "sigmoid",
  tanh: "tanh",
  linear: "linear",
  elu: "elu",
  selu: "selu",
  softplus: "softplus",
  softsign: "softsign",
  hard_sigmoid: "hardSigmoid",
  relu6: "relu6",
  swish: "swish",
  silu: "swish",
  gelu: "gelu",
  mish: "mish",
};

/** Arguments every layer may take, and arguments whose default value is all we translate. */
const _COMMON: Record<string, string> = {
  name: "name",
  input_shape: "inputShape",
  batch_input_shape: "batchInputShape",
  trainable: "trainable",
};

/** Whose kernels a snippet's model has: tfjs', or those of a Keras version (undefined: Keras 3). */
export interface ModelLibrary {
  /** A TensorFlow.js snippet: tfjs' default kernels (Glorot-normal) and draws. */
  tfjs: boolean;
  /** The Keras version the snippet ran, where known. */
  keras?: string;
}

/** A model.ts builder body and what it could not translate. */
export interface ModelCode {
  /** The builder's body lines (indented for an arrow function inside `models`). */
  body: string[];
  /**
   * The plugin helper the builder seeds its kernels with, if any: `seededGlorot` (`init()`)
   * where every kernel is Keras' Glorot-uniform, else `seededInitializers` (`init(name)`).
   */
  initHelper?: "seededGlorot" | "seededInitializers";
  /** The kernel initializers seeded, by Keras name, each once, in order of first use. */
  initializers: KernelInitializerName[];
  /** Uses the `todo()` stand-in. */
  usesTodo: boolean;
  /** Uses the `call()` helper (functional models). */
  usesCall: boolean;
  /** What could not be translated, one line each, with where it is. */
  todos: string[];
  /** The architecture in one line, e.g. `Dense(512, relu) → Dropout(0.2) → Dense(10, softmax)`. */
  summary: string;
}

/**
 * Writes the builder of `model`; `dataShape` (the training images' shape after the snippet's
 * reshapes, without the sample axis) gives the input shape where the layers state none; its
 * kernels are drawn as `library` draws them.
 */
export function modelCode(
  model: ModelState,
  dataShape: number[] | null,
  library: ModelLibrary,
): ModelCode {
  const out: ModelCode = {
    body: [],
    initializers: [],
    usesTodo: false,
    usesCall: false,
    todos: [],
    summary: "",
  };
  if (model.opaque) {
    _todoModel(out, `${model.text}: ${model.opaque}`);
    return out;
  }
  const kernels: _Kernels = {
    tfjs: library.tfjs,
    named: library.tfjs || _layerCalls(model).some((c) => {
      const given = c.kw.kernel_initializer;
      const name = given && _kernelInitializer(given, library.tfjs);
      return name !== undefined && name !== "glorot_uniform";
    }),
  };
  if (model.kind === "sequential") _sequential(model, dataShape, out, kernels);
  else _functional(model, out, kernels);
  if (out.initializers.length) {
    const rules = library.tfjs ? "tfjs" : library.keras;
    out.initHelper = kernels.named ? "seededInitializers" : "seededGlorot";
    out.body.unshift(
      kernels.named
        ? `const init = seededInitializers(seed${rules ? `, ${JSON.stringify(rules)}` : ""});`
        : "const init = seededGlorot(seed);",
    );
  }
  return out;
}

/** How the builder seeds kernels: the library's default, and whether each names its own. */
interface _Kernels {
  /** tfjs' layers: Glorot-normal kernels by default. */
  tfjs: boolean;
  /** `init(name)` (seededInitializers) rather than `init()` (seededGlorot). */
  named: boolean;
}

/** The layer calls of a model: a Sequential's layers, or those applied on a functional one's path. */
function _layerCalls(model: ModelState): Call[] {
  if (model.opaque) return [];
  if (model.kind === "sequential") {
    return model.layers.flatMap((v) => v.k === "layer" ? [v.call] : []);
  }
  const calls: Call[] = [];
  const seen = new Set<number>();
  const visit = (t: TensorNode) => {
    if (seen.has(t.id)) return;
    seen.add(t.id);
    if (t.kind !== "apply") return;
    calls.push(t.layer.call);
    t.inputs.forEach(visit);
  };
  model.outputs!.forEach(visit);
  return calls;
}

function _todoModel(out: ModelCode, what: string): void {
  out.usesTodo = true;
  out.todos.push(`model.ts: the model (${what}) is not translated`);
  out.body.push(`return ${todoCall(what)};`);
  out.summary = "TODO: the model";
}

/** `todo("…")`, its argument on a line of its own where the call would be long (as deno fmt). */
export function todoCall(what: string): string {
  const inline = `todo(${JSON.stringify(what)})`;
  return inline.length + 20 <= 100 ? inline : `todo(\n  ${JSON.stringify(what)},\n)`;
}

function _sequential(
  model: ModelState,
  dataShape: number[] | null,
  out: ModelCode,
  kernels: _Kernels,
): void {
  const items: string[] = [];
  const names: string[] = [];
  let inputShape: Val | undefined;
  let first = true;
  for (const v of model.layers) {
    // keras.Input(shape) or InputLayer(input_shape) in a Sequential: the next layer's input shape.
    if (v.k === "tensor" && v.node.kind === "input") {
      inputShape = v.node.call.kw.shape ?? v.node.call.args[0];
      continue;
    }
    if (v.k === "layer" && v.call.name === "InputLayer") {
      inputShape = v.call.kw.input_shape ?? v.call.kw.shape ?? v.call.args[0];
      continue;
    }
    if (v.k !== "layer") {
      const why = v.k === "unknown" ? v.why : `${model.where}: a layer that is not a Keras layer`;
      items.push(_todoCall(out, why));
      names.push("TODO");
      first = false;
      continue;
    }
    const extra: [string, string][] = [];
    const stated = ["input_shape", "batch_input_shape", "input_dim"].some((a) => a in v.call.kw);
    if (first && !stated) {
      const shape = inputShape ? _literal(inputShape) : dataShape && `[${dataShape.join(", ")}]`;
      if (shape) extra.push(["inputShape", shape]);
      else {
        out.todos.push(
          `model.ts: ${v.call.where}: the first layer states no input shape and the data's ` +
            "shape is not known: add inputShape",
        );
      }
    }
    first = false;
    items.push(_layer(v.call, out, extra, kernels));
    names.push(_short(v.call));
  }
  out.summary = names.join(" → ");
  out.body.push("return tf.sequential({", "  layers: [");
  for (const item of items) out.body.push(..._indent(`${item},`, 4));
  out.body.push("  ],", "});");
}

function _functional(model: ModelState, out: ModelCode, kernels: _Kernels): void {
  const reachable = new Map<number, TensorNode>();
  const visit = (t: TensorNode) => {
    if (reachable.has(t.id)) return;
    reachable.set(t.id, t);
    if (t.kind === "apply") t.inputs.forEach(visit);
  };
  model.outputs!.forEach(visit);
  const order = [...reachable.values()].sort((a, b) => a.id - b.id);
  const uses = new Map<number, number>();
  for (const t of order) {
    if (t.kind === "apply") uses.set(t.layer.id, (uses.get(t.layer.id) ?? 0) + 1);
  }
  const names = new Map<number, string>();
  const lines: string[] = [];
  const shared = new Map<number, string>();
  const summary: string[] = [];
  let inputs = 0, xs = 0;
  for (const t of order) {
    if (t.kind === "input") {
      const name = ++inputs === 1 ? "input" : `input${inputs}`;
      names.set(t.id, name);
      const shape = t.call.kw.shape ?? t.call.args[0];
      const lit = shape && _literal(shape);
      if (!lit || Object.keys(t.call.kw).some((k) => k !== "shape" && k !== "name")) {
        lines.push(`const ${name} = ${_todoCall(out, `${t.call.where}: ${t.call.text}`)};`);
      } else lines.push(`const ${name} = tf.input({ shape: ${lit} });`);
      continue;
    }
    const name = `x${++xs}`;
    names.set(t.id, name);
    const args = t.inputs.map((i) => names.get(i.id)!);
    const x = args.length === 1 ? args[0] : `[${args.join(", ")}]`;
    let layer = shared.get(t.layer.id);
    if (!layer) {
      layer = _layer(t.layer.call, out, [], kernels);
      summary.push(_short(t.layer.call));
      if ((uses.get(t.layer.id) ?? 0) > 1) {
        const shareName = `shared${shared.size + 1}`;
        lines.push(..._indent(`const ${shareName} = ${layer};`, 0));
        shared.set(t.layer.id, shareName);
        layer = shareName;
      }
    }
    out.usesCall = true;
    lines.push(..._wrapCall(`const ${name} = call(`, layer, x));
  }
  if (model.inputs!.some((i) => !names.has(i.id))) {
    out.todos.push(`model.ts: ${model.where}: an input the outputs do not depend on`);
  }
  const ins = model.inputs!.map((i) => names.get(i.id) ?? "TODO");
  const outs = model.outputs!.map((o) => names.get(o.id)!);
  const list = (a: string[]) => a.length === 1 ? a[0] : `[${a.join(", ")}]`;
  out.body.push(...lines);
  out.body.push(`return tf.model({ inputs: ${list(ins)}, outputs: ${list(outs)} });`);
  out.summary = summary.join(" → ");
}

/** `const x = call(layer, input);` on one line when it fits, else broken as deno fmt does. */
function _wrapCall(head: string, layer: string, x: string): string[] {
  const one = `${head}${layer}, ${x});`;
  if (!layer.includes("\n") && one.length + 4 <= 100) return [one];
  return [head, ..._indent(`${layer},`, 2), `  ${x},`, ");"];
}

/** A todo("…") stand-in for something not translated; records it. */
function _todoCall(out: ModelCode, what: string): string {
  out.usesTodo = true;
  out.todos.push(`model.ts: ${what}`);
  return todoCall(what);
}

/** One layer as a tfjs call, or a todo() with the reason. */
function _layer(
  call: Call,
  out: ModelCode,
  extra: [string, string][],
  kernels: _Kernels,
): string {
  const rule = _LAYERS[call.name];
  if (!rule) {
    return _todoCall(out, `${call.where}: ${call.text}: no tfjs layer for Keras' ${call.name}`);
  }
  const entries: [string, string][] = [];
  const problems: string[] = [];
  const given: [string, Val][] = [
    ...call.args.map((v, i): [string, Val] => [rule.pos[i] ?? `#${i + 1}`, v]),
    ...Object.entries(call.kw),
  ];
  let kernel: KernelInitializerName | undefined = rule.kernel
    ? kernels.tfjs ? "glorot_normal" : "glorot_uniform"
    : undefined;
  for (const [arg, v] of given) {
    if (v.k === "none" && arg !== "activation") continue;
    if (arg.startsWith("#")) {
      problems.push(`positional argument ${arg.slice(1)}`);
      continue;
    }
    if (arg === "input_dim") {
      const lit = _literal(v);
      if (lit) entries.push(["inputShape", `[${lit}]`]);
      else problems.push(arg);
      continue;
    }
    if (arg === "kernel_initializer") {
      const name = _kernelInitializer(v, kernels.tfjs);
      const seed = v.k === "obj" ? v.call.kw.seed : undefined;
      if (name) kernel = name;
      else if (seed && seed.k !== "none") {
        problems.push(`${arg} (a seed of its own: claimcheck seeds kernels from the run's seed)`);
      } else {
        problems.push(
          `${arg} (claimcheck seeds ${Object.keys(KERNEL_INITIALIZERS).join(", ")} only)`,
        );
      }
      continue;
    }
    if (arg === "bias_initializer") {
      if (!_isZeros(v)) problems.push(arg);
      continue;
    }
    if (arg === "data_format") {
      if (!(v.k === "str" && v.v === "channels_last")) problems.push(`${arg} (channels_first)`);
      continue;
    }
    if (arg === "dtype") {
      if (!(v.k === "str" && v.v === "float32")) problems.push(arg);
      continue;
    }
    if (
      /_(regularizer|constraint)$/.test(arg) || arg === "activity_regularizer"
    ) {
      problems.push(arg);
      continue;
    }
    const ts = rule.args[arg] ?? _COMMON[arg];
    if (!ts) {
      problems.push(arg);
      continue;
    }
    const lit = arg === "activation" ? _activation(v) : _literal(v);
    if (lit === undefined) {
      const why = v.k === "unknown" ? v.why : v.k === "fn" ? "a function of the snippet's own" : "";
      problems.push(`${arg}=?${why ? ` (${why})` : ""}`);
      continue;
    }
    if (arg === "padding" && call.name !== "ZeroPadding2D" && !/^"(valid|same)"$/.test(lit)) {
      problems.push(`${arg}=${lit}`);
      continue;
    }
    entries.push([ts, lit]);
  }
  if (problems.length) {
    return _todoCall(
      out,
      `${call.where}: ${call.text}: not translated: ${problems.join(", ")}`,
    );
  }
  entries.push(...extra);
  if (kernel) {
    if (!out.initializers.includes(kernel)) out.initializers.push(kernel);
    entries.push([
      "kernelInitializer",
      kernels.named ? `init(${JSON.stringify(kernel)})` : "init()",
    ]);
  }
  return _object(`tf.layers.${rule.fn}`, entries);
}

/**
 * The layer factories that take no argument: tfjs' others read their args object unguarded
 * (`tf.layers.globalAveragePooling2d()` throws "Cannot read properties of undefined").
 */
const _NO_ARGS_OK = new Set(["tf.layers.flatten", "tf.layers.batchNormalization"]);

/** `fn({ a: 1, b: 2 })`, broken over lines (as deno fmt does) when longer than fits. */
function _object(fn: string, entries: [string, string][]): string {
  if (!entries.length) return _NO_ARGS_OK.has(fn) ? `${fn}()` : `${fn}({})`;
  const inline = `${fn}({ ${entries.map(([k, v]) => `${k}: ${v}`).join(", ")} })`;
  // The widest place a layer goes: inside `layers: [` of a builder, 8 spaces in, with a comma.
  if (inline.length + 9 <= 100) return inline;
  return `${fn}({\n${entries.map(([k, v]) => `  ${k}: ${v},`).join("\n")}\n})`;
}

function _indent(text: string, by: number): string[] {
  return text.split("\n").map((l) => `${" ".repeat(by)}${l}`);
}

/** A plain value as a TS literal (tuples as arrays), or undefined. */
function _literal(v: Val): string | undefined {
  switch (v.k) {
    case "num":
      return Number.isInteger(v.v) || Math.abs(v.v) >= 1e-6 ? String(v.v) : v.v.toExponential();
    case "str":
      return JSON.stringify(v.v);
    case "bool":
      return String(v.v);
    case "seq": {
      const items = v.items.map(_literal);
      return items.every((i) => i !== undefined) ? `[${items.join(", ")}]` : undefined;
    }
    default:
      return undefined;
  }
}

function _activation(v: Val): string | undefined {
  if (v.k === "none") return '"linear"';
  const name = v.k === "str" ? v.v : v.k === "ref" ? v.path.split(".").at(-1)! : undefined;
  const ts = name === undefined ? undefined : _ACTIVATIONS[name];
  return ts && JSON.stringify(ts);
}

/** Keras' names of the kernel initializers claimcheck seeds (functions, classes, tfjs' LeCun). */
const _INITIALIZER_NAMES: Record<string, KernelInitializerName> = {
  GlorotUniform: "glorot_uniform",
  GlorotNormal: "glorot_normal",
  HeUniform: "he_uniform",
  HeNormal: "he_normal",
  LecunUniform: "lecun_uniform",
  LecunNormal: "lecun_normal",
  LeCunUniform: "lecun_uniform",
  LeCunNormal: "lecun_normal",
  le_cun_uniform: "lecun_uniform",
  le_cun_normal: "lecun_normal",
  ...Object.fromEntries(Object.keys(KERNEL_INITIALIZERS).map((n) => [n, n])),
};

/** Keras' VarianceScaling modes → KERNEL_INITIALIZERS'. */
const _FAN_MODES: Record<string, string> = {
  fan_in: "fanIn",
  fan_out: "fanOut",
  fan_avg: "fanAvg",
};

/**
 * The seeded kernel initializer `v` is, by Keras name: a name, a class or function without a
 * seed of its own, or a VarianceScaling whose arguments are one of them; undefined for others.
 */
function _kernelInitializer(v: Val, tfjs: boolean): KernelInitializerName | undefined {
  const named = (key: string) =>
    Object.hasOwn(_INITIALIZER_NAMES, key) ? _INITIALIZER_NAMES[key] : undefined;
  if (v.k === "str") return named(v.v);
  if (v.k !== "obj" && v.k !== "ref") return undefined;
  if (v.k === "obj" && v.call.args.length) return undefined;
  const name = v.k === "obj" ? v.call.name : v.path.split(".").at(-1)!;
  const kw = v.k === "obj" ? v.call.kw : {};
  if (name === "VarianceScaling") return _varianceScaling(kw, tfjs);
  return Object.values(kw).every((x) => x.k === "none") ? named(name) : undefined;
}

/**
 * A VarianceScaling's arguments (Keras' defaults: scale 1, fan_in, normal) as the named
 * initializer they are, if any (a model.json writes Keras 2's he_normal this way). tf.keras'
 * `truncated_normal` is Keras' truncated `normal`; tfjs draws its `truncatedNormal` as a uniform.
 */
function _varianceScaling(
  kw: Record<string, Val>,
  tfjs: boolean,
): KernelInitializerName | undefined {
  const {
    scale = { k: "num", v: 1 },
    mode = { k: "str", v: "fan_in" },
    distribution = { k: "str", v: "normal" },
    seed,
    ...others
  } = kw;
  if (Object.keys(others).length || (seed && seed.k !== "none")) return undefined;
  if (scale.k !== "num" || mode.k !== "str" || distribution.k !== "str") return undefined;
  const normal = distribution.v === "normal" || (distribution.v === "truncated_normal" && !tfjs);
  const drawn = normal ? "normal" : distribution.v;
  return (Object.keys(KERNEL_INITIALIZERS) as KernelInitializerName[]).find((n) => {
    const k = KERNEL_INITIALIZERS[n];
    return k.scale === scale.v && k.mode === _FAN_MODES[mode.v] && k.distribution === drawn;
  });
}

function _isZeros(v: Val): boolean {
  if (v.k === "str") return v.v === "zeros";
  const name = v.k === "obj" ? v.call.name : v.k === "ref" ? v.path.split(".").at(-1) : "";
  return name === "Zeros" || name === "zeros";
}

/** A layer in a few words for the protocol's description: `Dense(512, relu)`. */
function _short(call: Call): string {
  const rule = _LAYERS[call.name];
  if (!rule) return `${call.name} (TODO)`;
  const main = rule.pos.slice(0, 2).map((p, i) => call.kw[p] ?? call.args[i])
    .filter((v): v is Val => v !== undefined).map((v) => _literal(v) ?? "?");
  const act = call.kw.activation ?? (call.name === "Activation" ? call.args[0] : undefined);
  if (act && call.name !== "Activation") main.push(_activation(act) ?? "?");
  if (call.name === "Activation" && act) main.splice(0, main.length, _activation(act) ?? "?");
  const words = main.map((m) => m.replace(/["[\]]/g, "").replaceAll(", ", "×"));
  return `${call.name}(${words.join(", ")})`;
}
