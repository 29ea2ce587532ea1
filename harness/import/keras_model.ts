/**
 * A Keras model found in a snippet, written as a model.ts builder: each layer as its tfjs-layers
 * twin with the same arguments (camelCase), Dense and convolution kernels from `seededGlorot`,
 * Sequential models as `tf.sequential` and functional ones as `tf.input` … `tf.model`. A layer
 * or argument without a tfjs twin is written as a `todo("…")` call that throws when the model
 * is built, and listed; nothing is dropped or guessed.
 * @module
 */
import type { Call, ModelState, TensorNode, Val } from "./plan.ts";

/** How one Keras layer maps to tfjs: its factory, positional names and translated arguments. */
interface _LayerRule {
  /** The tfjs factory under `tf.layers`. */
  fn: string;
  /** Keras' positional parameters, in order (only those the same in every Keras 2/3 version). */
  pos: string[];
  /** Keras argument → tfjs argument, besides the common ones. */
  args: Record<string, string>;
  /** Has a kernel (seeded with `init()`). */
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

/** A model.ts builder body and what it could not translate. */
export interface ModelCode {
  /** The builder's body lines (indented for an arrow function inside `models`). */
  body: string[];
  /** Uses `init()` (seededGlorot). */
  usesInit: boolean;
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
 * reshapes, without the sample axis) gives the input shape where the layers state none.
 */
export function modelCode(model: ModelState, dataShape: number[] | null): ModelCode {
  const out: ModelCode = {
    body: [],
    usesInit: false,
    usesTodo: false,
    usesCall: false,
    todos: [],
    summary: "",
  };
  if (model.opaque) {
    _todoModel(out, `${model.text}: ${model.opaque}`);
    return out;
  }
  if (model.kind === "sequential") _sequential(model, dataShape, out);
  else _functional(model, out);
  return out;
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

function _sequential(model: ModelState, dataShape: number[] | null, out: ModelCode): void {
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
    items.push(_layer(v.call, out, extra));
    names.push(_short(v.call));
  }
  out.summary = names.join(" → ");
  if (out.usesInit) out.body.push("const init = seededGlorot(seed);");
  out.body.push("return tf.sequential({", "  layers: [");
  for (const item of items) out.body.push(..._indent(`${item},`, 4));
  out.body.push("  ],", "});");
}

function _functional(model: ModelState, out: ModelCode): void {
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
      layer = _layer(t.layer.call, out, []);
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
  if (out.usesInit) out.body.push("const init = seededGlorot(seed);");
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
function _layer(call: Call, out: ModelCode, extra: [string, string][]): string {
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
  let initializer = false;
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
      if (_isGlorotUniform(v)) initializer = true;
      else problems.push(`${arg} (claimcheck seeds Glorot-uniform kernels only)`);
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
  if (rule.kernel || initializer) {
    out.usesInit = true;
    entries.push(["kernelInitializer", "init()"]);
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

function _isGlorotUniform(v: Val): boolean {
  if (v.k === "str") return v.v === "glorot_uniform";
  if (v.k === "obj" || v.k === "ref") {
    const name = v.k === "obj" ? v.call.name : v.path.split(".").at(-1);
    const kw = v.k === "obj" ? v.call.kw : {};
    const args = v.k === "obj" ? v.call.args : [];
    if (name === "glorot_uniform" || name === "GlorotUniform") {
      return !args.length && Object.values(kw).every((x) => x.k === "none");
    }
    // A model.json's VarianceScaling(1, fan_avg, uniform) is Glorot-uniform.
    if (name === "VarianceScaling") {
      const s = kw.scale, m = kw.mode, d = kw.distribution;
      return s?.k === "num" && s.v === 1 && m?.k === "str" && m.v === "fan_avg" &&
        d?.k === "str" && d.v === "uniform" && (kw.seed === undefined || kw.seed.k === "none");
    }
  }
  return false;
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
