/**
 * Reads a Keras snippet (a `.py` file, or a notebook's code cells) with a real Python parser
 * (@lezer/python) and runs it abstractly: names, imports, constants, the snippet's own functions,
 * the MNIST data and what is done to it, the model (Sequential or functional), `compile` and
 * `fit`. Nothing is executed; what the walk cannot follow becomes an `unknown` value with its
 * reason, reported only where it reaches the protocol or the model.
 * @module
 */
import { parser } from "@lezer/python";
import type { SyntaxNode } from "@lezer/common";
import { children } from "./_children.ts";
import { arithmetic } from "./_arithmetic.ts";
import {
  appliedLayer,
  type Call,
  type DataVal,
  type FitCall,
  functionalModel,
  type ModelState,
  sameData,
  type SnippetPlan,
  unknown,
  type Val,
} from "./plan.ts";
import { PYTHON_OPERATORS, pythonArithmetic, pythonNumber } from "./python_number.ts";
import { type ScheduleFunction, scheduleFunction } from "./schedule_function.ts";

/** A snippet as read from its file: the code, and for a notebook each cell's printed output. */
export interface PythonSource {
  /** The code (a notebook's code cells joined, IPython magics blanked). */
  code: string;
  /**
   * Printed output (a notebook's outputs): its text, the cell (from 1) and the offsets of the
   * cell's code, `at` to `to`.
   */
  outputs: { text: string; cell: number; at: number; to: number }[];
  /** Where an offset of `code` is, for messages: "line 12" or "cell 4, line 2". */
  where(offset: number): string;
  /** The Keras version a notebook prints (a cell ending in `keras.__version__`). */
  keras?: string;
  /** The document's title: a notebook's first heading. */
  title?: string;
}

/** Reads a `.py` file's text as a snippet. */
export function pythonSource(code: string): PythonSource {
  return { code, outputs: [], where: (at) => `line ${_lineOf(code, at)}` };
}

/**
 * Reads a Jupyter notebook's JSON as a snippet: its code cells in order (IPython magics and
 * shell lines, `%…` and `!…`, blanked so the parser sees Python), and their outputs.
 */
export function notebookSource(json: string, file: string): PythonSource {
  let nb: { cells?: { cell_type?: string; source?: string | string[]; outputs?: unknown[] }[] };
  try {
    nb = JSON.parse(json);
  } catch (e) {
    throw new Error(`${file}: not a notebook (JSON): ${(e as Error).message}`);
  }
  if (!Array.isArray(nb.cells)) throw new Error(`${file}: not a notebook (no "cells" list)`);
  const text = (s: unknown) => Array.isArray(s) ? s.join("") : typeof s === "string" ? s : "";
  let code = "";
  const starts: { at: number; cell: number }[] = [];
  const outputs: PythonSource["outputs"] = [];
  let keras: string | undefined, title: string | undefined;
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type === "markdown") {
      title ??= /^#\s+(.+)$/m.exec(text(cell.source))?.[1].trim();
    }
    if (cell.cell_type !== "code") return;
    const lines = text(cell.source).split("\n").map((l) =>
      l.trimStart().startsWith("%") || l.trimStart().startsWith("!") ? "" : l
    );
    starts.push({ at: code.length, cell: i + 1 });
    const at = code.length;
    code += lines.join("\n") + "\n\n";
    const to = code.length;
    for (const o of cell.outputs ?? []) {
      const out = o as { text?: unknown; data?: Record<string, unknown> };
      const printed = text(out.text) || text(out.data?.["text/plain"]);
      // A cell that is one name (`test_acc`) shows its value: keep the name beside it.
      const shownName = /^[A-Za-z_]\w*$/.test(text(cell.source).trim())
        ? text(cell.source).trim()
        : "";
      if (printed) {
        outputs.push({
          text: shownName ? `${shownName}: ${printed}` : printed,
          cell: i + 1,
          at,
          to,
        });
      }
      // A cell that shows `keras.__version__` states the Keras version the notebook ran.
      const shown = /^'(\d+\.\d+(?:\.\d+)?)'$/.exec(text(out.data?.["text/plain"]).trim());
      if (shown && text(cell.source).trim().endsWith("keras.__version__")) keras ??= shown[1];
    }
  });
  return {
    code,
    outputs,
    keras,
    title,
    where(at) {
      const s = starts.findLast((s) => s.at <= at) ?? { at: 0, cell: 1 };
      return `cell ${s.cell}, line ${_lineOf(code.slice(s.at), at - s.at)}`;
    },
  };
}

function _lineOf(text: string, at: number): number {
  let line = 1;
  for (let i = 0; i < at && i < text.length; i++) if (text[i] === "\n") line++;
  return line;
}

/** The datasets a snippet can load, by Keras' module name → claimcheck's manifest name. */
const _DATASETS: Record<string, string> = { mnist: "mnist", fashion_mnist: "fashion-mnist" };

/** Image shape of the datasets above: [count, rows, cols] per split. */
const _SPLIT_COUNT = { train: 60000, test: 10000 };

/** Runs a snippet abstractly and returns what it builds and trains. */
export function readPythonSnippet(src: PythonSource): SnippetPlan {
  return new _Walker(src).run();
}

type _Env = Map<string, Val>;

class _Return {
  constructor(readonly value: Val) {}
}

class _Walker {
  readonly #src: PythonSource;
  readonly #code: string;
  readonly #global: _Env = new Map();
  readonly #plan: SnippetPlan;
  /** The notebook's outputs, less the evaluate() results matched to a print() (see #print). */
  readonly #outputs: PythonSource["outputs"];
  #depth = 0;

  constructor(src: PythonSource) {
    this.#src = src;
    this.#code = src.code;
    this.#outputs = src.outputs.map((o) => ({ ...o }));
    this.#plan = {
      texts: [],
      notes: [],
      fits: [],
      scores: [],
      imports: [],
      keras: src.keras,
      title: src.title,
    };
  }

  run(): SnippetPlan {
    const top = parser.parse(this.#code).topNode;
    this.#syntaxErrors(top);
    this.#texts(top);
    try {
      this.#block(top, this.#global);
    } catch (e) {
      if (!(e instanceof _Return)) throw e;
    }
    // A printed evaluate() result is a claim of the fit() before it only (see PrintedScore),
    // so it is not read again as the text of an output.
    for (const o of this.#outputs) {
      this.#plan.texts.push({ kind: "output", text: o.text, where: this.#src.where(o.at) });
    }
    return this.#plan;
  }

  // ---- source text ----------------------------------------------------------------------

  #text(n: SyntaxNode): string {
    return this.#code.slice(n.from, n.to);
  }

  #where(n: SyntaxNode): string {
    return this.#src.where(n.from);
  }

  /** The call as written, on one line and shortened, for messages and TODO markers. */
  #snippet(n: SyntaxNode): string {
    const t = this.#text(n).replace(/\s+/g, " ").replace(/\( /g, "(").replace(/,? \)/g, ")");
    return t.length > 90 ? `${t.slice(0, 87)}...` : t;
  }

  #syntaxErrors(top: SyntaxNode): void {
    const seen = new Set<string>();
    const c = top.cursor();
    do {
      // @lezer/python reads `0.` (a float with a trailing point) as 0 and an error node; the
      // value is the same, so that one is not worth a note.
      const trailingPoint = c.from === c.to &&
        /\d\.\s*$/.test(this.#code.slice(Math.max(0, c.from - 8), c.from));
      if (c.type.isError && !trailingPoint) {
        const where = this.#src.where(c.from);
        if (!seen.has(where)) {
          seen.add(where);
          this.#plan.notes.push(
            `${where}: the Python parser (@lezer/python) could not read this (a syntax ` +
              "error, or Python 2 such as `print x`); that part is skipped",
          );
        }
      }
    } while (c.next());
  }

  /** Comments, docstrings and the strings passed to print(): where a snippet states numbers. */
  #texts(top: SyntaxNode): void {
    const c = top.cursor();
    do {
      const n = c.node;
      if (n.name === "Comment") {
        this.#plan.texts.push({
          kind: "comment",
          text: this.#text(n).replace(/^#+\s?/, ""),
          where: this.#where(n),
        });
      } else if (n.name === "ExpressionStatement" && children(n).length === 1) {
        const s = children(n)[0];
        if (s.name === "String") {
          this.#plan.texts.push({
            kind: "docstring",
            text: _stringValue(this.#text(s)),
            where: this.#where(s),
          });
        }
      } else if (n.name === "CallExpression" && this.#text(children(n)[0]) === "print") {
        const parts = children(children(n)[1]).filter((a) =>
          a.name === "String" || a.name === "FormatString" || a.name === "ContinuedString"
        );
        const text = parts.map((p) => _stringValue(this.#text(p))).join(" ");
        if (text) this.#plan.texts.push({ kind: "print", text, where: this.#where(n) });
      }
    } while (c.next());
  }

  // ---- statements -----------------------------------------------------------------------

  #block(n: SyntaxNode, env: _Env): void {
    for (const s of children(n)) this.#statement(s, env);
  }

  #statement(s: SyntaxNode, env: _Env): void {
    switch (s.name) {
      case "ImportStatement":
        return this.#import(s, env);
      case "AssignStatement":
        return this.#assign(s, env);
      case "UpdateStatement":
        return this.#update(s, env);
      case "ExpressionStatement":
        for (const e of children(s)) this.#eval(e, env);
        return;
      case "FunctionDefinition": {
        const name = children(s).find((k) => k.name === "VariableName");
        if (name) env.set(this.#text(name), { k: "fn", node: s, env });
        return;
      }
      case "ClassDefinition": {
        const name = children(s).find((k) => k.name === "VariableName");
        if (name) {
          env.set(
            this.#text(name),
            unknown(`${this.#where(s)}: class ${this.#text(name)} is the snippet's own code`),
          );
        }
        return;
      }
      case "IfStatement":
        return this.#if(s, env);
      case "ReturnStatement": {
        const e = children(s).find((k) => k.name !== "return");
        throw new _Return(e ? this.#eval(e, env) : { k: "none" });
      }
      case "ForStatement":
      case "WhileStatement":
      case "WithStatement":
      case "TryStatement":
        return this.#opaque(s, env, s.name.replace("Statement", "").toLowerCase());
      case "DecoratedStatement":
        return this.#opaque(s, env, "decorated definition");
      default:
        return;
    }
  }

  #import(s: SyntaxNode, env: _Env): void {
    const k = children(s);
    const from = k[0].name === "from";
    // `from a.b import c as d, e` / `import a.b as c, d`
    let i = 1, module = "";
    if (from) {
      while (i < k.length && k[i].name !== "import") module += this.#text(k[i++]);
      i++;
    }
    while (i < k.length) {
      const dotted: string[] = [];
      while (i < k.length && k[i].name !== "," && k[i].name !== "as") {
        if (k[i].name === "VariableName") dotted.push(this.#text(k[i]));
        i++;
      }
      let alias: string | undefined;
      if (k[i]?.name === "as") {
        alias = this.#text(k[i + 1]);
        i += 2;
      }
      i++; // ","
      if (!dotted.length) continue;
      const path = from ? `${module}.${dotted.join(".")}` : dotted.join(".");
      this.#plan.imports.push(path);
      if (alias) env.set(alias, { k: "ref", path: _normal(path) });
      else if (from) env.set(dotted[0], { k: "ref", path: _normal(path) });
      else env.set(dotted[0], { k: "ref", path: _normal(dotted[0]) });
    }
  }

  #assign(s: SyntaxNode, env: _Env): void {
    const k = children(s);
    // a = b = value; a, b = value; (a, b), c = value
    const ops = k.map((n, i) => n.name === "AssignOp" ? i : -1).filter((i) => i >= 0);
    if (!ops.length) return;
    const valueNodes = k.slice(ops.at(-1)! + 1).filter((n) => n.name !== ",");
    const value = valueNodes.length === 1
      ? this.#eval(valueNodes[0], env)
      : { k: "seq" as const, items: valueNodes.map((n) => this.#eval(n, env)) };
    let start = 0;
    for (const op of ops) {
      const targets = k.slice(start, op).filter((n) => n.name !== "," && n.name !== "TypeDef");
      this.#bind(targets.length === 1 ? targets[0] : targets, value, env, s);
      start = op + 1;
    }
  }

  #bind(target: SyntaxNode | SyntaxNode[], value: Val, env: _Env, at: SyntaxNode): void {
    if (
      Array.isArray(target) || target.name === "TupleExpression" ||
      target.name === "ArrayExpression" || target.name === "ParenthesizedExpression"
    ) {
      const parts = Array.isArray(target)
        ? target
        : children(target).filter((n) => !["(", ")", "[", "]", ","].includes(n.name));
      if (!Array.isArray(target) && target.name === "ParenthesizedExpression") {
        return this.#bind(parts[0], value, env, at);
      }
      parts.forEach((p, i) => {
        const v = value.k === "seq"
          ? value.items[i] ?? unknown(`${this.#where(at)}: fewer values than names`)
          : value.k === "score" && value.index === undefined
          ? { ...value, index: i } // loss, acc = model.evaluate(…)
          : unknown(`${this.#where(at)}: \`${this.#snippet(at)}\` is not translated`);
        this.#bind(p, v, env, at);
      });
      return;
    }
    if (target.name !== "VariableName") return;
    env.set(this.#text(target), value);
    if (value.k === "model") value.model.name ??= this.#text(target);
    // Attribute and item assignments (obj.x = …, a[i] = …) change nothing we track.
  }

  #update(s: SyntaxNode, env: _Env): void {
    const [target, op, value] = children(s);
    if (target?.name !== "VariableName" || !op) return;
    const name = this.#text(target);
    const before = env.get(name) ?? this.#lookup(name, env, target);
    const after = this.#binary(before, this.#text(op).slice(0, -1), this.#eval(value, env), s);
    env.set(name, after);
  }

  #if(s: SyntaxNode, env: _Env): void {
    const k = children(s);
    // if cond Body (elif cond Body)* (else Body)?
    for (let i = 0; i < k.length; i++) {
      if (k[i].name === "if" || k[i].name === "elif") {
        const cond = this.#eval(k[i + 1], env);
        const body = k[i + 2];
        if (cond.k === "bool") {
          if (cond.v) return this.#block(body, env);
          i += 2;
          continue;
        }
        return this.#opaque(s, env, "condition the snippet decides at run time");
      }
      if (k[i].name === "else") return this.#block(k[i + 1], env);
    }
  }

  /**
   * A statement whose effect depends on run time (a loop, a condition, a with/try block): every
   * name it assigns and every model it changes becomes unknown, with the reason.
   */
  #opaque(s: SyntaxNode, env: _Env, what: string): void {
    const why = `${this.#where(s)}: changed inside a ${what} (\`${
      this.#snippet(s).split(":")[0]
    }\`), which is not translated`;
    const c = s.cursor();
    do {
      const n = c.node;
      if (n.name === "AssignStatement" || n.name === "UpdateStatement") {
        for (const t of children(n)) {
          if (t.name === "AssignOp" || t.name === "UpdateOp") break;
          if (t.name === "VariableName") env.set(this.#text(t), unknown(why));
        }
      } else if (n.name === "ForStatement") {
        const v = children(n).find((k) => k.name === "VariableName");
        if (v) env.set(this.#text(v), unknown(why));
      } else if (n.name === "CallExpression") {
        const callee = children(n)[0];
        if (callee.name === "MemberExpression") {
          const obj = children(callee)[0];
          const method = this.#text(children(callee).at(-1)!);
          const target = obj.name === "VariableName" ? env.get(this.#text(obj)) : undefined;
          if (target?.k === "model" && ["add", "compile", "fit", "pop"].includes(method)) {
            target.model.opaque ??= why;
          }
        }
      }
      // A cursor goes on past its node: stop at the statement's end.
    } while (c.next() && c.from < s.to);
  }

  // ---- expressions ----------------------------------------------------------------------

  #lookup(name: string, env: _Env, n: SyntaxNode): Val {
    const v = env.get(name) ?? this.#global.get(name);
    if (v) return v;
    if (name === "True" || name === "False") return { k: "bool", v: name === "True" };
    if (name === "None") return { k: "none" };
    if (["print", "len", "range", "int", "float", "str", "list", "tuple"].includes(name)) {
      return { k: "ref", path: `builtins.${name}` };
    }
    return unknown(`${this.#where(n)}: \`${name}\` is not defined in the snippet`);
  }

  #eval(n: SyntaxNode, env: _Env): Val {
    switch (n.name) {
      case "Number":
        return _number(this.#text(n));
      case "String":
      case "ContinuedString":
        return { k: "str", v: _stringValue(this.#text(n)) };
      case "FormatString":
        return unknown(`${this.#where(n)}: an f-string`);
      case "Boolean":
        return { k: "bool", v: this.#text(n) === "True" };
      case "None":
        return { k: "none" };
      case "VariableName":
        return this.#lookup(this.#text(n), env, n);
      case "ParenthesizedExpression": {
        const inner = children(n).filter((k) => k.name !== "(" && k.name !== ")");
        return inner.length === 1 ? this.#eval(inner[0], env) : unknown(this.#where(n));
      }
      case "TupleExpression":
      case "ArrayExpression":
        return {
          k: "seq",
          items: children(n).filter((k) => !["(", ")", "[", "]", ","].includes(k.name)).map((k) =>
            this.#eval(k, env)
          ),
        };
      case "UnaryExpression": {
        const [op, e] = children(n);
        const v = this.#eval(e, env);
        const o = this.#text(op);
        if (o === "not" && v.k === "bool") return { k: "bool", v: !v.v };
        if (v.k === "num" && o === "-") return { ...v, v: -v.v };
        if (v.k === "num" && o === "+") return v;
        return unknown(`${this.#where(n)}: \`${this.#snippet(n)}\``);
      }
      case "BinaryExpression": {
        const [a, op, b] = children(n);
        return this.#binary(this.#eval(a, env), this.#text(op), this.#eval(b, env), n);
      }
      case "ConditionalExpression": {
        const k = children(n);
        const cond = this.#eval(k[2], env);
        if (cond.k === "bool") return this.#eval(cond.v ? k[0] : k[4], env);
        return unknown(`${this.#where(n)}: \`${this.#snippet(n)}\` is decided at run time`);
      }
      case "MemberExpression":
        return this.#member(n, env);
      case "CallExpression":
        return this.#call(n, env);
      case "LambdaExpression":
        return { k: "fn", node: n, env };
      default:
        return unknown(`${this.#where(n)}: \`${this.#snippet(n)}\` is not translated`);
    }
  }

  #binary(a: Val, op: string, b: Val, n: SyntaxNode): Val {
    if (a.k === "num" && b.k === "num" && a.py && b.py && PYTHON_OPERATORS.includes(op)) {
      // Both Python types known: Python's arithmetic exactly (an int stays an int).
      const r = pythonArithmetic(op, { v: a.v, int: a.py === "int" }, {
        v: b.v,
        int: b.py === "int",
      });
      if (typeof r === "string") return unknown(`${this.#where(n)}: \`${this.#snippet(n)}\` ${r}`);
      return { k: "num", v: r.v, py: r.int ? "int" : "float" };
    }
    const v = a.k === "num" && b.k === "num" ? arithmetic(a.v, op, b.v) : undefined;
    if (v !== undefined) return { k: "num", v };
    if (op === "==" || op === "!=") {
      const same = (a.k === "num" || a.k === "str" || a.k === "bool") && a.k === b.k
        ? a.v === (b as typeof a).v
        : undefined;
      if (same !== undefined) return { k: "bool", v: op === "==" ? same : !same };
    }
    if (a.k === "str" && b.k === "str" && op === "+") return { k: "str", v: a.v + b.v };
    if (a.k === "data" && b.k === "stats" && !a.data.why) {
      const standardized = _standardized(a.data, op, b, this.#where(n));
      if (standardized) return { k: "data", data: standardized };
    }
    const divides = a.k === "data" && a.data.role === "images" && !a.data.standardized;
    if (divides && b.k === "num" && !a.data.why) {
      if (op === "/") return { k: "data", data: { ...a.data, divisor: a.data.divisor * b.v } };
      if (op === "*") return { k: "data", data: { ...a.data, divisor: a.data.divisor / b.v } };
    }
    // Data changed by other data the walk could not follow: the first reason is the other's.
    if (a.k === "data" && !a.data.why && b.k === "data" && b.data.why) {
      return _tainted(a.data, b.data.why);
    }
    if (a.k === "data") {
      return _tainted(
        a.data,
        `${this.#where(n)}: \`${this.#snippet(n)}\` changes the ${a.data.split} ${a.data.role}`,
      );
    }
    if (a.k === "unknown") return a;
    if (b.k === "unknown") return b;
    return unknown(`${this.#where(n)}: \`${this.#snippet(n)}\` is not translated`);
  }

  #member(n: SyntaxNode, env: _Env): Val {
    const k = children(n);
    // `1.` (a float with a trailing point) reaches us as the member expression `1` `.`.
    if (k.length === 2 && k[0].name === "Number" && k[1].name === ".") {
      const v = this.#eval(k[0], env);
      return v.k === "num" ? { ...v, py: "float" } : v;
    }
    const obj = this.#eval(k[0], env);
    if (k[1]?.name === "[") {
      const inner = k.slice(2, -1);
      if (obj.k === "seq") {
        const nums = inner.filter((x) => x.name !== ":").map((x) => this.#eval(x, env));
        if (nums.every((x) => x.k === "num")) {
          const idx = nums.map((x) => (x as { v: number }).v);
          const at = (i: number) => i < 0 ? obj.items.length + i : i;
          if (inner.length === 1) return obj.items[at(idx[0])] ?? unknown(this.#where(n));
          if (inner.length === 2 && inner[1].name === ":") {
            return { k: "seq", items: obj.items.slice(at(idx[0])) };
          }
          if (inner.length === 2 && inner[0].name === ":") {
            return { k: "seq", items: obj.items.slice(0, at(idx[0])) };
          }
        }
      }
      if (obj.k === "score" && obj.index === undefined && inner.length === 1) {
        const i = this.#eval(inner[0], env);
        if (i.k === "num" && i.py === "int" && i.v >= 0) return { ...obj, index: i.v };
      }
      if (obj.k === "data") {
        const part = this.#holdout(obj.data, inner, env, n);
        if (part) return { k: "data", data: part };
        const what = `${obj.data.split} ${obj.data.role}`;
        return _tainted(
          obj.data,
          `${this.#where(n)}: \`${this.#snippet(n)}\` takes part of the ${what}`,
        );
      }
      return obj.k === "unknown" ? obj : unknown(`${this.#where(n)}: \`${this.#snippet(n)}\``);
    }
    const prop = this.#text(k.at(-1)!);
    if (obj.k === "ref") return { k: "ref", path: _normal(`${obj.path}.${prop}`) };
    if (obj.k === "data" && prop === "shape") {
      return obj.data.shape
        ? { k: "seq", items: obj.data.shape.map((v) => ({ k: "num" as const, v })) }
        : unknown(`${this.#where(n)}: the shape of the ${obj.data.split} ${obj.data.role}`);
    }
    if (obj.k === "unknown") return obj;
    return { k: "method", of: obj, name: prop };
  }

  /**
   * `A[:N]` or `A[N:]` of the training split (N a whole number inside it, the data not changed
   * otherwise than divided or standardized): its first N rows or the rest, as a notebook holds
   * out validation data; else undefined.
   */
  #holdout(d: DataVal, inner: SyntaxNode[], env: _Env, n: SyntaxNode): DataVal | undefined {
    const [a, b] = inner;
    if (inner.length !== 2 || (a.name === ":") === (b.name === ":")) return undefined;
    if (d.split !== "train" || d.why || d.cut) return undefined;
    const at = this.#eval(a.name === ":" ? b : a, env);
    const count = _SPLIT_COUNT.train;
    if (at.k !== "num" || at.py === "float" || !Number.isInteger(at.v)) return undefined;
    if (at.v <= 0 || at.v >= count) return undefined;
    const part = a.name === ":" ? "first" : "rest";
    const rows = part === "first" ? at.v : count - at.v;
    return {
      ...d,
      cut: { at: at.v, part, where: this.#where(n) },
      shape: d.shape && [rows, ...d.shape.slice(1)],
    };
  }

  #args(list: SyntaxNode, env: _Env): { args: Val[]; kw: Record<string, Val>; spread?: string } {
    const args: Val[] = [], kw: Record<string, Val> = {};
    const k = children(list).filter((x) => x.name !== "(" && x.name !== ")");
    let spread: string | undefined;
    for (let i = 0; i < k.length; i++) {
      if (k[i].name === ",") continue;
      if (k[i].name === "*" || k[i].name === "**") {
        spread = `${this.#where(k[i])}: arguments unpacked with ${k[i].name}`;
        i++;
        continue;
      }
      if (k[i + 1]?.name === "AssignOp") {
        kw[this.#text(k[i])] = this.#eval(k[i + 2], env);
        i += 2;
      } else args.push(this.#eval(k[i], env));
    }
    return { args, kw, spread };
  }

  #call(n: SyntaxNode, env: _Env): Val {
    const [calleeNode, argList] = children(n);
    const callee = this.#eval(calleeNode, env);
    if (!argList || argList.name !== "ArgList") return unknown(this.#where(n));
    const { args, kw, spread } = this.#args(argList, env);
    const call: Call = {
      name: "",
      path: "",
      args,
      kw,
      where: this.#where(n),
      text: this.#snippet(n),
    };
    if (spread) return unknown(spread);
    if (callee.k === "ref" && callee.path === "builtins.print") this.#print(call, n.from);
    if (callee.k === "fn") return this.#callFunction(callee, call);
    if (callee.k === "ref") return this.#callRef(callee.path, call);
    if (callee.k === "method") return this.#callMethod(callee.of, callee.name, call);
    if (callee.k === "layer") return this.#applyLayer(callee, call);
    if (callee.k === "unknown") return callee;
    return unknown(`${call.where}: \`${call.text}\` is not translated`);
  }

  #callFunction(f: Extract<Val, { k: "fn" }>, call: Call): Val {
    if (this.#depth > 20) return unknown(`${call.where}: recursion`);
    const scope: _Env = new Map(f.env === this.#global ? [] : f.env);
    const k = children(f.node);
    const paramList = k.find((x) => x.name === "ParamList");
    const params = paramList
      ? children(paramList).filter((x) => !["(", ")", ","].includes(x.name))
      : [];
    let pos = 0;
    for (let i = 0; i < params.length; i++) {
      const p = params[i];
      if (p.name === "*" || p.name === "**") return unknown(`${call.where}: *args/**kwargs`);
      if (p.name !== "VariableName") continue;
      const name = this.#text(p);
      const dflt = params[i + 1]?.name === "AssignOp" ? params[i + 2] : undefined;
      if (dflt) i += 2;
      const v = name in call.kw
        ? call.kw[name]
        : pos < call.args.length
        ? call.args[pos]
        : dflt
        ? this.#eval(dflt, f.env)
        : unknown(`${call.where}: no value for ${name}`);
      pos++;
      scope.set(name, v);
    }
    this.#depth++;
    try {
      if (f.node.name === "LambdaExpression") return this.#eval(k.at(-1)!, scope);
      this.#block(k.find((x) => x.name === "Body")!, scope);
      return { k: "none" };
    } catch (e) {
      if (e instanceof _Return) return e.value;
      throw e;
    } finally {
      this.#depth--;
    }
  }

  #callRef(path: string, call: Call): Val {
    const last = path.split(".").at(-1)!;
    call.path = path;
    call.name = last;
    const data = call.args.find((a) => a.k === "data") as Extract<Val, { k: "data" }> | undefined;
    const ds = /^keras\.datasets\.(\w+)\.load_data$/.exec(path);
    if (ds) {
      const dataset = _DATASETS[ds[1]];
      if (!dataset) return unknown(`${call.where}: the ${ds[1]} dataset is not one claimcheck has`);
      const split = (s: "train" | "test"): Val => ({
        k: "seq",
        items: [
          { k: "data", data: _data(dataset, s, "images") },
          { k: "data", data: _data(dataset, s, "labels") },
        ],
      });
      return { k: "seq", items: [split("train"), split("test")] };
    }
    if (last === "to_categorical" && data) {
      return { k: "data", data: { ...data.data, oneHot: true, shape: null } };
    }
    if (path === "keras.backend.image_data_format") {
      this.#plan.notes.push(
        `${call.where}: K.image_data_format() read as 'channels_last', Keras' default (and tfjs')`,
      );
      return { k: "str", v: "channels_last" };
    }
    if ((path === "numpy.expand_dims" || path === "tensorflow.expand_dims") && data) {
      const axis = call.args[1] ?? call.kw.axis;
      return { k: "data", data: _reshaped(data.data, axis, "expand") };
    }
    if ((path === "numpy.mean" || path === "numpy.std") && call.args[0]?.k === "data") {
      return this.#stats(call.args[0].data, last, call.args.slice(1), call);
    }
    if (path === "numpy.reshape" && data) {
      return { k: "data", data: _reshaped(data.data, call.args[1] ?? call.kw.newshape, "to") };
    }
    if (path === "builtins.len" && call.args[0]?.k === "seq") {
      return { k: "num", v: call.args[0].items.length, py: "int" };
    }
    if (path === "builtins.int" || path === "builtins.float") {
      const v = call.args[0];
      if (v?.k === "num") {
        return path === "builtins.int"
          ? { k: "num", v: Math.trunc(v.v), py: "int" }
          : { k: "num", v: v.v, py: "float" };
      }
    }
    if (path.startsWith("keras.")) {
      if (last === "Sequential") return this.#sequential(call);
      if (last === "Model" || last === "Functional") return this.#functional(call);
      if (last === "Input") {
        return { k: "tensor", node: { kind: "input", call, id: this.#nextId() } };
      }
      if (/^[A-Z]/.test(last) && path.includes(".layers")) {
        return { k: "layer", call, id: this.#nextId() };
      }
      return { k: "obj", call };
    }
    if (data) {
      return _tainted(
        data.data,
        `${call.where}: \`${call.text}\` changes the ${data.data.split} ${data.data.role}`,
      );
    }
    return unknown(`${call.where}: \`${call.text}\` is not translated`);
  }

  /**
   * A print() of evaluate()'s result (`print(score)`, `print('Test accuracy:', score[1])`):
   * where the output of the print's cell shows the line it printed, the figures in it are
   * recorded (PrintedScore) and the line is taken out of the outputs read as text.
   */
  #print(call: Call, at: number): void {
    const scores = call.args.filter((a) => a.k === "score");
    const sep = call.kw.sep ?? { k: "str", v: " " };
    const end = call.kw.end;
    if (
      !scores.length || scores.some((s) => s.evaluate !== scores[0].evaluate) ||
      !call.args.every((a) => a.k === "str" || a.k === "score") || sep.k !== "str" ||
      (end && end.k !== "str") || Object.keys(call.kw).some((k) => !["sep", "end"].includes(k))
    ) return;
    const pattern = call.args.map((a) =>
      a.k === "str"
        ? _regexLiteral(a.v)
        : a.k === "score" && a.index === undefined
        ? `(${_PRINTED_LIST}|${_PRINTED_NUMBER})`
        : `(${_PRINTED_NUMBER})`
    ).join(_regexLiteral(sep.v));
    // What print() writes starts a line and ends where its `end` (a newline) does.
    const after = end?.k === "str" ? _regexLiteral(end.v) : String.raw`\r?\n|$`;
    const re = new RegExp(`(?<=^|[\\n\\r])${pattern}(?=${after})`);
    for (const o of this.#outputs.filter((o) => o.at <= at && at < o.to)) {
      const m = re.exec(o.text);
      if (!m) continue;
      const figures = new Map<number, string>();
      let group = 1;
      for (const a of call.args) {
        if (a.k !== "score") continue;
        const numbers = _printedNumbers(m[group++]);
        if (a.index !== undefined) figures.set(a.index, numbers[0]);
        else numbers.forEach((f, i) => figures.set(i, f));
      }
      const s = scores[0];
      this.#plan.scores.push({
        evaluate: s.evaluate,
        fit: s.fit,
        compile: s.compile,
        print: call,
        text: m[0],
        cell: `cell ${o.cell}`,
        figures,
      });
      o.text = o.text.slice(0, m.index) + o.text.slice(m.index + m[0].length);
      return;
    }
  }

  /**
   * The schedule functions of fit()'s LearningRateScheduler callbacks, read with the names as
   * they are now, when fit() runs them (a module-level function's constants are its module's).
   */
  #schedulers(fit: Call): Map<Call, ScheduleFunction | string> {
    const out = new Map<Call, ScheduleFunction | string>();
    const globals = new Map(this.#global);
    const values = [...fit.args, ...Object.values(fit.kw)];
    for (const v of values.flatMap((v) => v.k === "seq" ? v.items : [v])) {
      if (v.k !== "obj" || v.call.name !== "LearningRateScheduler") continue;
      const f = v.call.args[0] ?? v.call.kw.schedule;
      if (f?.k !== "fn") {
        out.set(
          v.call,
          f?.k === "unknown" ? f.why : "its schedule is not a function of the snippet",
        );
        continue;
      }
      out.set(
        v.call,
        scheduleFunction(f, {
          text: (n) => this.#text(n),
          snippet: (n) => this.#snippet(n),
          where: (n) => this.#where(n),
          name: (name) =>
            (f.env === this.#global ? undefined : f.env.get(name)) ?? globals.get(name),
        }),
      );
    }
    return out;
  }

  #nextId = (() => {
    let id = 0;
    return () => ++id;
  })();

  #sequential(call: Call): Val {
    const list = call.args[0] ?? call.kw.layers;
    const model: ModelState = {
      kind: "sequential",
      layers: [],
      where: call.where,
      text: call.text,
      fits: [],
    };
    this.#plan.model = model;
    if (list?.k === "seq") model.layers.push(...list.items);
    else if (list && list.k !== "none") {
      model.opaque = `${call.where}: Sequential's layers are not a list in the snippet`;
    }
    return { k: "model", model };
  }

  #functional(call: Call): Val {
    const inputs = call.args[0] ?? call.kw.inputs;
    const outputs = call.args[1] ?? call.kw.outputs;
    const model = functionalModel(inputs, outputs, call);
    this.#plan.model = model;
    return { k: "model", model };
  }

  #applyLayer(layer: Extract<Val, { k: "layer" }>, call: Call): Val {
    return appliedLayer(layer, call.args[0] ?? call.kw.inputs, call, this.#nextId);
  }

  /**
   * numpy's mean or std of images (`x.mean(axis=0)`, `np.std(x)`; `rest`: the arguments after
   * the array): over each pixel (axis 0) or all pixels (no axis), the std a population's (ddof
   * 0); taken otherwise, the images marked changed there.
   */
  #stats(d: DataVal, stat: string, rest: Val[], call: Call): Val {
    const axis = rest[0] ?? call.kw.axis ?? { k: "none" };
    const over = axis.k === "none"
      ? "dataset"
      : axis.k === "num" && axis.v === 0
      ? "pixel"
      : undefined;
    const plain = rest.length <= 1 &&
      Object.entries(call.kw).every(([k, v]) =>
        k === "axis" || (k === "keepdims" && v.k === "bool") ||
        (k === "ddof" && v.k === "num" && v.v === 0)
      );
    if (over && plain && (stat === "mean" || stat === "std") && d.role === "images") {
      if (!d.why && !d.standardized) return { k: "stats", stat, over, of: d };
    }
    return _tainted(
      d,
      `${call.where}: \`${call.text}\` is not translated (claimcheck standardizes with the ` +
        "mean and population std of the images over all pixels, or axis 0: each pixel's own)",
    );
  }

  #callMethod(of: Val, name: string, call: Call): Val {
    if (of.k === "data") {
      const d = of.data;
      if (name === "astype" || name === "copy") return of;
      if (name === "mean" || name === "std") return this.#stats(d, name, call.args, call);
      if (name === "reshape") {
        const shape = call.args.length === 1
          ? call.args[0]
          : { k: "seq" as const, items: call.args };
        return { k: "data", data: _reshaped(d, shape, "to") };
      }
      return _tainted(d, `${call.where}: \`${call.text}\` changes the ${d.split} ${d.role}`);
    }
    if (of.k === "model") {
      const m = of.model;
      if (name === "add") {
        if (m.kind !== "sequential") {
          m.opaque ??= `${call.where}: add() on a functional model`;
        } else m.layers.push(call.args[0] ?? unknown(call.where));
        return { k: "none" };
      }
      if (name === "compile") {
        if (m.compile) m.opaque ??= `${call.where}: compiled a second time`;
        m.compile = call;
        return { k: "none" };
      }
      if (name === "fit") {
        const fit: FitCall = {
          call,
          model: m,
          compile: m.compile,
          schedulers: this.#schedulers(call),
        };
        m.fits.push(fit);
        this.#plan.fits.push(fit);
        return unknown(`${call.where}: the training history`);
      }
      if (name === "evaluate") {
        return { k: "score", evaluate: call, fit: m.fits.at(-1), compile: m.compile };
      }
      if (["summary", "predict", "save", "save_weights"].includes(name)) {
        return unknown(`${call.where}: the result of ${name}()`);
      }
      if (name === "pop" && m.kind === "sequential") {
        m.layers.pop();
        return { k: "none" };
      }
      return unknown(`${call.where}: \`${call.text}\` is not translated`);
    }
    if (of.k === "str" && name === "format") return unknown(`${call.where}: a formatted string`);
    return unknown(`${call.where}: \`${call.text}\` is not translated`);
  }
}

/** A path with TensorFlow's Keras spelled as Keras: `tensorflow.keras.layers` → `keras.layers`. */
function _normal(path: string): string {
  for (const prefix of ["tensorflow.python.keras", "tensorflow.keras", "tf_keras", "keras_core"]) {
    if (path === prefix || path.startsWith(`${prefix}.`)) {
      return `keras${path.slice(prefix.length)}`;
    }
  }
  return path;
}

function _number(text: string): Val {
  const n = pythonNumber(text);
  if (n) return { k: "num", v: n.v, py: n.int ? "int" : "float" };
  // An int past 2^53: its nearest float, of no type the walk vouches for.
  const v = Number(text.replaceAll("_", ""));
  return Number.isFinite(v) ? { k: "num", v } : unknown(`the number ${text}`);
}

/** A printed number as Python writes a float (numpy 2 wraps it: `np.float64(0.99)`). */
const _PRINTED_NUMBER = String.raw`(?:np\.float\d+\()?-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?\)?`;

/** A printed list of numbers, as Python writes one: `[0.0201, 0.9951]`. */
const _PRINTED_LIST = String.raw`\[${_PRINTED_NUMBER}(?:, ${_PRINTED_NUMBER})*\]`;

/** The numbers of a printed number or list, as written, without numpy's wrapper. */
function _printedNumbers(text: string): string[] {
  return text.replace(/np\.float\d+\(([^)]*)\)/g, "$1").replace(/[[\]]/g, "").split(", ");
}

/** `text` as a regular expression that matches it literally. */
function _regexLiteral(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A Python string literal's value (escapes other than quotes and \n kept as written). */
function _stringValue(literal: string): string {
  const parts: string[] = [];
  // A ContinuedString is several literals side by side: take each quoted run.
  let i = 0;
  while (i < literal.length) {
    const m = /^[rRbBuUfF]{0,2}("""|'''|"|')/.exec(literal.slice(i));
    if (!m) {
      i++;
      continue;
    }
    const q = m[1];
    const start = i + m[0].length;
    let end = start;
    while (end < literal.length && literal.slice(end, end + q.length) !== q) {
      end += literal[end] === "\\" ? 2 : 1;
    }
    parts.push(literal.slice(start, end).replace(/\\n/g, "\n").replace(/\\(["'\\])/g, "$1"));
    i = end + q.length;
  }
  return parts.join("");
}

/** The data marked as changed by the snippet's own code (the first reason is kept). */
function _tainted(d: DataVal, why: string): Val {
  return { k: "data", data: { ...d, why: d.why ?? why } };
}

function _data(dataset: string, split: "train" | "test", role: DataVal["role"]): DataVal {
  return {
    dataset,
    split,
    role,
    divisor: 1,
    oneHot: false,
    shape: role === "images" ? [_SPLIT_COUNT[split], 28, 28] : [_SPLIT_COUNT[split]],
  };
}

/**
 * Images standardized one step further by `op` with `stats` (the step `where`): their mean
 * subtracted, then divided by the std of the same images over the same axis; else undefined.
 */
function _standardized(
  d: DataVal,
  op: string,
  stats: Extract<Val, { k: "stats" }>,
  where: string,
): DataVal | undefined {
  const s = d.standardized;
  if (d.role !== "images") return undefined;
  if (op === "-" && stats.stat === "mean" && !s) {
    return { ...d, standardized: { over: stats.over, of: stats.of, std: false, where } };
  }
  if (
    op === "/" && stats.stat === "std" && s && !s.std && s.over === stats.over &&
    sameData(s.of, stats.of)
  ) {
    return { ...d, standardized: { ...s, std: true, where } };
  }
  return undefined;
}

/** The data after a reshape (`to` a shape, -1 allowed) or an `expand` of one axis. */
function _reshaped(d: DataVal, arg: Val | undefined, how: "to" | "expand"): DataVal {
  if (!d.shape) return d;
  if (how === "expand") {
    if (arg?.k !== "num") return { ...d, shape: null };
    const s = [...d.shape];
    s.splice(arg.v < 0 ? s.length + 1 + arg.v : arg.v, 0, 1);
    return { ...d, shape: s };
  }
  const dims = arg?.k === "seq" ? arg.items : arg?.k === "num" ? [arg] : undefined;
  if (!dims || !dims.every((x) => x.k === "num")) return { ...d, shape: null };
  const shape = dims.map((x) => (x as { v: number }).v);
  const total = d.shape.reduce((a, b) => a * b, 1);
  const known = shape.filter((v) => v !== -1).reduce((a, b) => a * b, 1);
  return { ...d, shape: shape.map((v) => v === -1 ? total / known : v) };
}
