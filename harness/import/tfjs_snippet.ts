/**
 * Reads a TensorFlow.js snippet (tfjs-layers JavaScript or TypeScript, as a blog post shows it)
 * with a real parser (@babel/parser) and runs it abstractly, as python_snippet.ts does a Keras
 * snippet: names, imports, constants, the snippet's own functions, the model (`tf.sequential`,
 * `model.add`, `tf.model`), `compile`, `fit` and `fitDataset`. Nothing is executed.
 *
 * The plan it returns speaks Keras, so import_snippet.ts and keras_model.ts translate it as they
 * do a Keras snippet: each `tf.layers.x` is the Keras layer it twins (`conv2d` → Conv2D), config
 * keys and identifiers are Keras' snake_case (`kernelSize` → kernel_size,
 * `'categoricalCrossentropy'` → categorical_crossentropy), and an optimizer is tfjs' own with
 * every value tfjs fills in (`'rmsprop'` is `tf.train.rmsprop(0.001, 0.9, 0, 1e-7)`). tfjs posts
 * load their data with code of their own, so fit()'s inputs stay unknown: the dataset is TODO.
 * @module
 */
import { parse } from "@babel/parser";
import { arithmetic } from "./_arithmetic.ts";
import { kerasLayerName } from "./keras_model.ts";
import {
  appliedLayer,
  type Call,
  type FitCall,
  functionalModel,
  type ModelState,
  type SnippetPlan,
  unknown,
  type Val,
} from "./plan.ts";

type _File = ReturnType<typeof parse>;
type _Statement = _File["program"]["body"][number];
type _Expression = Extract<_Statement, { type: "ExpressionStatement" }>["expression"];
type _Of<T extends string> = Extract<_Statement | _Expression, { type: T }>;
type _ObjectMember = _Of<"ObjectExpression">["properties"][number];
type _Function =
  | _Of<"FunctionDeclaration">
  | _Of<"FunctionExpression">
  | _Of<"ArrowFunctionExpression">
  | Extract<_ObjectMember, { type: "ObjectMethod" }>;
type _Pattern =
  | _Of<"VariableDeclaration">["declarations"][number]["id"]
  | _Function["params"][number]
  | _Of<"AssignmentExpression">["left"];
/** Any node, as far as positions and a generic walk need it. */
type _Node = {
  type: string;
  start?: number | null;
  end?: number | null;
  loc?: { start: { line: number } } | null;
};

/** A value while walking a snippet: the plan's values, and JavaScript's own lists, objects
 * and functions, which become plan values where they reach a call the plan records. */
type _V =
  | Extract<
    Val,
    {
      k: "num" | "str" | "bool" | "none" | "ref" | "layer" | "obj" | "tensor" | "model" | "unknown";
    }
  >
  | { k: "list"; items: _V[] }
  | { k: "object"; entries: Map<string, _V>; node: _Node; spread?: string }
  | { k: "function"; node: _Function; scope: _Scope; name?: string }
  | { k: "method"; of: _V; name: string };

/** The packages whose namespace is `tf`. */
const _TFJS_MODULES = [
  "@tensorflow/tfjs",
  "@tensorflow/tfjs-node",
  "@tensorflow/tfjs-node-gpu",
  "@tensorflow/tfjs-layers",
  "@tensorflow/tfjs-core",
];

/** tfjs-layers' other names for a layer factory (its exports_layers.ts). */
const _LAYER_ALIASES: Record<string, string> = {
  avgPool2d: "averagePooling2d",
  avgPooling2d: "averagePooling2d",
  maxPool2d: "maxPooling2d",
  globalMaxPool2d: "globalMaxPooling2d",
};

/** tfjs' ε where an optimizer is given none: the backend's, 1e-7 in float32. */
const _EPSILON = 1e-7;

/** One parameter of a tf.train factory: tfjs' name, Keras', and tfjs' default (none: required). */
type _Param = [tfjs: string, keras: string, dflt?: number | boolean];

/**
 * tf.train's optimizers (tfjs-core 4.22's optimizer_constructors.ts): the Keras class each
 * twins, its positional parameters and the values tfjs uses besides (Adagrad's ε).
 */
const _OPTIMIZERS: Record<string, { keras: string; params: _Param[]; fixed?: [string, number] }> = {
  sgd: { keras: "SGD", params: [["learningRate", "learning_rate"]] },
  momentum: {
    keras: "SGD",
    params: [["learningRate", "learning_rate"], ["momentum", "momentum"], [
      "useNesterov",
      "nesterov",
      false,
    ]],
  },
  rmsprop: {
    keras: "RMSprop",
    params: [
      ["learningRate", "learning_rate"],
      ["decay", "rho", 0.9],
      ["momentum", "momentum", 0],
      ["epsilon", "epsilon", _EPSILON],
      ["centered", "centered", false],
    ],
  },
  adam: {
    keras: "Adam",
    params: [
      ["learningRate", "learning_rate", 0.001],
      ["beta1", "beta_1", 0.9],
      ["beta2", "beta_2", 0.999],
      ["epsilon", "epsilon", _EPSILON],
    ],
  },
  adadelta: {
    keras: "Adadelta",
    params: [
      ["learningRate", "learning_rate", 0.001],
      ["rho", "rho", 0.95],
      ["epsilon", "epsilon", _EPSILON],
    ],
  },
  adamax: {
    keras: "Adamax",
    params: [
      ["learningRate", "learning_rate", 0.002],
      ["beta1", "beta_1", 0.9],
      ["beta2", "beta_2", 0.999],
      ["epsilon", "epsilon", _EPSILON],
      ["decay", "decay", 0],
    ],
  },
  adagrad: {
    keras: "Adagrad",
    params: [["learningRate", "learning_rate"], [
      "initialAccumulatorValue",
      "initial_accumulator_value",
      0.1,
    ]],
    fixed: ["epsilon", _EPSILON],
  },
};

/** compile()'s optimizer names → the tf.train call tfjs makes (tfjs-layers' getOptimizer). */
const _NAMED_OPTIMIZERS: Record<string, [string, number[]]> = {
  sgd: ["sgd", [0.01]],
  SGD: ["sgd", [0.01]],
  adagrad: ["adagrad", [0.01]],
  Adagrad: ["adagrad", [0.01]],
  adadelta: ["adadelta", [1, 0.95]],
  Adadelta: ["adadelta", [1, 0.95]],
  adam: ["adam", [0.001, 0.9, 0.999]],
  Adam: ["adam", [0.001, 0.9, 0.999]],
  adamax: ["adamax", [0.002, 0.9, 0.999, _EPSILON, 0]],
  Adamax: ["adamax", [0.002, 0.9, 0.999, _EPSILON, 0]],
  rmsprop: ["rmsprop", [0.001, 0.9, 0]],
  RMSProp: ["rmsprop", [0.001, 0.9, 0]],
};

/** fit() options that do not change training. */
const _PASSIVE_FIT_OPTIONS = ["yieldEvery"];

/** Reads a `.js`, `.mjs` or `.ts` snippet (`file` names its kind and appears in messages). */
export function readTfjsSnippet(code: string, file: string): SnippetPlan {
  return new _Walker(code, file).run();
}

class _Return {
  constructor(readonly value: _V) {}
}

/** A block's names; a name not found here is looked up in the enclosing one. */
class _Scope {
  readonly #vars = new Map<string, _V>();
  constructor(readonly parent?: _Scope) {}

  get(name: string): _V | undefined {
    return this.#vars.get(name) ?? this.parent?.get(name);
  }

  declare(name: string, v: _V): void {
    this.#vars.set(name, v);
  }

  /** Sets a name where it is declared, else (as JavaScript does) in the outermost scope. */
  assign(name: string, v: _V): void {
    if (this.#vars.has(name) || !this.parent) this.#vars.set(name, v);
    else if (this.parent.get(name) !== undefined) this.parent.assign(name, v);
    else this.#vars.set(name, v);
  }
}

class _Walker {
  readonly #code: string;
  readonly #file: string;
  readonly #global = new _Scope();
  readonly #plan: SnippetPlan = {
    texts: [],
    notes: [],
    fits: [],
    imports: [],
    scores: [],
    tfjs: true,
  };
  /** Every function value made, to read those nothing calls once at the end. */
  readonly #functions: Extract<_V, { k: "function" }>[] = [];
  /** The functions read (called, or read at the end). */
  readonly #read = new Set<_Function>();
  /** Models the snippet compiles or fits but whose making the walk could not follow. */
  readonly #unseen = new WeakMap<object, ModelState>();
  /** Counts models made and compile/fit calls, to note the callbacks that reach them. */
  #found = 0;
  #depth = 0;
  #id = 0;

  constructor(code: string, file: string) {
    this.#code = code;
    this.#file = file;
  }

  run(): SnippetPlan {
    let ast: _File;
    try {
      ast = parse(this.#code, {
        sourceType: "unambiguous",
        plugins: /\.[cm]?ts$/i.test(this.#file) ? ["typescript"] : [],
        errorRecovery: true,
        allowAwaitOutsideFunction: true,
        allowReturnOutsideFunction: true,
        allowImportExportEverywhere: true,
        allowUndeclaredExports: true,
      });
    } catch (e) {
      throw new Error(`${this.#file}: @babel/parser cannot read it: ${(e as Error).message}`);
    }
    for (const e of ast.errors ?? []) {
      const line = (e as { loc?: { line: number } }).loc?.line ?? "?";
      this.#plan.notes.push(
        `line ${line}: @babel/parser: ${e.reasonCode}; read as the parser recovered it`,
      );
    }
    this.#texts(ast);
    try {
      this.#block(ast.program.body, this.#global);
    } catch (e) {
      if (!(e instanceof _Return)) throw e;
    }
    this.#readUncalled();
    return this.#plan;
  }

  // ---- source text ----------------------------------------------------------------------

  #where(n: _Node): string {
    return `line ${n.loc?.start.line ?? "?"}`;
  }

  /** The code as written, on one line and shortened, for messages and TODO markers. */
  #snippet(n: _Node): string {
    const t = this.#code.slice(n.start ?? 0, n.end ?? 0).replace(/\s+/g, " ")
      .replace(/([({[]) /g, "$1").replace(/,? ([)}\]])/g, "$1");
    return t.length > 90 ? `${t.slice(0, 87)}...` : t;
  }

  /** Comments (adjacent `//` lines as one) and the strings given to console.log. */
  #texts(ast: _File): void {
    let last: { text: string; line: number; where: string } | undefined;
    const flush = () => {
      if (last) this.#plan.texts.push({ kind: "comment", text: last.text, where: last.where });
      last = undefined;
    };
    for (const c of ast.comments ?? []) {
      const line = c.loc?.start.line ?? 0;
      if (c.type === "CommentLine") {
        if (last && last.line === line - 1) {
          last.text += `\n${c.value.trim()}`;
          last.line = line;
          continue;
        }
        flush();
        last = { text: c.value.trim(), line, where: `line ${line}` };
        continue;
      }
      flush();
      const text = c.value.split("\n").map((l) => l.replace(/^\s*\*+\s?/, "")).join("\n");
      this.#plan.texts.push({ kind: "comment", text: text.trim(), where: `line ${line}` });
    }
    flush();
    _walkNodes(ast.program, (n) => {
      if (n.type !== "CallExpression") return;
      const call = n as _Of<"CallExpression">;
      const callee = call.callee;
      const printed = callee.type === "MemberExpression" &&
        callee.object.type === "Identifier" && callee.object.name === "console" &&
        ["log", "info", "warn"].includes(_memberName(callee) ?? "");
      if (!printed) return;
      const parts: string[] = [];
      _walkNodes(call, (s) => {
        if (s.type === "StringLiteral") parts.push((s as _Of<"StringLiteral">).value);
        if (s.type === "TemplateElement") {
          parts.push((s as unknown as { value: { cooked?: string | null } }).value.cooked ?? "");
        }
      });
      const text = parts.filter((p) => p.trim()).join(" … ");
      if (text) this.#plan.texts.push({ kind: "print", text, where: this.#where(call) });
    });
  }

  // ---- statements -----------------------------------------------------------------------

  /** Walks a block's statements, its function declarations hoisted as JavaScript does. */
  #block(body: _Statement[], scope: _Scope): void {
    for (const s of body) {
      const d = s.type === "ExportNamedDeclaration" || s.type === "ExportDefaultDeclaration"
        ? s.declaration
        : s;
      if (d?.type !== "FunctionDeclaration") continue;
      // An anonymous `export default function` is only made: read at the end, as uncalled.
      const f = this.#function(d, scope, d.id?.name ?? "the default export");
      if (d.id) scope.declare(d.id.name, f);
    }
    for (const s of body) this.#statement(s, scope);
  }

  #statement(s: _Statement, scope: _Scope): void {
    switch (s.type) {
      case "ImportDeclaration":
        return this.#import(s, scope);
      case "VariableDeclaration":
        for (const d of s.declarations) {
          const v: _V = d.init ? this.#eval(d.init, scope) : { k: "none" };
          this.#bind(d.id, v, scope, true, s);
        }
        return;
      case "ExpressionStatement":
        this.#eval(s.expression, scope);
        return;
      case "ExportNamedDeclaration":
        if (s.declaration && s.declaration.type !== "FunctionDeclaration") {
          this.#statement(s.declaration, scope);
        }
        return;
      case "ExportDefaultDeclaration":
        if (s.declaration.type === "ClassDeclaration") this.#statement(s.declaration, scope);
        else if (s.declaration.type !== "FunctionDeclaration" && !_isTsDeclaration(s.declaration)) {
          this.#eval(s.declaration as _Expression, scope);
        }
        return;
      case "ClassDeclaration":
        if (s.id) {
          scope.declare(
            s.id.name,
            unknown(`${this.#where(s)}: class ${s.id.name} is the snippet's own code`),
          );
        }
        return;
      case "BlockStatement":
        return this.#block(s.body, new _Scope(scope));
      case "IfStatement": {
        const test = this.#eval(s.test, scope);
        if (test.k === "bool") {
          const branch = test.v ? s.consequent : s.alternate;
          if (branch) this.#statement(branch, scope);
          return;
        }
        return this.#opaque(s, scope, "condition the snippet decides at run time");
      }
      case "ReturnStatement":
        throw new _Return(s.argument ? this.#eval(s.argument, scope) : { k: "none" });
      case "ThrowStatement":
        throw new _Return(unknown(`${this.#where(s)}: the code throws here`));
      case "ForStatement":
      case "ForInStatement":
      case "ForOfStatement":
      case "WhileStatement":
      case "DoWhileStatement":
      case "TryStatement":
      case "SwitchStatement":
      case "LabeledStatement":
        return this.#opaque(s, scope, _statementWord(s.type));
      default:
        return; // declarations of types, empty statements, debugger
    }
  }

  #import(s: _Of<"ImportDeclaration">, scope: _Scope): void {
    const source = s.source.value;
    this.#plan.imports.push(source);
    const tfjs = _TFJS_MODULES.includes(source);
    for (const spec of s.specifiers) {
      const local = spec.local.name;
      if (tfjs) {
        const name = spec.type === "ImportSpecifier"
          ? spec.imported.type === "Identifier" ? spec.imported.name : spec.imported.value
          : undefined;
        scope.declare(local, { k: "ref", path: name ? `tf.${name}` : "tf" });
      } else scope.declare(local, this.#outside(local, source, s));
    }
  }

  /** A name that comes from a file the snippet does not show. */
  #outside(name: string, source: string, at: _Node): _V {
    return unknown(
      `${this.#where(at)}: \`${name}\` comes from ${source}, which is not in the snippet`,
    );
  }

  #bind(target: _Pattern, value: _V, scope: _Scope, declare: boolean, at: _Node): void {
    switch (target.type) {
      case "Identifier": {
        if (declare) scope.declare(target.name, value);
        else scope.assign(target.name, value);
        if (value.k === "model") value.model.name ??= target.name;
        if (value.k === "function") value.name ??= target.name;
        return;
      }
      case "ArrayPattern":
        target.elements.forEach((e, i) => {
          if (!e) return;
          const v = value.k === "list"
            ? value.items[i] ?? { k: "none" as const }
            : value.k === "unknown"
            ? value
            : unknown(`${this.#where(at)}: \`${this.#snippet(at)}\` is not translated`);
          this.#bind(e, v, scope, declare, at);
        });
        return;
      case "ObjectPattern":
        for (const p of target.properties) {
          if (p.type === "RestElement") {
            this.#bind(
              p.argument,
              unknown(`${this.#where(p)}: a rest pattern`),
              scope,
              declare,
              at,
            );
            continue;
          }
          const key = _key(p);
          const v = value.k === "object" && key !== undefined && !value.spread
            ? value.entries.get(key) ?? { k: "none" as const }
            : value.k === "unknown"
            ? value
            : unknown(`${this.#where(at)}: \`${this.#snippet(at)}\` is not translated`);
          this.#bind(p.value as _Pattern, v, scope, declare, at);
        }
        return;
      case "AssignmentPattern": {
        const v = value.k === "none" ? this.#eval(target.right, scope) : value;
        return this.#bind(target.left, v, scope, declare, at);
      }
      case "RestElement":
        return this.#bind(
          target.argument,
          unknown(`${this.#where(target)}: rest`),
          scope,
          declare,
          at,
        );
      default:
        return; // obj.x = …, a[i] = …: nothing the walk tracks
    }
  }

  /**
   * A statement whose effect depends on run time (a loop, a condition, a try block): every name
   * it assigns and every model it changes becomes unknown, with the reason (as the Keras
   * reader does).
   */
  #opaque(s: _Statement, scope: _Scope, what: string): void {
    const head = this.#snippet(s).split("{")[0].trim();
    const why = `${
      this.#where(s)
    }: changed inside a ${what} (\`${head}\`), which is not translated`;
    const names: string[] = [];
    _walkNodes(s, (n) => {
      if (n.type === "AssignmentExpression" || n.type === "VariableDeclarator") {
        const target = n.type === "AssignmentExpression"
          ? (n as _Of<"AssignmentExpression">).left
          : (n as _Of<"VariableDeclaration">["declarations"][number]).id;
        _walkNodes(target as _Node, (t) => {
          if (t.type === "Identifier") names.push((t as _Of<"Identifier">).name);
        });
      } else if (n.type === "UpdateExpression") {
        const arg = (n as _Of<"UpdateExpression">).argument;
        if (arg.type === "Identifier") names.push(arg.name);
      } else if (n.type === "CallExpression") {
        const callee = (n as _Of<"CallExpression">).callee;
        if (callee.type !== "MemberExpression" || callee.object.type !== "Identifier") return;
        const method = _memberName(callee);
        const target = scope.get(callee.object.name);
        const model = target?.k === "model"
          ? target.model
          : target && this.#unseen.get(target as object);
        if (model && ["add", "compile", "fit", "fitDataset", "pop"].includes(method ?? "")) {
          model.opaque ??= why;
        }
      }
    });
    for (const name of names) scope.assign(name, unknown(why));
  }

  // ---- expressions ----------------------------------------------------------------------

  #lookup(name: string, scope: _Scope, n: _Node): _V {
    const v = scope.get(name);
    if (v) return v;
    if (name === "undefined") return { k: "none" };
    if (name === "tf") {
      this.#plan.notes.push(
        `${this.#where(n)}: \`tf\` is not imported: read as TensorFlow.js loaded by a <script> tag`,
      );
    }
    // Kept, so that every use of an undefined name is the same value (the same unseen model).
    const value: _V = name === "tf"
      ? { k: "ref", path: "tf" }
      : unknown(`${this.#where(n)}: \`${name}\` is not defined in the snippet`);
    this.#global.declare(name, value);
    return value;
  }

  #eval(n: _Expression, scope: _Scope): _V {
    switch (n.type) {
      case "NumericLiteral":
        return { k: "num", v: n.value };
      case "StringLiteral":
        return { k: "str", v: n.value };
      case "BooleanLiteral":
        return { k: "bool", v: n.value };
      case "NullLiteral":
        return { k: "none" };
      case "TemplateLiteral":
        return n.expressions.length === 0
          ? { k: "str", v: n.quasis.map((q) => q.value.cooked ?? "").join("") }
          : unknown(`${this.#where(n)}: a template string`);
      case "Identifier":
        return this.#lookup(n.name, scope, n);
      case "ArrayExpression":
        return {
          k: "list",
          items: n.elements.map((e) =>
            !e
              ? { k: "none" as const }
              : e.type === "SpreadElement"
              ? unknown(`${this.#where(e)}: a spread (\`${this.#snippet(e)}\`)`)
              : this.#eval(e, scope)
          ),
        };
      case "ObjectExpression":
        return this.#object(n, scope);
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        return this.#function(n, scope, n.type === "FunctionExpression" ? n.id?.name : undefined);
      case "CallExpression":
      case "OptionalCallExpression":
      case "NewExpression":
        return this.#call(n, scope);
      case "MemberExpression":
      case "OptionalMemberExpression":
        return this.#member(n, scope);
      case "AwaitExpression":
        return this.#eval(n.argument, scope);
      case "TSAsExpression":
      case "TSSatisfiesExpression":
      case "TSNonNullExpression":
      case "TSTypeAssertion":
      case "TSInstantiationExpression":
      case "ParenthesizedExpression":
        return this.#eval(n.expression, scope);
      case "SequenceExpression":
        return n.expressions.map((e) => this.#eval(e, scope)).at(-1)!;
      case "UnaryExpression": {
        const v = this.#eval(n.argument, scope);
        if (n.operator === "!" && v.k === "bool") return { k: "bool", v: !v.v };
        if (n.operator === "-" && v.k === "num") return { k: "num", v: -v.v };
        if (n.operator === "+" && v.k === "num") return v;
        if (n.operator === "void") return { k: "none" };
        return unknown(`${this.#where(n)}: \`${this.#snippet(n)}\``);
      }
      case "BinaryExpression":
        return this.#binary(n, scope);
      case "LogicalExpression": {
        const a = this.#eval(n.left, scope);
        const known = a.k === "bool" || a.k === "num" || a.k === "str" || a.k === "none";
        if (!known) {
          return unknown(`${this.#where(n)}: \`${this.#snippet(n)}\` is decided at run time`);
        }
        const truthy = a.k !== "none" && Boolean(a.v);
        const takeLeft = n.operator === "&&"
          ? !truthy
          : n.operator === "||"
          ? truthy
          : a.k !== "none";
        return takeLeft ? a : this.#eval(n.right, scope);
      }
      case "ConditionalExpression": {
        const test = this.#eval(n.test, scope);
        if (test.k === "bool") return this.#eval(test.v ? n.consequent : n.alternate, scope);
        return unknown(`${this.#where(n)}: \`${this.#snippet(n)}\` is decided at run time`);
      }
      case "AssignmentExpression": {
        const right = this.#eval(n.right, scope);
        const value = n.operator === "="
          ? right
          : n.left.type === "Identifier"
          ? this.#arith(this.#lookup(n.left.name, scope, n), n.operator.slice(0, -1), right, n)
          : right;
        this.#bind(n.left, value, scope, false, n);
        return value;
      }
      case "UpdateExpression":
        if (n.argument.type === "Identifier") {
          scope.assign(n.argument.name, unknown(`${this.#where(n)}: \`${this.#snippet(n)}\``));
        }
        return unknown(`${this.#where(n)}: \`${this.#snippet(n)}\``);
      default:
        return unknown(`${this.#where(n)}: \`${this.#snippet(n)}\` is not translated`);
    }
  }

  #object(n: _Of<"ObjectExpression">, scope: _Scope): _V {
    const entries = new Map<string, _V>();
    let spread: string | undefined;
    for (const p of n.properties) {
      if (p.type === "SpreadElement") {
        spread ??= `${this.#where(p)}: an object spread (\`${this.#snippet(p)}\`)`;
        continue;
      }
      const key = _key(p);
      if (key === undefined) {
        spread ??= `${this.#where(p)}: a computed key (\`${this.#snippet(p)}\`)`;
        continue;
      }
      entries.set(
        key,
        p.type === "ObjectMethod"
          ? this.#function(p, scope, key)
          : this.#eval(p.value as _Expression, scope),
      );
    }
    return { k: "object", entries, node: n, spread };
  }

  #function(node: _Function, scope: _Scope, name?: string): _V {
    const f = { k: "function" as const, node, scope, name };
    this.#functions.push(f);
    return f;
  }

  #binary(n: _Of<"BinaryExpression">, scope: _Scope): _V {
    if (n.left.type === "PrivateName") return unknown(this.#where(n));
    const a = this.#eval(n.left, scope), b = this.#eval(n.right, scope);
    const op = n.operator;
    if (["===", "!==", "==", "!="].includes(op)) {
      const prim = (v: _V) => v.k === "num" || v.k === "str" || v.k === "bool" || v.k === "none";
      if (prim(a) && prim(b)) {
        const same = a.k === b.k && (a.k === "none" || a.v === (b as typeof a).v);
        return { k: "bool", v: op.startsWith("=") ? same : !same };
      }
    }
    if (a.k === "num" && b.k === "num" && ["<", ">", "<=", ">="].includes(op)) {
      const v = op === "<"
        ? a.v < b.v
        : op === ">"
        ? a.v > b.v
        : op === "<="
        ? a.v <= b.v
        : a.v >= b.v;
      return { k: "bool", v };
    }
    return this.#arith(a, op, b, n);
  }

  #arith(a: _V, op: string, b: _V, n: _Node): _V {
    const v = a.k === "num" && b.k === "num" ? arithmetic(a.v, op, b.v) : undefined;
    if (v !== undefined) return { k: "num", v };
    if (op === "+" && (a.k === "str" || a.k === "num") && (b.k === "str" || b.k === "num")) {
      return { k: "str", v: `${a.v}${b.v}` };
    }
    if (a.k === "unknown") return a;
    if (b.k === "unknown") return b;
    return unknown(`${this.#where(n)}: \`${this.#snippet(n)}\` is not translated`);
  }

  /**
   * `a.b`; where it is `called` (`a.b()`), a method of a value the walk could not follow is
   * kept as such, so that compile() or fit() on a model it lost track of is still seen.
   */
  #member(
    n: _Of<"MemberExpression"> | _Of<"OptionalMemberExpression">,
    scope: _Scope,
    called = false,
  ): _V {
    const obj = this.#eval(n.object, scope);
    const prop = n.computed ? this.#eval(n.property as _Expression, scope) : undefined;
    const name = n.computed
      ? prop?.k === "str" || prop?.k === "num" ? String(prop.v) : undefined
      : _memberName(n);
    if (obj.k === "unknown" && !(called && name !== undefined)) return obj;
    if (name === undefined) {
      return unknown(`${this.#where(n)}: \`${this.#snippet(n)}\` is decided at run time`);
    }
    if (obj.k === "ref") return { k: "ref", path: `${obj.path}.${name}` };
    if (obj.k === "list") {
      if (name === "length") return { k: "num", v: obj.items.length };
      if (/^\d+$/.test(name)) return obj.items[Number(name)] ?? { k: "none" };
    }
    if (obj.k === "object" && !obj.spread && obj.entries.has(name)) return obj.entries.get(name)!;
    return { k: "method", of: obj, name };
  }

  // ---- calls ----------------------------------------------------------------------------

  #call(
    n: _Of<"CallExpression"> | _Of<"OptionalCallExpression"> | _Of<"NewExpression">,
    scope: _Scope,
  ): _V {
    const where = this.#where(n), text = this.#snippet(n);
    if (n.callee.type === "Identifier" && n.callee.name === "require" && !scope.get("require")) {
      const arg = n.arguments[0];
      if (arg?.type !== "StringLiteral") return unknown(`${where}: \`${text}\``);
      this.#plan.imports.push(arg.value);
      return _TFJS_MODULES.includes(arg.value)
        ? { k: "ref", path: "tf" }
        : this.#outside(text, arg.value, n);
    }
    const callee = n.callee.type === "MemberExpression" ||
        n.callee.type === "OptionalMemberExpression"
      ? this.#member(n.callee, scope, true)
      : n.callee.type === "V8IntrinsicIdentifier"
      ? unknown(where)
      : this.#eval(n.callee as _Expression, scope);
    const args = n.arguments.map((a): _V =>
      a.type === "SpreadElement"
        ? unknown(`${this.#where(a)}: arguments spread (\`${this.#snippet(a)}\`)`)
        : a.type === "ArgumentPlaceholder"
        ? unknown(where)
        : this.#eval(a as _Expression, scope)
    );
    const calleeText = this.#snippet(n.callee as _Node);
    if (n.type === "NewExpression") {
      this.#callbacks(args, calleeText);
      return callee.k === "unknown" ? callee : unknown(`${where}: \`${text}\` is not translated`);
    }
    if (callee.k === "function") return this.#callFunction(callee, args, where);
    if (callee.k === "ref") return this.#callTf(callee.path, args, n);
    if (callee.k === "method") return this.#callMethod(callee.of, callee.name, args, n, scope);
    this.#callbacks(args, calleeText);
    if (callee.k === "unknown") return callee;
    return unknown(`${where}: \`${text}\` is not translated`);
  }

  #callFunction(f: Extract<_V, { k: "function" }>, args: _V[], where: string): _V {
    if (this.#depth > 20) return unknown(`${where}: recursion`);
    this.#read.add(f.node);
    const scope = new _Scope(f.scope);
    f.node.params.forEach((p, i) => {
      if (p.type === "RestElement") {
        this.#bind(p.argument, { k: "list", items: args.slice(i) }, scope, true, p);
      } else {
        this.#bind(p, args[i] ?? { k: "none" }, scope, true, p);
      }
    });
    this.#depth++;
    try {
      if (f.node.body.type !== "BlockStatement") return this.#eval(f.node.body, scope);
      this.#block(f.node.body.body, scope);
      return { k: "none" };
    } catch (e) {
      if (e instanceof _Return) return e.value;
      throw e;
    } finally {
      this.#depth--;
    }
  }

  /**
   * Functions handed to code the walk does not follow (an event handler, `.then`): read once,
   * as if called with unknown arguments, so a model or fit() inside is found.
   */
  #callbacks(args: _V[], callee: string): void {
    for (const a of args) {
      if (a.k !== "function" || this.#read.has(a.node)) continue;
      this.#readOnce(a, `the function given to \`${callee}\``);
    }
  }

  #readOnce(f: Extract<_V, { k: "function" }>, what: string): void {
    const before = this.#found;
    const why = `${what} is read as if called once, its arguments unknown`;
    this.#callFunction(f, f.node.params.map(() => unknown(why)), this.#where(f.node));
    if (this.#found !== before) this.#plan.notes.push(`${this.#where(f.node)}: ${why}`);
  }

  /** Functions nothing the walk followed calls (exported, or called from code not followed). */
  #readUncalled(): void {
    for (;;) {
      const next = this.#functions.filter((f) => !this.#read.has(f.node))
        .sort((a, b) => (a.node.start ?? 0) - (b.node.start ?? 0))[0];
      if (!next) return;
      this.#readOnce(next, `${next.name ?? "a function"}(), which the code followed never calls,`);
    }
  }

  /** A call into TensorFlow.js: `path` is its name under `tf`, e.g. `tf.layers.dense`. */
  #callTf(path: string, args: _V[], n: _Node & { callee: unknown }): _V {
    const where = this.#where(n), text = this.#snippet(n);
    const [, group, fn] = /^tf\.(?:(\w+)\.)?(\w+)$/.exec(path) ?? [];
    if (!fn) return unknown(`${where}: \`${text}\` is not translated`);
    if (path === "tf.sequential") return this.#sequential(args[0], where, text);
    if (path === "tf.model") return this.#functional(args[0], where, text);
    if (path === "tf.input" || path === "tf.layers.input") {
      const call = this.#config("Input", args, where, text, "keras.Input");
      if (call.k !== "obj") return call;
      return { k: "tensor", node: { kind: "input", call: call.call, id: ++this.#id } };
    }
    if (path === "tf.tidy") {
      const f = args.find((a) => a.k === "function");
      return f?.k === "function" ? this.#callFunction(f, [], where) : unknown(where);
    }
    if (group === "layers") return this.#layer(fn, args, where, text);
    if (group === "train") return _optimizer(fn, args, where, text);
    if (path === "tf.callbacks.earlyStopping") {
      return this.#config("EarlyStopping", args, where, text, "keras.callbacks.EarlyStopping");
    }
    if (group === "initializers" || group === "regularizers" || group === "constraints") {
      const name = fn[0].toUpperCase() + fn.slice(1);
      return this.#config(name, args, where, text, `keras.${group}.${name}`);
    }
    this.#callbacks(args, this.#snippet(n.callee as _Node));
    if (path === "tf.loadLayersModel" || path === "tf.models.modelFromJSON") {
      return unknown(`${where}: \`${text}\` loads a model from outside the snippet`);
    }
    return unknown(`${where}: \`${text}\` is not translated`);
  }

  /**
   * A tfjs factory given one config object (`tf.layers.dense({units: 10})`) as a Keras call
   * (`Dense(units=10)`): keys and identifiers in snake_case.
   */
  #config(name: string, args: _V[], where: string, text: string, path: string): _V {
    const config = args[0];
    if (args.length > 1 || (config && config.k !== "object")) {
      return unknown(
        `${where}: \`${text}\`: its argument is not a config object the snippet states`,
      );
    }
    if (config?.spread) return unknown(config.spread);
    const kw: Record<string, Val> = {};
    for (const [k, v] of config?.entries ?? []) kw[_snake(k)] = _keras(v, k !== "name");
    return { k: "obj", call: { name, path, args: [], kw, where, text } };
  }

  #layer(fn: string, args: _V[], where: string, text: string): _V {
    // An InputLayer is no layer of a builder: it gives a Sequential's input shape.
    const name = fn === "inputLayer" ? "InputLayer" : kerasLayerName(_LAYER_ALIASES[fn] ?? fn);
    if (!name) {
      return unknown(`${where}: ${text}: tf.layers.${fn} is not a layer claimcheck translates`);
    }
    const made = this.#config(name, args, where, text, `keras.layers.${name}`);
    if (made.k !== "obj") return made;
    // A value the walk could not follow inside a list (an imported constant in inputShape)
    // names its reason in the TODO.
    for (const [k, v] of Object.entries(made.call.kw)) {
      const hidden = v.k === "seq" ? v.items.find((i) => i.k === "unknown") : undefined;
      if (hidden) made.call.kw[k] = hidden;
    }
    return { k: "layer", call: made.call, id: ++this.#id };
  }

  #sequential(config: _V | undefined, where: string, text: string): _V {
    const model: ModelState = { kind: "sequential", layers: [], where, text, fits: [] };
    this.#plan.model = model;
    this.#found++;
    if (config === undefined || config.k === "none") return { k: "model", model };
    const layers = config.k === "object" && !config.spread
      ? config.entries.get("layers")
      : undefined;
    const others = config.k === "object" ? [...config.entries.keys()] : [];
    if (
      config.k !== "object" || config.spread || others.some((k) => k !== "layers" && k !== "name")
    ) {
      model.opaque = `${where}: tf.sequential()'s config is not one the walk reads`;
    } else if (layers?.k === "list") {
      model.layers.push(...layers.items.map((l) => _keras(l, false)));
    } else if (layers !== undefined) {
      model.opaque = `${where}: tf.sequential()'s layers are not a list in the snippet`;
    }
    return { k: "model", model };
  }

  #functional(config: _V | undefined, where: string, text: string): _V {
    const entries = config?.k === "object" && !config.spread ? config.entries : new Map();
    const part = (key: string) => entries.has(key) ? _keras(entries.get(key)!, false) : undefined;
    const model = functionalModel(part("inputs"), part("outputs"), { where, text });
    this.#plan.model = model;
    this.#found++;
    return { k: "model", model };
  }

  #callMethod(
    of: _V,
    name: string,
    args: _V[],
    n: _Of<"CallExpression"> | _Of<"OptionalCallExpression">,
    scope: _Scope,
  ): _V {
    const where = this.#where(n), text = this.#snippet(n);
    if (of.k === "layer" && name === "apply") {
      const x = args[0] && _keras(args[0], false);
      return appliedLayer(of, x, { where, text }, () => ++this.#id);
    }
    const model = of.k === "model"
      ? of.model
      : of.k === "unknown" && ["compile", "fit", "fitDataset"].includes(name)
      ? this.#unseenModel(of, n, scope)
      : undefined;
    if (!model) {
      this.#callbacks(args, this.#snippet(n.callee));
      return of.k === "unknown" ? of : unknown(`${where}: \`${text}\` is not translated`);
    }
    const call = (kw: Record<string, Val>, positional: Val[] = []): Call => ({
      name,
      path: name,
      args: positional,
      kw,
      where,
      text,
    });
    switch (name) {
      case "add":
        if (model.kind !== "sequential") model.opaque ??= `${where}: add() on a functional model`;
        else model.layers.push(args[0] ? _keras(args[0], false) : unknown(where));
        return { k: "none" };
      case "compile": {
        if (model.compile) model.opaque ??= `${where}: compiled a second time`;
        model.compile = call(this.#compileArgs(args[0], where, text));
        this.#found++;
        return { k: "none" };
      }
      case "fit":
      case "fitDataset": {
        const dataset = name === "fitDataset";
        const options = args[dataset ? 1 : 2];
        const positional = dataset
          ? [
            unknown(`${where}: fitDataset() trains on a tf.data dataset of the snippet's own`),
            unknown(`${where}: the dataset's targets`),
          ]
          : [_keras(args[0] ?? { k: "none" }, false), _keras(args[1] ?? { k: "none" }, false)];
        const kw = this.#fitArgs(options, where, text);
        if (dataset) {
          kw.batch_size = unknown(`${where}: fitDataset()'s batches are the dataset's`);
        }
        // tfjs has no LearningRateScheduler: no schedule functions to run.
        const fit: FitCall = {
          call: call(kw, positional),
          model,
          compile: model.compile,
          schedulers: new Map(),
        };
        model.fits.push(fit);
        this.#plan.fits.push(fit);
        this.#found++;
        return unknown(`${where}: the training history`);
      }
      case "pop":
        if (model.kind === "sequential") model.layers.pop();
        return { k: "none" };
      default:
        return unknown(`${where}: the result of ${name}()`);
    }
  }

  /** A model the snippet compiles or fits where the walk lost track of how it was made. */
  #unseenModel(
    of: Extract<_V, { k: "unknown" }>,
    n: _Of<"CallExpression"> | _Of<"OptionalCallExpression">,
    scope: _Scope,
  ): ModelState {
    const seen = this.#unseen.get(of);
    if (seen) return seen;
    const receiver = n.callee.type === "MemberExpression" ? n.callee.object : undefined;
    const model: ModelState = {
      kind: "sequential",
      layers: [],
      where: this.#where(n),
      text: receiver ? this.#snippet(receiver) : "the model",
      fits: [],
      opaque: of.why,
      ...(receiver?.type === "Identifier" && scope.get(receiver.name) === of
        ? { name: receiver.name }
        : {}),
    };
    this.#unseen.set(of, model);
    this.#plan.model ??= model;
    return model;
  }

  /** compile()'s config as Keras' keywords: the optimizer tfjs makes, losses and metrics. */
  #compileArgs(config: _V | undefined, where: string, text: string): Record<string, Val> {
    if (config?.k !== "object" || config.spread) {
      const why = config?.k === "object" ? config.spread! : `${where}: \`${text}\``;
      return { optimizer: unknown(why), loss: unknown(why), metrics: unknown(why) };
    }
    const kw: Record<string, Val> = {};
    for (const [k, v] of config.entries) kw[_snake(k)] = _keras(v, k !== "optimizer");
    const optimizer = config.entries.get("optimizer");
    if (optimizer?.k === "str") {
      const named = _NAMED_OPTIMIZERS[optimizer.v];
      kw.optimizer = named
        ? _optimizer(
          named[0],
          named[1].map((v) => ({ k: "num", v })),
          where,
          `${optimizer.v} (tfjs' defaults)`,
        )
        : unknown(`${where}: '${optimizer.v}' (not an optimizer name tfjs-layers knows)`);
    }
    return kw;
  }

  /** fit()'s options as Keras' keywords; callback objects become calls named by their keys. */
  #fitArgs(options: _V | undefined, where: string, text: string): Record<string, Val> {
    if (options === undefined || options.k === "none") return {};
    if (options.k !== "object" || options.spread) {
      const why = options.k === "object" ? options.spread! : `${where}: \`${text}\`'s options`;
      return { epochs: unknown(why), batch_size: unknown(why) };
    }
    const kw: Record<string, Val> = {};
    for (const [k, v] of options.entries) {
      if (_PASSIVE_FIT_OPTIONS.includes(k)) continue;
      kw[_snake(k)] = k === "callbacks" ? this.#callbackValue(v, where) : _keras(v, false);
    }
    return kw;
  }

  #callbackValue(v: _V, where: string): Val {
    if (v.k === "list") {
      return {
        k: "seq",
        items: v.items.map((i) => this.#callbackValue(i, where)),
      };
    }
    if (v.k !== "object") return _keras(v, false);
    const text = `{${[...v.entries.keys()].join(", ")}}`;
    return {
      k: "obj",
      call: { name: "CustomCallback", path: "tf.CustomCallback", args: [], kw: {}, where, text },
    };
  }
}

/**
 * A tf.train optimizer as Keras' class with its arguments: every one tfjs uses, given or
 * tfjs' default; one claimcheck cannot run as tfjs does is an unknown value with the reason.
 */
function _optimizer(
  fn: string,
  args: _V[],
  where: string,
  text: string,
): Extract<Val, { k: "obj" | "unknown" }> {
  const rule = _OPTIMIZERS[fn];
  if (!rule) return unknown(`${where}: \`${text}\``);
  if (args.length > rule.params.length) {
    return unknown(`${where}: \`${text}\` (more arguments than tf.train.${fn} takes)`);
  }
  const kw: Record<string, Val> = {};
  rule.params.forEach(([tfjs, keras, dflt], i) => {
    const v = args[i] ?? { k: "none" };
    if (v.k === "num" || v.k === "bool") kw[keras] = v;
    else if (v.k === "none" && dflt !== undefined) {
      kw[keras] = typeof dflt === "number" ? { k: "num", v: dflt } : { k: "bool", v: dflt };
    } else {
      kw[keras] = v.k === "unknown"
        ? v
        : unknown(v.k === "none" ? `tfjs requires its ${tfjs}` : `${tfjs} is not a value stated`);
    }
  });
  if (rule.fixed) kw[rule.fixed[0]] = { k: "num", v: rule.fixed[1] };
  const decay = kw.decay;
  if (fn === "adamax" && decay?.k === "num" && decay.v !== 0) {
    kw.decay = unknown(
      "tfjs' Adamax divides its learning rate by 1 + decay·t; without a Keras version " +
        "claimcheck runs Keras 3's, which ignores decay",
    );
  } else if (fn === "adamax") delete kw.decay;
  const centered = kw.centered;
  if (centered?.k === "bool" && centered.v) {
    kw.centered = unknown("tfjs' centered RMSprop takes √(a − ḡ² − ε), Keras' √(a − ḡ² + ε)");
  }
  return {
    k: "obj",
    call: { name: rule.keras, path: `keras.optimizers.${rule.keras}`, args: [], kw, where, text },
  };
}

/**
 * A walk value as a plan value: lists as sequences and, where `identifiers`, strings in Keras'
 * snake_case ('glorotUniform' → glorot_uniform); objects and functions of the snippet's own are
 * unknown values.
 */
function _keras(v: _V, identifiers: boolean): Val {
  switch (v.k) {
    case "list":
      return { k: "seq", items: v.items.map((i) => _keras(i, identifiers)) };
    case "str":
      return identifiers ? { k: "str", v: _snakeIdentifier(v.v) } : v;
    case "ref": {
      // tf.metrics.categoricalAccuracy is Keras' keras.metrics.categorical_accuracy.
      const m = /^tf\.(metrics|losses)\.(\w+)$/.exec(v.path);
      return identifiers && m ? { k: "ref", path: `keras.${m[1]}.${_snake(m[2])}` } : v;
    }
    case "object":
      return unknown(`line ${v.node.loc?.start.line ?? "?"}: an object of the snippet's own`);
    case "function":
      return unknown(
        `line ${v.node.loc?.start.line ?? "?"}: ${v.name ?? "a function"} of the snippet's own`,
      );
    case "method":
      return unknown(`\`.${v.name}\` of a value the walk does not follow`);
    default:
      return v;
  }
}

/** A camelCase name in snake_case: `kernelSize` → `kernel_size`. */
function _snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** A tfjs identifier as Keras spells it: camelCase to snake_case, upper-case ones (`MSE`) lower. */
function _snakeIdentifier(s: string): string {
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(s)) return s;
  return s === s.toUpperCase() ? s.toLowerCase() : _snake(s);
}

/** An object member's key as written, or undefined for a computed one. */
function _key(p: { key: unknown; computed: boolean }): string | undefined {
  const key = p.key as _Node & { name?: string; value?: unknown };
  if (p.computed) return key.type === "StringLiteral" ? String(key.value) : undefined;
  if (key.type === "Identifier") return key.name;
  if (key.type === "StringLiteral" || key.type === "NumericLiteral") return String(key.value);
  return undefined;
}

/** `a.b`'s property name, or undefined where it is computed. */
function _memberName(
  n: _Of<"MemberExpression"> | _Of<"OptionalMemberExpression">,
): string | undefined {
  return !n.computed && n.property.type === "Identifier" ? n.property.name : undefined;
}

function _isTsDeclaration(n: { type: string }): boolean {
  return n.type.startsWith("TS");
}

/** A statement's kind in a word, for messages: `for`, `while`, `try`. */
function _statementWord(type: string): string {
  return type.replace(/Statement$/, "").replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}

/** Calls `visit` on every node below `root` (and root), in source order. */
function _walkNodes(root: unknown, visit: (n: _Node) => void): void {
  if (Array.isArray(root)) return root.forEach((r) => _walkNodes(r, visit));
  if (root === null || typeof root !== "object" || typeof (root as _Node).type !== "string") {
    return;
  }
  visit(root as _Node);
  for (const [key, value] of Object.entries(root)) {
    if (key === "loc" || key.endsWith("Comments") || key === "extra") continue;
    if (value && typeof value === "object") _walkNodes(value, visit);
  }
}
