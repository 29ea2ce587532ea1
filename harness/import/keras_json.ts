/**
 * A Keras `model.to_json()` file as a snippet: the model (Sequential, or functional in Keras 2's
 * `inbound_nodes` form) and the Keras version it names. The file holds no training settings, so
 * the protocol's dataset, loss and optimizer are left TODO.
 * @module
 */
import type { Call, ModelState, SnippetPlan, TensorNode, Val } from "./plan.ts";
import { unknown } from "./plan.ts";

type _Json = Record<string, unknown>;

/** Layer arguments a to_json() file writes out even at their Keras default: left out. */
const _DEFAULTS: Record<string, unknown> = {
  use_bias: true,
  padding: "valid",
  data_format: "channels_last",
  activation: "linear",
  trainable: true,
  dtype: "float32",
  noise_shape: null,
  seed: null,
  axis: -1,
  momentum: 0.99,
  epsilon: 0.001,
  center: true,
  scale: true,
  interpolation: "nearest",
  groups: 1,
  output_padding: null,
};

/** Initializer arguments at their default: Zeros for biases and β, Ones for γ and variance. */
const _DEFAULT_INITIALIZERS: Record<string, string> = {
  bias_initializer: "Zeros",
  beta_initializer: "Zeros",
  gamma_initializer: "Ones",
  moving_mean_initializer: "Zeros",
  moving_variance_initializer: "Ones",
};

/** Reads a to_json() file (`file` names it in messages). */
export function kerasJsonPlan(text: string, file: string): SnippetPlan {
  let top: _Json;
  try {
    top = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not JSON: ${(e as Error).message}`);
  }
  if (!top || typeof top !== "object" || typeof top.class_name !== "string") {
    throw new Error(`${file}: not a Keras model.to_json() file (no "class_name")`);
  }
  const plan: SnippetPlan = { texts: [], notes: [], fits: [], scores: [], imports: [] };
  if (typeof top.keras_version === "string") {
    plan.keras = top.keras_version.replace(/-tf$/, "");
  }
  const config = top.config as _Json | _Json[] | undefined;
  const layers = (Array.isArray(config) ? config : config?.layers) as _Json[] | undefined;
  const model: ModelState = {
    kind: top.class_name === "Sequential" ? "sequential" : "functional",
    layers: [],
    where: "its config",
    text: `${top.class_name}`,
    fits: [],
    name: "model",
  };
  plan.model = model;
  if (!Array.isArray(layers)) {
    model.opaque = `${file}: no layer list`;
    return plan;
  }
  if (model.kind === "sequential") {
    layers.forEach((l, i) => model.layers.push(_layer(l, `${file}, layer ${i + 1}`, i)));
    return plan;
  }
  _functional(model, config as _Json, layers, file);
  return plan;
}

function _functional(model: ModelState, config: _Json, layers: _Json[], file: string): void {
  const nodes = new Map<string, TensorNode>();
  let id = 0;
  for (const [i, l] of layers.entries()) {
    const name = String((l.config as _Json)?.name ?? l.name);
    const where = `${file}, layer ${i + 1}`;
    if (l.class_name === "InputLayer") {
      const c = l.config as _Json;
      const shape = (c.batch_input_shape ?? c.batch_shape) as unknown[] | undefined;
      const call: Call = {
        name: "Input",
        path: "keras.Input",
        args: [],
        kw: shape ? { shape: _val(shape.slice(1)) } : {},
        where,
        text: `Input(${name})`,
      };
      nodes.set(name, { kind: "input", call, id: ++id });
      continue;
    }
    const inbound = l.inbound_nodes as unknown[][][] | undefined;
    const sources = Array.isArray(inbound?.[0])
      ? inbound[0].map((n) => nodes.get(String(n[0])))
      : [];
    if (!sources.length || sources.some((s) => !s)) {
      model.opaque = `${where}: inputs in a form claimcheck does not read (Keras 3 files)`;
      return;
    }
    const layer = _layer(l, where, i);
    if (layer.k !== "layer") {
      model.opaque = layer.k === "unknown" ? layer.why : where;
      return;
    }
    nodes.set(name, {
      kind: "apply",
      layer,
      inputs: sources as TensorNode[],
      id: ++id,
    });
  }
  const ends = (key: string) =>
    ((config[key] ?? []) as unknown[][]).map((e) => nodes.get(String(e[0])));
  const inputs = ends("input_layers"), outputs = ends("output_layers");
  if (inputs.some((n) => !n) || outputs.some((n) => !n)) {
    model.opaque = `${file}: input_layers or output_layers name unknown layers`;
    return;
  }
  model.inputs = inputs as TensorNode[];
  model.outputs = outputs as TensorNode[];
}

/** One layer entry as a Keras call, with arguments at their default left out. */
function _layer(l: _Json, where: string, index: number): Val {
  const cls = String(l.class_name);
  const c = (l.config ?? {}) as _Json;
  const kw: Record<string, Val> = {};
  for (const [k, v] of Object.entries(c)) {
    if (k === "name" || k === "build_config" || k === "registered_name" || k === "module") continue;
    if (k in _DEFAULTS && JSON.stringify(_DEFAULTS[k]) === JSON.stringify(v)) continue;
    if (k.endsWith("_regularizer") || k.endsWith("_constraint")) {
      if (v === null) continue;
    }
    if (k in _DEFAULT_INITIALIZERS && (v as _Json)?.class_name === _DEFAULT_INITIALIZERS[k]) {
      continue;
    }
    if ((k === "strides" || k === "dilation_rate") && Array.isArray(v) && v.every((x) => x === 1)) {
      continue;
    }
    if (k === "batch_input_shape" || k === "batch_shape") {
      if (Array.isArray(v)) kw.input_shape = _val(v.slice(1));
      continue;
    }
    kw[k] = _val(v);
  }
  const call: Call = {
    name: cls,
    path: `keras.layers.${cls}`,
    args: [],
    kw,
    where,
    text: `${cls}(${String(c.name ?? "")})`,
  };
  return { k: "layer", call, id: index + 1 };
}

/** A JSON value as a snippet value; `{class_name, config}` as a constructed Keras object. */
function _val(v: unknown): Val {
  if (v === null) return { k: "none" };
  if (typeof v === "number") return { k: "num", v };
  if (typeof v === "string") return { k: "str", v };
  if (typeof v === "boolean") return { k: "bool", v };
  if (Array.isArray(v)) return { k: "seq", items: v.map(_val) };
  const o = v as _Json;
  if (typeof o.class_name === "string") {
    const kw: Record<string, Val> = {};
    for (const [k, x] of Object.entries((o.config ?? {}) as _Json)) kw[k] = _val(x);
    return {
      k: "obj",
      call: {
        name: o.class_name,
        path: `keras.${o.class_name}`,
        args: [],
        kw,
        where: "",
        text: o.class_name,
      },
    };
  }
  return unknown("a JSON object");
}
