/**
 * `deno task new NAME --from SNIPPET`: a replication folder written from a post's code (a Keras
 * `.py` file, a notebook, a Keras `model.to_json()` file, or a TensorFlow.js `.js`/`.ts`
 * snippet): spec.json with the protocol the
 * code runs (dataset, scaling, optimizer, loss, batch size, epochs, validation) and the claims
 * its text states, model.ts with the model and seeded initializers, and a README listing what
 * could not be translated. Whatever is not translated is marked TODO in the files, never
 * guessed; the folder runs as it is when nothing blocks it.
 * @module
 */
import { basename, extname } from "node:path";
import { parseSpec } from "../spec/load_spec.ts";
import { SpecError } from "../spec/spec.ts";
import { type ClaimDraft, claimDrafts, printedDraft } from "./claim_drafts.ts";
import { type ModelCode, modelCode, todoCall } from "./keras_model.ts";
import { kerasJsonPlan } from "./keras_json.ts";
import {
  type Call,
  type DataVal,
  type FitCall,
  type ModelState,
  type PrintedScore,
  sameCut,
  sameData,
  sameStandardization,
  type SnippetPlan,
  type StatsOver,
  unknown,
  type Val,
} from "./plan.ts";
import { notebookSource, pythonSource, readPythonSnippet } from "./python_snippet.ts";
import { readTfjsSnippet } from "./tfjs_snippet.ts";
import { learningRateTable } from "./schedule_function.ts";
import { kerasFamily, withKerasDefaults, type WrittenOptimizer } from "../spec/optimizers.ts";
import { metricShortName } from "../spec/metrics.ts";
import { plateauRule } from "../spec/schedules.ts";
import type { LossName, OutputMetric } from "../spec/spec.ts";

/** What `new --from` is told besides the snippet. */
export interface ImportOptions {
  /** The replication's name (the folder's). */
  name: string;
  /** The source document's URL, for spec.json's `sources`. */
  url?: string;
  /** The Keras version the source ran (`--keras`), where the snippet does not say; none for tfjs. */
  keras?: string;
  /** Which fit() call of the snippet is the protocol (`--fit`), from 1; default the first. */
  fit?: number;
}

/** A replication written from a snippet: its files, and what needs a hand. */
export interface ImportedReplication {
  /** File name → content: spec.json and model.ts. */
  files: Record<string, string>;
  /** What could not be translated, one line each, naming the file and where in the snippet. */
  todos: string[];
  /** What was read as an assumption (e.g. Keras' defaults), for the README. */
  notes: string[];
  /** The claims drafted from the snippet's text, one line each. */
  claims: string[];
  /** Why the folder does not run as it is (spec problems, model TODOs); empty when it runs. */
  blocking: string[];
}

/** The snippet kinds `new --from` reads, by file extension. */
const _SNIPPET_KINDS = [".py", ".ipynb", ".json", ".js", ".mjs", ".ts"];

/** Reads a snippet file's text (`file` names its kind and appears in messages). */
function _readSnippet(text: string, file: string): SnippetPlan {
  const ext = extname(file).toLowerCase();
  if (ext === ".py") return readPythonSnippet(pythonSource(text));
  if (ext === ".ipynb") return readPythonSnippet(notebookSource(text, file));
  if (ext === ".json") return kerasJsonPlan(text, file);
  if (ext === ".js" || ext === ".mjs" || ext === ".ts") return readTfjsSnippet(text, file);
  throw new Error(
    `--from ${file}: not a snippet claimcheck reads (${_SNIPPET_KINDS.join(", ")})`,
  );
}

/** Translates a snippet into a replication folder's files. */
export function importSnippet(
  text: string,
  file: string,
  opts: ImportOptions,
): ImportedReplication {
  const plan = _readSnippet(text, file);
  if (plan.tfjs && opts.keras !== undefined) {
    throw new Error(
      `--keras ${opts.keras}: ${file} is a TensorFlow.js snippet, which trains with tfjs' ` +
        "optimizers, not a Keras version's",
    );
  }
  return new _Translator(plan, basename(file), opts).run();
}

/** The spec's placeholder source URL, until the user names the post. */
const _NO_URL = "https://example.com/TODO-the-post-you-read";

/** Keras' optimizers by class and string name → the spec's name. */
const _OPTIMIZERS: Record<string, string> = {
  SGD: "sgd",
  RMSprop: "rmsprop",
  Adagrad: "adagrad",
  Adadelta: "adadelta",
  Adam: "adam",
  Adamax: "adamax",
  Nadam: "nadam",
};

/** Keras optimizer arguments → the spec's (camelCase). */
const _OPTIMIZER_ARGS: Record<string, string> = {
  lr: "learningRate",
  learning_rate: "learningRate",
  momentum: "momentum",
  nesterov: "nesterov",
  rho: "rho",
  epsilon: "epsilon",
  beta_1: "beta1",
  beta_2: "beta2",
  amsgrad: "amsgrad",
  decay: "decay",
  centered: "centered",
  initial_accumulator_value: "initialAccumulatorValue",
  schedule_decay: "scheduleDecay",
};

/** Keras losses (function and class names) → the spec's: every loss the harness trains. */
const _LOSSES: Record<string, LossName> = {
  categorical_crossentropy: "categoricalCrossentropy",
  CategoricalCrossentropy: "categoricalCrossentropy",
  binary_crossentropy: "binaryCrossentropy",
  BinaryCrossentropy: "binaryCrossentropy",
  sparse_categorical_crossentropy: "sparseCategoricalCrossentropy",
  SparseCategoricalCrossentropy: "sparseCategoricalCrossentropy",
  mse: "meanSquaredError",
  mean_squared_error: "meanSquaredError",
  MeanSquaredError: "meanSquaredError",
  mae: "meanAbsoluteError",
  mean_absolute_error: "meanAbsoluteError",
  MeanAbsoluteError: "meanAbsoluteError",
};

/** The losses that take Keras' label_smoothing (the spec's `labelSmoothing`). */
const _SMOOTHED_LOSSES: LossName[] = ["categoricalCrossentropy", "binaryCrossentropy"];

/** Keras metric names → the spec's (top-k with Keras' default k, 5). */
const _METRICS: Record<string, OutputMetric> = {
  accuracy: "accuracy",
  acc: "accuracy",
  categorical_accuracy: "categoricalAccuracy",
  CategoricalAccuracy: "categoricalAccuracy",
  binary_accuracy: "binaryAccuracy",
  BinaryAccuracy: "binaryAccuracy",
  sparse_categorical_accuracy: "sparseCategoricalAccuracy",
  SparseCategoricalAccuracy: "sparseCategoricalAccuracy",
  top_k_categorical_accuracy: { name: "topKCategoricalAccuracy", k: 5 },
  sparse_top_k_categorical_accuracy: { name: "sparseTopKCategoricalAccuracy", k: 5 },
  mae: "meanAbsoluteError",
  mean_absolute_error: "meanAbsoluteError",
  MeanAbsoluteError: "meanAbsoluteError",
  mse: "meanSquaredError",
  mean_squared_error: "meanSquaredError",
  MeanSquaredError: "meanSquaredError",
};

/** Keras' metric names in a callback's `monitor` → the harness's, validation as `val_`. */
const _MONITORS: Record<string, string> = {
  val_loss: "val_loss",
  val_acc: "val_acc",
  val_accuracy: "val_acc",
  loss: "train_loss",
  acc: "train_acc",
  accuracy: "train_acc",
};

/**
 * ReduceLROnPlateau's parameters in order (Keras 2.0 to 3; the sixth is `epsilon` before Keras
 * 2.1.6), and what the spec calls them.
 */
const _PLATEAU_ARGS: [string, string][] = [
  ["monitor", "monitor"],
  ["factor", "factor"],
  ["patience", "patience"],
  ["verbose", ""],
  ["mode", "mode"],
  ["min_delta", "minDelta"],
  ["cooldown", "cooldown"],
  ["min_lr", "minLr"],
];

/** fit()'s positional parameters, the same in Keras 2 and 3. */
const _FIT_POS = [
  "x",
  "y",
  "batch_size",
  "epochs",
  "verbose",
  "callbacks",
  "validation_split",
  "validation_data",
  "shuffle",
];

/** The accuracy metrics among _METRICS' translations (a claim's `test_acc`, `test_binary_acc`). */
const _ACCURACIES: OutputMetric[] = [
  "accuracy",
  "categoricalAccuracy",
  "binaryAccuracy",
  "sparseCategoricalAccuracy",
];

/** Callbacks that set the learning rate. */
const _LR_CALLBACKS = ["LearningRateScheduler", "ReduceLROnPlateau"];

/** Callbacks that do not change training (logging, saving). */
const _PASSIVE_CALLBACKS = ["TensorBoard", "ModelCheckpoint", "CSVLogger", "ProgbarLogger"];

class _Translator {
  readonly #plan: SnippetPlan;
  readonly #file: string;
  readonly #opts: ImportOptions;
  readonly #todos: string[] = [];
  readonly #notes: string[];

  constructor(plan: SnippetPlan, file: string, opts: ImportOptions) {
    this.#plan = plan;
    this.#file = file;
    this.#opts = opts;
    this.#notes = [...plan.notes];
  }

  #todo(field: string, message: string): string {
    this.#todos.push(`spec.json ${field}: ${message}`);
    return `TODO: ${message}`;
  }

  run(): ImportedReplication {
    const fit = this.#chosenFit();
    const model = fit?.model ?? this.#plan.model;
    const protocol: Record<string, unknown> = { id: "stated", source: "src" };
    const modelName = model?.name && /^[A-Za-z_]\w*$/.test(model.name) ? model.name : "model";
    const x = fit && _arg(fit.call, "x");
    const data = x?.k === "data" ? x.data : undefined;
    const code = model
      ? modelCode(model, data?.shape ? data.shape.slice(1) : null, {
        tfjs: this.#plan.tfjs ?? false,
        keras: this.#keras,
      })
      : _noModel(this.#file, this.#plan.tfjs ? "tfjs-layers" : "Keras");
    this.#todos.push(...code.todos);
    this.#initializerVersion(code);

    protocol.description = ""; // filled in below, once the fields are known
    protocol.model = modelName;
    if (fit) this.#data(fit, protocol);
    else {
      protocol.dataset = this.#todo(
        "protocols.0.dataset",
        "no fit() call in the snippet: the dataset, scaling and training are not stated",
      );
    }
    const compile = fit?.compile ?? model?.compile;
    const optimizerText = this.#compile(compile, protocol);
    if (fit) this.#labelsForLoss(fit, protocol);
    if (this.#keras) protocol.keras = this.#keras;
    if (fit) this.#fit(fit, protocol);
    protocol.description = this.#description(code, optimizerText, protocol, data);
    const claims = this.#claims(protocol, fit);

    const spec = {
      version: 2,
      name: this.#opts.name,
      title: this.#title(),
      sources: [{
        id: "src",
        url: this.#opts.url ?? _NO_URL,
        title: this.#plan.title ?? this.#docTitle() ?? "TODO: title of the source document",
      }],
      protocols: [protocol],
      claims: claims.claims,
      defaultSeeds: 3,
      gates: [],
    };
    if (!this.#opts.url) {
      this.#todos.push("spec.json sources.0.url: the post's address (pass --url, or edit it)");
    }
    const specText = `${JSON.stringify(spec, null, 2)}\n`;
    const blocking = this.#blocking(spec, code);
    const modelTs = _modelTs(this.#opts.name, this.#file, modelName, model, code);
    return {
      files: { "spec.json": specText, "model.ts": modelTs },
      todos: this.#todos,
      notes: this.#notes,
      claims: claims.lines,
      blocking,
    };
  }

  /**
   * The fit() that is the protocol (--fit, else the first), with a TODO for each other one and
   * for training that continues an earlier fit() of the same model.
   */
  #chosenFit(): FitCall | undefined {
    const fits = this.#plan.fits;
    const n = this.#opts.fit ?? 1;
    if (this.#opts.fit !== undefined && !(Number.isInteger(n) && n >= 1 && n <= fits.length)) {
      const calls = fits.length === 1 ? "one fit() call" : `${fits.length || "no"} fit() calls`;
      const list = fits.length ? ` (${fits.map((f) => f.call.where).join("; ")})` : "";
      throw new Error(`--fit ${n}: the snippet has ${calls}${list}`);
    }
    const fit = fits[n - 1];
    fits.forEach((other, i) => {
      if (other === fit) return;
      this.#todo(
        "protocols",
        `${other.call.where}: ${i < n - 1 ? "an earlier" : "a further"} fit() ` +
          `(\`${other.call.text}\`) is not translated: the protocol is fit() ${n} of ` +
          `${fits.length} (\`--fit ${i + 1}\` takes this one instead)`,
      );
    });
    const before = fit?.model.fits.slice(0, fit.model.fits.indexOf(fit)).at(-1);
    if (before) {
      this.#todo(
        "protocols",
        `${fit.call.where}: this fit() goes on training the model that fit() at ` +
          `${before.call.where} trained; claimcheck trains from fresh weights`,
      );
    }
    return fit;
  }

  /**
   * A TODO where the model's normal initializers draw as a Keras version the snippet does not
   * state: Keras 2.2 on with the variance they name, Keras 2.0–2.1 with 0.8796² of it.
   */
  #initializerVersion(code: ModelCode): void {
    const normal = code.initializers.filter((n) => n.endsWith("_normal"));
    if (this.#plan.tfjs || this.#keras || !normal.length) return;
    this.#todos.push(
      `model.ts: ${normal.join(", ")}: Keras 2.2 and later draw ${
        normal.length > 1 ? "these" : "it"
      } with the variance stated, Keras 2.0–2.1 with 0.77 of it, and the snippet does not ` +
        `state its Keras version (${this.#family()}): seeded as Keras 3 draws ` +
        `${normal.length > 1 ? "them" : "it"}; pass --keras <version> if the source ran 2.0–2.1`,
    );
  }

  /** The Keras version the source ran: --keras, else what the snippet states. */
  get #keras(): string | undefined {
    return this.#opts.keras ?? this.#plan.keras;
  }

  #title(): string {
    return this.#docTitle() ?? this.#plan.title ?? "TODO: the claim in one line";
  }

  /** The first line of the snippet's first docstring (keras.io's `Title:` line). */
  #docTitle(): string | undefined {
    const doc = this.#plan.texts.find((t) => t.kind === "docstring");
    return doc?.text.trim().split("\n")[0].replace(/^Title:\s*/i, "").trim() || undefined;
  }

  /**
   * dataset, the scaling (pixelDivisor, or scaling with its standardization), validationFirst
   * and targets from fit's x and y.
   */
  #data(fit: FitCall, protocol: Record<string, unknown>): void {
    const x = _arg(fit.call, "x"), y = _arg(fit.call, "y");
    const field = "protocols.0";
    const notImages = _notTrainingImages(x);
    if (notImages !== undefined || x?.k !== "data") {
      protocol.dataset = this.#todo(
        `${field}.dataset`,
        `${fit.call.where}: fit()'s inputs are not the dataset's training images as loaded ` +
          `and scaled (${notImages}): a data pipeline of the snippet's own`,
      );
      return;
    }
    const d = x.data;
    protocol.dataset = d.dataset;
    const divisor = Number(d.divisor.toPrecision(12));
    if (d.standardized) protocol.scaling = { divide: divisor, standardize: d.standardized.over };
    else protocol.pixelDivisor = divisor;
    if (d.cut) protocol.validationFirst = d.cut.at;
    if (divisor === 1 && !d.standardized) {
      this.#notes.push(
        `${fit.call.where}: the images are not scaled: raw pixels 0..255 (pixelDivisor 1)`,
      );
    }
    if (y?.k === "data" && y.data.role === "images" && !y.data.why && y.data.split === "train") {
      if (y.data.divisor !== d.divisor || !sameStandardization(y.data, d)) {
        protocol.targets = this.#todo(
          `${field}.targets`,
          "targets are the images scaled otherwise",
        );
      } else if (!sameCut(y.data, d)) {
        protocol.targets = this.#todo(
          `${field}.targets`,
          `${fit.call.where}: the targets are ${_rows(y.data)}, the inputs ${_rows(d)}`,
        );
      } else protocol.targets = "input";
      return;
    }
    if (y?.k === "data" && y.data.role === "labels" && !y.data.why && y.data.split === "train") {
      if (!sameCut(y.data, d)) {
        protocol.targets = this.#todo(
          `${field}.targets`,
          `${fit.call.where}: the labels are ${_rows(y.data)}, the images ${_rows(d)}: not ` +
            "the same rows",
        );
        return;
      }
      if (!y.data.oneHot) {
        this.#notes.push(
          `${fit.call.where}: the labels are class numbers (not one-hot): Keras' sparse losses`,
        );
      }
      return;
    }
    const why = _whyNot(y);
    protocol.targets = this.#todo(
      `${field}.targets`,
      `${fit.call.where}: fit()'s targets are neither the labels nor the images${
        why ? ` (${why})` : ""
      }`,
    );
  }

  /** loss, metrics, optimizer (and keras) from compile(); returns the optimizer in words. */
  #compile(compile: Call | undefined, protocol: Record<string, unknown>): string {
    const field = "protocols.0";
    if (!compile) {
      protocol.loss = this.#todo(`${field}.loss`, "no compile() call found for the model");
      protocol.optimizer = { name: this.#todo(`${field}.optimizer`, "no compile() call found") };
      return "TODO";
    }
    const loss = compile.kw.loss ?? compile.args[1];
    protocol.loss = this.#loss(loss, compile, protocol);
    const metrics = compile.kw.metrics ?? compile.args[2];
    protocol.metrics = this.#metrics(metrics, compile);
    const named = compile.kw.optimizer ?? compile.args[0];
    const opt = named ??
      (this.#plan.tfjs
        ? unknown(`${compile.where}: compile() names no optimizer (tfjs requires one): it`)
        : { k: "str", v: "rmsprop" });
    if (!named && !this.#plan.tfjs) {
      this.#notes.push(`${compile.where}: compile() names no optimizer: Keras' default, RMSprop`);
    }
    const { optimizer, text } = this.#optimizer(opt, compile);
    protocol.optimizer = optimizer;
    if (this.#keras) protocol.keras = this.#keras;
    else if (
      !this.#plan.tfjs && optimizer.name !== "adam" && optimizer.name !== "sgd" &&
      !String(optimizer.name).startsWith("TODO")
    ) {
      this.#todos.push(
        `spec.json protocols.0.keras: ${text}'s defaults and update rule depend on the Keras ` +
          `version, which the snippet does not state (${this.#family()}): add "keras": ` +
          '"<version>" to the protocol or pass --keras (without it, Keras 3\'s apply)',
      );
    }
    return text;
  }

  /** What the imports say about the Keras the snippet ran. */
  #family(): string {
    const imports = this.#plan.imports;
    if (imports.some((i) => i.startsWith("tensorflow"))) return "it imports tf.keras";
    if (imports.some((i) => i === "keras" || i.startsWith("keras."))) {
      return "it imports standalone keras";
    }
    return "its imports do not say";
  }

  /** The loss as the spec names it (its labelSmoothing in `protocol`), or a TODO. */
  #loss(v: Val | undefined, compile: Call, protocol: Record<string, unknown>): string {
    const field = "protocols.0.loss";
    if (!v) return this.#todo(field, `${compile.where}: compile() names no loss`);
    const name = v.k === "str"
      ? v.v
      : v.k === "ref"
      ? v.path.split(".").at(-1)!
      : v.k === "obj"
      ? v.call.name
      : undefined;
    const known = name === undefined ? undefined : _LOSSES[name];
    if (!known) {
      const why = v.k === "fn"
        ? "a loss function of the snippet's own"
        : v.k === "unknown"
        ? v.why
        : `\`${name ?? "?"}\``;
      return this.#todo(field, `${compile.where}: the loss (${why}) is not one claimcheck trains`);
    }
    let written: string = known;
    if (v.k === "obj") {
      const logits = v.call.kw.from_logits;
      if (logits?.k === "bool" && logits.v) {
        this.#todos.push(
          `spec.json ${field}: ${compile.where}: ${v.call.text}: the model outputs logits ` +
            "(from_logits=True); claimcheck's losses take probabilities (a softmax or sigmoid " +
            "last layer, without from_logits)",
        );
        written = `${known} (from logits)`;
      }
      const smoothing = v.call.kw.label_smoothing;
      const smoothed = _SMOOTHED_LOSSES.includes(known) && smoothing?.k === "num" &&
        smoothing.v >= 0 && smoothing.v <= 1;
      if (smoothed && smoothing.v > 0) protocol.labelSmoothing = smoothing.v;
      const other = Object.keys(v.call.kw).filter((k) =>
        k !== "name" && k !== "from_logits" && !(k === "label_smoothing" && smoothed)
      );
      if (other.length || v.call.args.length) {
        const what = [...other, ...(v.call.args.length ? ["positional arguments"] : [])];
        return this.#todo(
          field,
          `${compile.where}: ${v.call.text}: not translated: ${what.join(", ")}`,
        );
      }
    }
    return written;
  }

  /**
   * A TODO in place of the loss where fit()'s labels are not the form it takes (class numbers
   * for sparseCategoricalCrossentropy, one-hot for the others): Keras raises an error, or
   * broadcasts them against the outputs, and claimcheck gives each loss its own form.
   */
  #labelsForLoss(fit: FitCall, protocol: Record<string, unknown>): void {
    const y = _arg(fit.call, "y"), loss = protocol.loss;
    if (y?.k !== "data" || y.data.role !== "labels" || y.data.why || y.data.split !== "train") {
      return;
    }
    if (typeof loss !== "string" || loss.startsWith("TODO")) return;
    const sparse = loss.startsWith("sparseCategoricalCrossentropy");
    if (sparse !== y.data.oneHot) return;
    protocol.loss = this.#todo(
      "protocols.0.loss",
      `${fit.call.where}: the labels are ${y.data.oneHot ? "one-hot" : "class numbers"} and ` +
        `${loss} takes ${sparse ? "class numbers" : "one-hot labels"} (Keras raises an error ` +
        "or broadcasts them): check which the source ran",
    );
  }

  #metrics(v: Val | undefined, compile: Call): OutputMetric[] {
    if (!v || v.k === "none") return [];
    const items = v.k === "seq" ? v.items : [v];
    const out: OutputMetric[] = [];
    for (const m of items) {
      const name = _metricName(m);
      const known = _METRICS[name];
      if (known) out.push(known);
      else {
        this.#todos.push(
          `spec.json protocols.0.metrics: ${compile.where}: the metric \`${name}\` is not ` +
            "translated (left out)",
        );
      }
    }
    return out;
  }

  #optimizer(v: Val, compile: Call): { optimizer: Record<string, unknown>; text: string } {
    const field = "protocols.0.optimizer";
    if (v.k === "str") {
      const name = v.v.toLowerCase();
      if (Object.values(_OPTIMIZERS).includes(name)) {
        return { optimizer: { name }, text: `${v.v} (Keras' defaults)` };
      }
    }
    if (v.k === "obj" && _OPTIMIZERS[v.call.name]) {
      const optimizer: Record<string, unknown> = { name: _OPTIMIZERS[v.call.name] };
      const problems: string[] = [];
      if (v.call.args.length > 1) problems.push("positional arguments after the learning rate");
      const given: [string, Val][] = [
        ...(v.call.args.length ? [["learning_rate", v.call.args[0]] as [string, Val]] : []),
        ...Object.entries(v.call.kw),
      ];
      for (const [k, a] of given) {
        if (k === "name") continue;
        const key = _OPTIMIZER_ARGS[k];
        if (!key) problems.push(k);
        else if (a.k === "num" || a.k === "bool") optimizer[key] = a.v;
        else problems.push(`${k}=${a.k === "unknown" ? `? (${a.why})` : "?"}`);
      }
      if (problems.length) {
        optimizer.name = this.#todo(
          field,
          `${v.call.where}: ${v.call.text}: not translated: ${problems.join(", ")}`,
        );
      }
      return { optimizer, text: v.call.text };
    }
    const why = v.k === "unknown" ? v.why : `${compile.where}: the optimizer`;
    return {
      optimizer: { name: this.#todo(field, `${why} is not one claimcheck knows`) },
      text: "TODO",
    };
  }

  /** batchSize, epochs, validationSplit, earlyStopping from fit(). */
  #fit(fit: FitCall, protocol: Record<string, unknown>): void {
    const call = fit.call;
    const field = "protocols.0";
    const int = (name: string, dflt: number, key: string) => {
      const v = _arg(call, name) ?? (name === "epochs" ? call.kw.nb_epoch : undefined);
      if (v === undefined || v.k === "none") {
        this.#notes.push(
          `${call.where}: fit() gives no ${this.#spelled(name)}: ${this.#library}' default ${dflt}`,
        );
        return dflt;
      }
      if (v.k === "num" && Number.isInteger(v.v) && v.v > 0) return v.v;
      return this.#todo(
        `${field}.${key}`,
        `${call.where}: ${this.#spelled(name)} is not a number the snippet states` +
          (v.k === "unknown" ? ` (${v.why})` : ""),
      );
    };
    protocol.batchSize = int("batch_size", 32, "batchSize");
    protocol.epochs = int("epochs", 1, "epochs");
    const split = _arg(call, "validation_split");
    const first = protocol.validationFirst;
    if (split && split.k !== "none") {
      protocol.validationSplit = split.k !== "num"
        ? this.#todo(
          `${field}.validationSplit`,
          `${call.where}: ${this.#spelled("validation_split")} is not a number`,
        )
        : first !== undefined
        ? this.#todo(
          `${field}.validationSplit`,
          `${call.where}: ${this.#spelled("validation_split")} holds out the last part of x, ` +
            `which already leaves out the first ${first} training images (validationFirst): ` +
            "claimcheck holds out one or the other",
        )
        : split.v;
    }
    const val = _arg(call, "validation_data");
    let validation: _Validation = typeof protocol.validationSplit === "number" ? "val" : undefined;
    const x = _arg(call, "x"), y = _arg(call, "y");
    if (val && val.k !== "none") {
      const [vx, vy] = val.k === "seq" ? val.items : [];
      if (_isTestOf(vx, x) && _isTestOf(vy, y)) {
        validation ??= "test";
        this.#notes.push(
          `${call.where}: ${this.#spelled("validation_data")} is the test set, which ` +
            "claimcheck evaluates after " +
            "every epoch anyway (test_loss, test_acc)",
        );
      } else if (_isHeldOutOf(vx, x) && _isHeldOutOf(vy, y)) {
        validation ??= "val";
        this.#notes.push(
          `${call.where}: ${this.#spelled("validation_data")} is the first ${first} training ` +
            `images, which x leaves out: validationFirst ${first} (val_loss, val_acc)`,
        );
      } else {
        const why = [vx, vy].map(_whyNot).find((w) => w) ??
          (vx?.k === "data" && vy?.k === "data" ? `${_rows(vx.data)}, ${_rows(vy.data)}` : "");
        this.#todo(
          `${field}`,
          `${call.where}: ${this.#spelled("validation_data")} other than the test set or the ` +
            `first training images that x leaves out, prepared as x is, is not translated${
              why ? ` (${why})` : ""
            }`,
        );
      }
    } else if (first !== undefined) {
      this.#notes.push(
        `${call.where}: x leaves out the first ${first} training images (validationFirst ` +
          `${first}): claimcheck validates on them (val_loss, val_acc), as fit() does not`,
      );
    }
    const shuffle = _arg(call, "shuffle");
    if (shuffle && !(shuffle.k === "bool" && shuffle.v)) {
      this.#todo(
        field,
        `${call.where}: ${
          this.#plan.tfjs
            ? `shuffle: ${shuffle.k === "bool" ? "false" : "?"}`
            : `shuffle=${shuffle.k === "bool" ? "False" : "?"}`
        }: claimcheck shuffles every epoch`,
      );
    }
    for (const k of Object.keys(call.kw)) {
      if (!_FIT_POS.includes(k) && k !== "nb_epoch") {
        this.#todo(
          field,
          this.#plan.tfjs
            ? `${call.where}: fit()'s ${this.#spelled(k)} is not translated`
            : `${call.where}: fit(${k}=…) is not translated`,
        );
      }
    }
    const callbacks = _arg(call, "callbacks");
    const items = callbacks?.k === "seq"
      ? callbacks.items
      : callbacks && callbacks.k !== "none"
      ? [callbacks]
      : [];
    for (const cb of items) {
      // The other callbacks of fit() that set the learning rate too, by class.
      const othersSetLr = items.flatMap((o) =>
        o !== cb && o.k === "obj" && _LR_CALLBACKS.includes(o.call.name) ? [o.call.name] : []
      );
      if (cb.k === "obj" && cb.call.name === "EarlyStopping") {
        protocol.earlyStopping = this.#earlyStopping(cb.call, validation);
      } else if (cb.k === "obj" && cb.call.name === "LearningRateScheduler") {
        this.#scheduler(cb.call, fit, protocol, othersSetLr);
      } else if (cb.k === "obj" && cb.call.name === "ReduceLROnPlateau") {
        this.#plateau(cb.call, protocol, validation, othersSetLr);
      } else if (cb.k === "obj" && _PASSIVE_CALLBACKS.includes(cb.call.name)) {
        this.#notes.push(`${cb.call.where}: the ${cb.call.name} callback does not change training`);
      } else {
        this.#todo(
          field,
          `${call.where}: the callback ${
            cb.k === "obj" ? cb.call.text : cb.k === "unknown" ? `? (${cb.why})` : "?"
          } is not translated`,
        );
      }
    }
  }

  /**
   * learningRateScheduler from Keras' LearningRateScheduler(f): f run for each epoch (see
   * learningRateTable), with the optimizer's learning rate (Keras' default where the snippet
   * gives none) before the first. `othersSetLr`: the other callbacks of fit() that set the
   * learning rate (a ReduceLROnPlateau's reductions last until the next epoch's f(epoch), so the
   * table then lists every epoch).
   */
  #scheduler(
    c: Call,
    fit: FitCall,
    protocol: Record<string, unknown>,
    othersSetLr: string[],
  ): void {
    const todo = (why: string) => {
      this.#todo("protocols.0.learningRateScheduler", `${c.where}: ${c.text}: ${why}`);
    };
    const extra = Object.keys(c.kw).filter((k) => k !== "schedule" && k !== "verbose");
    if (extra.length || c.args.length > 2) {
      return todo(`not translated: ${extra.join(", ") || "positional arguments"}`);
    }
    const f = fit.schedulers.get(c) ?? "its schedule is not given";
    if (typeof f === "string") return todo(f);
    const epochs = protocol.epochs;
    if (typeof epochs !== "number") return todo("fit()'s epochs are not known");
    if (f.takesLr && _lrArgumentLater(this.#keras)) {
      return todo(
        `Keras ${this.#keras} calls the schedule with the epoch only (the lr argument came ` +
          `in 2.1.4): \`${f.name}\` (${f.where}) would raise TypeError`,
      );
    }
    if (othersSetLr.includes(c.name)) {
      return todo(`fit() has another ${c.name}; the spec holds one`);
    }
    if (f.takesLr && othersSetLr.length) {
      return todo(
        `\`${f.name}\` takes the learning rate, which another callback of fit() sets too`,
      );
    }
    const everyEpoch = othersSetLr.length > 0;
    const t = learningRateTable(f, epochs, this.#firstLearningRate(protocol), { everyEpoch });
    if ("todo" in t) return todo(t.todo);
    const listed = Object.keys(t.table).length > 0;
    if (listed) protocol.learningRateScheduler = t.table;
    this.#notes.push(
      `${c.where}: ${c.text}: \`${f.name}\` (${f.where}) evaluated for epochs 0 to ${
        epochs - 1
      } (Keras counts from 0, the table from 1)` +
        (f.takesLr ? ", lr the learning rate in force as Keras' float32 variable holds it" : "") +
        (everyEpoch
          ? `, every epoch listed: Keras sets f(epoch) at each epoch's start, over what ` +
            `${othersSetLr.join(" and ")} set at the previous one's end`
          : "") +
        (listed ? "" : ": it keeps the optimizer's learning rate (no table)"),
    );
  }

  /**
   * reduceLROnPlateau from Keras' ReduceLROnPlateau: its arguments by name or position (verbose
   * ignored), the spec's defaults (Keras', the same in 2.0 to 3) for the others, `monitor`
   * always written as the metric the protocol records. `epsilon` is min_delta's name before
   * Keras 2.1.6, its alias after, and ignored by Keras 3.
   */
  #plateau(
    c: Call,
    protocol: Record<string, unknown>,
    validation: _Validation,
    othersSetLr: string[],
  ): void {
    const field = "protocols.0.reduceLROnPlateau";
    if (othersSetLr.includes(c.name)) {
      protocol.reduceLROnPlateau = this.#todo(
        field,
        `${c.where}: ${c.text}: fit() has another ${c.name}; the spec holds one`,
      );
      return;
    }
    // min_delta is `epsilon` before Keras 2.1.6; from then `epsilon` is a deprecated alias that
    // wins over min_delta (`min_delta = kwargs.pop('epsilon')`), until Keras 3's **kwargs
    // swallow it.
    const rule = plateauRule(this.#keras);
    const epsilonOnly = rule === "2.0" || rule === "2.1.3";
    const epsilonIgnored = kerasFamily(this.#keras) === "3";
    const given = new Map<string, Val>();
    const problems: string[] = [];
    c.args.forEach((v, i) => {
      if (i < _PLATEAU_ARGS.length) given.set(_PLATEAU_ARGS[i][0], v);
      else problems.push(`positional argument ${i + 1}`);
    });
    for (const [k, v] of Object.entries(c.kw)) {
      if (k === "epsilon" && epsilonIgnored) {
        this.#notes.push(`${c.where}: ${c.text}: Keras 3 ignores epsilon (min_delta's old name)`);
      } else if (k === "epsilon") {
        given.set("min_delta", v);
        if (!epsilonOnly) {
          this.#notes.push(`${c.where}: ${c.text}: epsilon is min_delta's deprecated name`);
        }
      } else if (k === "min_delta" && epsilonOnly) {
        problems.push(`min_delta (Keras ${this.#keras} names it epsilon: TypeError)`);
      } else if (k === "min_delta" && c.kw.epsilon && !epsilonIgnored) continue;
      else if (_PLATEAU_ARGS.some(([name]) => name === k)) given.set(k, v);
      else problems.push(k);
    }
    const out: Record<string, unknown> = {};
    const monitor = this.#monitor(given.get("monitor"), validation);
    if ("metric" in monitor) out.monitor = monitor.metric;
    else problems.push(`monitor (${monitor.why})`);
    for (const [k, key] of _PLATEAU_ARGS) {
      const v = given.get(k);
      if (!v || !key || k === "monitor") continue;
      const value = _plateauValue(k, v);
      if (value === undefined) problems.push(`${k}=${_valueText(v)}`);
      else out[key] = value;
    }
    protocol.reduceLROnPlateau = problems.length
      ? this.#todo(field, `${c.where}: ${c.text}: not translated: ${problems.join(", ")}`)
      : out;
  }

  /**
   * A callback's `monitor` (undefined: Keras' default, val_loss) as the metric the protocol
   * records: Keras' validation metrics are claimcheck's `val_` ones with a validation split, its
   * `test_` ones where fit()'s validation_data is the test set, and recorded by neither without.
   */
  #monitor(given: Val | undefined, validation: _Validation): { metric: string } | { why: string } {
    const v = given ?? { k: "str", v: "val_loss" };
    const text = `${_valueText(v)}${given ? "" : " (Keras' default)"}`;
    const metric = v.k === "str" && Object.hasOwn(_MONITORS, v.v) ? _MONITORS[v.v] : undefined;
    if (!metric) return { why: `${text} is not a metric claimcheck records` };
    if (!metric.startsWith("val_") || validation === "val") return { metric };
    if (validation === "test") return { metric: metric.replace("val_", "test_") };
    return { why: `${text}: fit() has no validation data claimcheck takes` };
  }

  /** The optimizer's learning rate, Keras' default where none is given; undefined: not known. */
  #firstLearningRate(protocol: Record<string, unknown>): number | undefined {
    const o = protocol.optimizer as WrittenOptimizer;
    if (o.name.startsWith("TODO") || typeof kerasFamily(this.#keras) !== "string") return undefined;
    return withKerasDefaults(o, this.#keras).learningRate;
  }

  /** A Keras argument name as the snippet spells it: `batch_size`, or tfjs' `batchSize`. */
  #spelled(name: string): string {
    return this.#plan.tfjs ? name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) : name;
  }

  /** Whose defaults a value the snippet leaves out takes. */
  get #library(): string {
    return this.#plan.tfjs ? "tfjs" : "Keras";
  }

  #earlyStopping(c: Call, validation: _Validation): Record<string, unknown> | string {
    const out: Record<string, unknown> = {};
    const monitor = this.#monitor(c.kw.monitor, validation);
    const problems: string[] = [];
    if ("metric" in monitor) out.monitor = monitor.metric;
    else problems.push(`monitor (${monitor.why})`);
    const num = (k: string, key: string, dflt?: number) => {
      const v = c.kw[k];
      if (v === undefined) {
        if (dflt !== undefined) out[key] = dflt;
      } else if (v.k === "num") out[key] = k === "min_delta" ? Math.abs(v.v) : v.v;
      else problems.push(k);
    };
    num("patience", "patience", 0);
    num("min_delta", "minDelta");
    const restore = c.kw.restore_best_weights;
    if (restore?.k === "bool") out.restoreBestWeights = restore.v;
    for (const k of Object.keys(c.kw)) {
      if (
        !["monitor", "patience", "min_delta", "restore_best_weights", "verbose", "mode"].includes(k)
      ) {
        problems.push(k);
      }
    }
    if (c.args.length) problems.push("positional arguments");
    return problems.length
      ? this.#todo(
        "protocols.0.earlyStopping",
        `${c.where}: ${c.text}: not translated: ${problems.join(", ")}`,
      )
      : out;
  }

  #description(
    code: ModelCode,
    optimizer: string,
    p: Record<string, unknown>,
    data: DataVal | undefined,
  ): string {
    const parts = [
      `As the snippet ${this.#file} runs it: ${code.summary || "TODO: the model"}`,
      `optimizer ${optimizer}`,
      `loss ${String(p.loss).startsWith("TODO") ? "TODO" : p.loss}`,
      `batch ${_stated(p.batchSize)}`,
      `${_stated(p.epochs)} epochs`,
    ];
    if (data && typeof p.pixelDivisor === "number") {
      parts.push(p.pixelDivisor === 1 ? "raw pixels 0..255" : `pixels / ${p.pixelDivisor}`);
    }
    const scaling = p.scaling as { divide: number; standardize: StatsOver } | undefined;
    if (data && scaling) {
      parts.push(
        `${scaling.divide === 1 ? "raw pixels" : `pixels / ${scaling.divide}`}, then ` +
          "standardized with the mean and std of the training images " +
          (scaling.standardize === "pixel" ? "(each pixel's own)" : "(over all pixels)"),
      );
    }
    if (typeof p.validationSplit === "number") {
      parts.push(`the last ${p.validationSplit} of the training set held out for validation`);
    }
    if (typeof p.validationFirst === "number") {
      parts.push(`the first ${p.validationFirst} training images held out for validation`);
    }
    if (p.targets === "input") parts.push("the images as targets (reconstruction)");
    if (p.learningRateScheduler) parts.push("the learning rate set each epoch by its scheduler");
    const plateau = p.reduceLROnPlateau;
    if (typeof plateau === "object" && plateau && "monitor" in plateau) {
      parts.push(`the learning rate reduced when ${plateau.monitor} stops improving`);
    }
    return `${parts.join("; ")}. Written by claimcheck new: check it against the source.`;
  }

  #claims(
    protocol: Record<string, unknown>,
    fit: FitCall | undefined,
  ): { claims: Record<string, unknown>[]; lines: string[] } {
    const drafts = [...claimDrafts(this.#plan.texts), ...this.#printedDrafts(fit)];
    const metrics: OutputMetric[] = Array.isArray(protocol.metrics) ? protocol.metrics : [];
    // The first accuracy compile() names: Keras' "acc" (test_acc), or a kind it names outright.
    const accuracy = metrics.find((m) => _ACCURACIES.includes(m));
    const hasAcc = accuracy !== undefined;
    const acc = hasAcc ? metricShortName(accuracy) : "acc";
    const claims: Record<string, unknown>[] = [];
    const lines: string[] = [];
    const ids = new Set<string>();
    for (const d of drafts) {
      const validates = protocol.validationSplit !== undefined ||
        protocol.validationFirst !== undefined;
      const split = d.metric === "val_acc" && !validates ? "test" : d.metric.split("_")[0];
      const metric = `${split}_${acc}`;
      const base = metric.replaceAll("_", "-");
      let id = base;
      for (let i = 2; ids.has(id); i++) id = `${base}-${i}`;
      ids.add(id);
      const claim: Record<string, unknown> = {
        id,
        ...(claims.length === 0 && split === "test" ? { headline: true } : {}),
        source: "src",
        where: `${d.where}: "${d.sentence}"`,
        statement: _statement(d, split),
        protocol: "stated",
        metric,
        ...(d.epoch !== undefined && d.epoch < Number(protocol.epochs) ? { epoch: d.epoch } : {}),
        claimed: d.claimed,
        compare: d.compare,
        epsilon: d.epsilon,
      };
      if (
        d.epoch !== undefined && typeof protocol.epochs === "number" && d.epoch > protocol.epochs
      ) {
        this.#todos.push(
          `spec.json claims: ${id}: the text says after ${d.epoch} epochs, the code trains ` +
            `${protocol.epochs}: the claim is read from the final model; check which the post ran`,
        );
      }
      if (!hasAcc) {
        this.#todos.push(
          `spec.json claims: ${id}: the protocol records no accuracy (compile() has no ` +
            'accuracy metric): add "accuracy" to its metrics if the post measured it',
        );
      }
      claims.push(claim);
      lines.push(
        `${id}: ${d.compare === "approx" ? "≈" : d.compare === "atLeast" ? "≥" : "≤"} ` +
          `${d.claimed} (ε ${d.epsilon}) from ${d.where}: "${d.sentence}"`,
      );
    }
    if (!claims.length) {
      const metric = hasAcc ? `test_${acc}` : "test_loss";
      this.#todos.push(
        "spec.json claims: the snippet states no accuracy: the placeholder claim (≥ 0, which " +
          "any run holds) stands in for the post's claim",
      );
      claims.push({
        id: "placeholder",
        source: "src",
        where: "TODO: where the source states it",
        statement: "TODO: the snippet states no result; write the post's claim as a number",
        protocol: "stated",
        metric,
        claimed: 0,
        compare: "atLeast",
        epsilon: 0,
      });
    }
    return { claims, lines };
  }

  /**
   * Claim drafts from the evaluate() results a notebook printed: the test accuracy (its index
   * in the result from compile()'s metrics, the loss first) of the model as the protocol's fit()
   * left it, evaluated on the test set prepared as fit()'s data.
   */
  #printedDrafts(fit: FitCall | undefined): ClaimDraft[] {
    const drafts: ClaimDraft[] = [];
    for (const s of this.#plan.scores) {
      const index = _accuracyIndex(s.compile);
      const figure = index === undefined ? undefined : s.figures.get(index);
      if (!figure || !s.fit) continue;
      const where = `printed output of ${s.cell} (\`${s.print.text}\`; \`${s.evaluate.text}\` ` +
        `at ${s.evaluate.where})`;
      const skip = s.fit !== fit
        ? `the accuracy after fit() at ${s.fit.call.where}, not the protocol's fit()`
        : _testSetOf(s, fit)
        ? undefined
        : "evaluate() is not on the test set prepared as fit()'s data";
      if (skip) this.#notes.push(`${where}: ${skip}: no claim drafted from it`);
      else drafts.push(printedDraft(figure, s.text, where));
    }
    return drafts;
  }

  /** Why the written folder would not run: the spec's problems and the model's TODOs. */
  #blocking(spec: Record<string, unknown>, code: ModelCode): string[] {
    const out: string[] = [];
    try {
      parseSpec(spec, `${this.#opts.name}/spec.json`);
    } catch (e) {
      if (!(e instanceof SpecError)) throw e;
      out.push(...e.issues.map((i) => `spec.json ${i}`));
    }
    if (code.usesTodo) out.push("model.ts: the model has todo() stand-ins (listed above)");
    return out;
  }
}

/**
 * Whether Keras `keras` calls a LearningRateScheduler's schedule with the epoch only: before
 * 2.1.4, which added the learning rate (keras-team/keras#9618).
 */
function _lrArgumentLater(keras: string | undefined): boolean {
  const [major, minor, patch] = (keras ?? "3").split(".").map(Number);
  return major === 2 && (minor === 0 || (minor === 1 && (patch ?? 0) < 4));
}

/**
 * A ReduceLROnPlateau argument's value as the spec takes it, or undefined where Keras' would not
 * run as the spec's does: a factor from 1 on (Keras raises ValueError), a negative min_delta
 * (Keras compares with it as given), a patience or cooldown that is not a whole number.
 */
function _plateauValue(k: string, v: Val): number | string | undefined {
  if (k === "mode") return v.k === "str" && ["auto", "min", "max"].includes(v.v) ? v.v : undefined;
  if (v.k !== "num" || v.v < 0) return undefined;
  if (k === "factor" && !(v.v > 0 && v.v < 1)) return undefined;
  if ((k === "patience" || k === "cooldown") && !Number.isInteger(v.v)) return undefined;
  return v.v;
}

/** A snippet value in a message, as Python writes it: `0.5`, `'val_acc'`, else `?`. */
function _valueText(v: Val): string {
  if (v.k === "num") return String(v.v);
  if (v.k === "bool") return v.v ? "True" : "False";
  if (v.k === "str") return `'${v.v}'`;
  return v.k === "unknown" ? `? (${v.why})` : "?";
}

/** Which of Keras' metrics fit() validates on: a validation split, the test set, or none. */
type _Validation = "val" | "test" | undefined;

/** An argument of a call by its name or fit()'s position. */
function _arg(call: Call, name: string): Val | undefined {
  const i = _FIT_POS.indexOf(name);
  return call.kw[name] ?? (i >= 0 ? call.args[i] : undefined);
}

/** Whether `v` is the test split of the same data as `train`, prepared the same way. */
function _isTestOf(v: Val | undefined, train: Val | undefined): boolean {
  if (v?.k !== "data" || train?.k !== "data") return false;
  return v.data.split === "test" && train.data.split === "train" &&
    _preparedAlike(v.data, train.data);
}

/** Whether `v` is the first training rows that `train` leaves out, prepared the same way. */
function _isHeldOutOf(v: Val | undefined, train: Val | undefined): boolean {
  if (v?.k !== "data" || train?.k !== "data") return false;
  const a = v.data.cut, b = train.data.cut;
  return a?.part === "first" && b?.part === "rest" && a.at === b.at &&
    _preparedAlike(v.data, train.data);
}

/** Whether `a` and `b` are the same dataset's images or labels, scaled and encoded alike. */
function _preparedAlike(a: DataVal, b: DataVal): boolean {
  return !a.why && !b.why && a.role === b.role && a.dataset === b.dataset &&
    a.divisor === b.divisor && a.oneHot === b.oneHot && sameStandardization(a, b);
}

/**
 * Why fit()'s x is not the training images as a protocol gives them (loaded, divided, the first
 * N held out, standardized with their own statistics); undefined where it is.
 */
function _notTrainingImages(x: Val | undefined): string | undefined {
  if (x?.k === "unknown") return x.why;
  if (x?.k !== "data") return "x is not the training images";
  const d = x.data, s = d.standardized;
  if (d.why) return d.why;
  if (d.role !== "images" || d.split !== "train") return `x is the ${d.split} ${d.role}`;
  if (d.cut?.part === "first") {
    return `x is ${_rows(d)}; claimcheck holds out the first images and trains on the rest`;
  }
  if (s && !s.std) return `${s.where}: the images' mean is subtracted, but not divided by a std`;
  if (s && !sameData(s.of, d)) {
    // The rows, and the division where the rows are the same.
    const rows = (e: DataVal) => `${_rows(e)}${sameCut(s.of, d) ? ` / ${e.divisor}` : ""}`;
    return `${s.where}: standardized with the mean and std of ${rows(s.of)}, not of the ` +
      `images fit() trains on, ${rows(d)}`;
  }
  return undefined;
}

/** Which rows of its dataset `d` is, for messages: "the training images after the first 5000". */
function _rows(d: DataVal): string {
  const split = d.split === "train" ? "training" : "test";
  if (!d.cut) return `all the ${split} ${d.role}`;
  return d.cut.part === "first"
    ? `the first ${d.cut.at} training ${d.role} (${d.cut.where})`
    : `the training ${d.role} after the first ${d.cut.at} (${d.cut.where})`;
}

/** Why the walk could not follow a value: its reason, where it has one. */
function _whyNot(v: Val | undefined): string | undefined {
  return v?.k === "unknown" ? v.why : v?.k === "data" ? v.data.why : undefined;
}

/** Whether a printed evaluate() ran on the test split of fit()'s data, prepared the same way. */
function _testSetOf(s: PrintedScore, fit: FitCall): boolean {
  return _isTestOf(_arg(s.evaluate, "x"), _arg(fit.call, "x")) &&
    _isTestOf(_arg(s.evaluate, "y"), _arg(fit.call, "y"));
}

/** A compile() metric's Keras name, as written (`accuracy`, `CategoricalAccuracy`). */
function _metricName(m: Val): string {
  return m.k === "str"
    ? m.v
    : m.k === "obj"
    ? m.call.name
    : m.k === "ref"
    ? m.path.split(".").at(-1)!
    : m.k === "fn"
    ? "a function of the snippet's own"
    : "?";
}

/**
 * Where evaluate()'s result holds the first accuracy metric of compile(): Keras returns the
 * loss, then the metrics in compile()'s order; undefined when compile() lists none or its
 * metrics are not known.
 */
function _accuracyIndex(compile: Call | undefined): number | undefined {
  const v = compile && (compile.kw.metrics ?? compile.args[2]);
  if (!v || v.k === "unknown" || v.k === "none") return undefined;
  const items = v.k === "seq" ? v.items : [v];
  const i = items.findIndex((m) => _ACCURACIES.includes(_METRICS[_metricName(m)]));
  return i < 0 ? undefined : i + 1;
}

/** A protocol value for the description: "TODO" where it is missing or a TODO marker. */
function _stated(v: unknown): unknown {
  return v === undefined || String(v).startsWith("TODO") ? "TODO" : v;
}

function _statement(d: ClaimDraft, split: string): string {
  const what = split === "train"
    ? "training accuracy"
    : split === "val"
    ? "validation accuracy"
    : "test accuracy";
  const cmp = d.compare === "atLeast" ? "at least " : d.compare === "atMost" ? "at most " : "";
  const when = d.epoch !== undefined ? `After ${d.epoch} epochs the` : "The";
  return `${when} ${what} is ${cmp}${d.figure} (drafted by claimcheck new from the snippet: check it against the source).`;
}

function _noModel(file: string, library: string): ModelCode {
  const what = `${file}: no ${library} model found`;
  return {
    body: [`return ${todoCall(what)};`],
    initializers: [],
    usesTodo: true,
    usesCall: false,
    todos: [`model.ts: ${what}`],
    summary: "",
  };
}

/** model.ts: the builder, and the helpers it uses. */
function _modelTs(
  name: string,
  file: string,
  modelName: string,
  model: ModelState | undefined,
  code: ModelCode,
): string {
  const doc = (s: string) => s.replaceAll("*/", "*\\/");
  const lines = [
    `/**`,
    ` * Models of the ${name} replication, by the names spec.json uses: written by`,
    ` * \`deno task new ${name} --from ${doc(file)}\`; check them against the source.`,
    ` */`,
    ...(code.body.some((l) => l.includes("tf."))
      ? [`import * as tf from "@tensorflow/tfjs";`]
      : []),
    code.initHelper
      ? `import { type ModelBuilder, type ReplicationModule, ${code.initHelper} } from "claimcheck/plugin";`
      : `import type { ModelBuilder, ReplicationModule } from "claimcheck/plugin";`,
    `import * as replication from "./model.ts";`,
    "",
    "/** Model builders: name → (seed) → an uncompiled model with seeded initializers. */",
    "export const models: Record<string, ModelBuilder> = {",
    `  /** The snippet's model: ${doc(model ? `${file}, ${model.where}` : file)}. */`,
    `  ${modelName}: (${code.initHelper ? "seed" : ""}) => {`,
    ...code.body.flatMap((l) => l.split("\n")).map((l) => l ? `    ${l}` : l),
    "  },",
    "};",
  ];
  if (code.usesCall) {
    lines.push(
      "",
      "/** Applies a layer to symbolic tensors: Keras' functional `layer(x)`. */",
      "function call(",
      "  layer: tf.layers.Layer,",
      "  x: tf.SymbolicTensor | tf.SymbolicTensor[],",
      "): tf.SymbolicTensor {",
      "  return layer.apply(x) as tf.SymbolicTensor;",
      "}",
    );
  }
  if (code.usesTodo) {
    lines.push(
      "",
      "/** Stands in for what `deno task new --from` could not translate: replace each by hand. */",
      "function todo(what: string): never {",
      "  throw new Error(`model.ts: not translated yet: ${what}`);",
      "}",
    );
  }
  lines.push(
    "",
    "// `deno check` holds this module to the contract: a table of the wrong shape fails here.",
    "replication satisfies ReplicationModule;",
  );
  return `${lines.join("\n")}\n`;
}
