/**
 * Keras' `LearningRateScheduler(f)` as the spec's per-epoch table: the snippet's `f` (a `def` or
 * a lambda taking `(epoch)` or `(epoch, lr)`) run for each epoch as Python would, in float64.
 * Only a small part of Python is run: a body that returns one expression, or if/elif/else
 * returns on comparisons; expressions of numbers, the parameters, the module's numeric constants,
 * + - * / ** //, unary minus, `round(x, n)`, `math.exp`, `np.exp`, `math.floor`, `min`, `max`
 * and `a if c else b`. Anything else stops the evaluation with the line it is on, never guessed.
 * @module
 */
import type { SyntaxNode } from "@lezer/common";
import { children } from "./_children.ts";
import type { Val } from "./plan.ts";
import { type PyNumber, pythonArithmetic, pythonNumber, pythonRound } from "./python_number.ts";

/** What running a function needs of the snippet: its text, places and names. */
export interface SnippetReader {
  /** A node's source text. */
  text(n: SyntaxNode): string;
  /** A node's source on one line, shortened, for messages. */
  snippet(n: SyntaxNode): string;
  /** Where a node is, for messages: "line 12", "cell 4, line 2". */
  where(n: SyntaxNode): string;
  /** The value a free name has when the function runs; undefined where the snippet binds none. */
  name(name: string): Val | undefined;
}

/** A LearningRateScheduler's schedule function, read from the snippet. */
export interface ScheduleFunction {
  /** How the snippet names it: `scheduler`, or `lambda`. */
  name: string;
  /** Where it is defined. */
  where: string;
  /** Whether it takes the learning rate in force (`(epoch, lr)`) besides the epoch. */
  takesLr: boolean;
  /**
   * What it returns at a 0-based epoch given the learning rate in force (None: undefined), or
   * why claimcheck cannot tell (naming the line).
   */
  at(epoch: number, lr: number): PyNumber | undefined | string;
}

/** Reads a `def` or lambda of the snippet as a schedule function, or says why it is not one. */
export function scheduleFunction(
  fn: Extract<Val, { k: "fn" }>,
  reader: SnippetReader,
): ScheduleFunction | string {
  const node = fn.node;
  const kids = children(node);
  const lambda = node.name === "LambdaExpression";
  const nameNode = kids.find((k) => k.name === "VariableName");
  const name = lambda || !nameNode ? "lambda" : reader.text(nameNode);
  const paramList = kids.find((k) => k.name === "ParamList");
  const params = paramList
    ? children(paramList).filter((k) => !["(", ")", ","].includes(k.name))
    : [];
  if (params.length < 1 || params.length > 2 || params.some((p) => p.name !== "VariableName")) {
    return `${reader.where(node)}: \`${name}\` does not take (epoch) or (epoch, lr) as plain ` +
      "parameters";
  }
  const [epochName, lrName] = params.map((p) => reader.text(p));
  const body = lambda ? kids.at(-1)! : kids.find((k) => k.name === "Body")!;
  return {
    name,
    where: reader.where(node),
    takesLr: lrName !== undefined,
    at(epoch, lr) {
      const scope = new Map<string, PyNumber>([[epochName, { v: epoch, int: true }]]);
      if (lrName !== undefined) scope.set(lrName, { v: lr, int: false });
      const run = new _Run(reader, scope);
      try {
        return lambda ? run.expr(body) : run.block(body)?.value ?? undefined;
      } catch (e) {
        if (e instanceof _Outside) return e.message;
        throw e;
      }
    },
  };
}

/** What `learningRateTable` makes of a schedule over a fit's epochs. */
export type LearningRateTable =
  | { table: Record<string, number> }
  | { todo: string };

/**
 * The spec's `learningRateScheduler` table for `f` over `epochs` epochs: Keras calls f(epoch, lr)
 * before each epoch with epoch from 0 and lr the optimizer's learning rate as its float32
 * variable holds it (the previous epoch's value; `initial`, the optimizer's, before the first),
 * and sets the learning rate to what f returns, which must be a float. The table is keyed from 1
 * and lists an epoch only where the float32 learning rate changes (every epoch with
 * `everyEpoch`, where another callback changes it between epochs); empty: f keeps `initial`.
 * `initial` undefined (not known) is allowed only for an f that does not take lr.
 */
export function learningRateTable(
  f: ScheduleFunction,
  epochs: number,
  initial: number | undefined,
  { everyEpoch = false }: { everyEpoch?: boolean } = {},
): LearningRateTable {
  const fn = `\`${f.name}\` (${f.where})`;
  if (f.takesLr && initial === undefined) {
    return { todo: `${fn} takes the learning rate, and the optimizer's first one is not known` };
  }
  const table: Record<string, number> = {};
  let inForce = initial === undefined ? undefined : Math.fround(initial);
  for (let epoch = 0; epoch < epochs; epoch++) {
    const r = f.at(epoch, inForce ?? NaN);
    if (typeof r === "string") return { todo: `${fn} is not evaluated: ${r}` };
    const returned = r === undefined ? "None" : r.int ? `the int ${r.v}` : undefined;
    if (returned) {
      return {
        todo: `${fn} returns ${returned} at epoch ${epoch} (from 0): Keras raises ` +
          "ValueError (the schedule must return a float)",
      };
    }
    const lr = (r as PyNumber).v;
    if (!(lr > 0 && Number.isFinite(lr))) {
      return {
        todo: `${fn} returns ${lr} at epoch ${epoch} (from 0), not a learning rate the ` +
          "spec's table takes (a positive number)",
      };
    }
    if (everyEpoch || Math.fround(lr) !== inForce) table[String(epoch + 1)] = lr;
    inForce = Math.fround(lr);
  }
  return { table };
}

/** A construct outside what a schedule is evaluated from (its message names the line). */
class _Outside extends Error {}

/** Python's comparison operators, as a condition of an `if` may use them. */
const _COMPARE: Record<string, (a: number, b: number) => boolean> = {
  "<": (a, b) => a < b,
  "<=": (a, b) => a <= b,
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
  "==": (a, b) => a === b,
  "!=": (a, b) => a !== b,
};

/** The arithmetic operators of a schedule (Python's `%` and the bitwise ones are not). */
const _ARITHMETIC = ["+", "-", "*", "/", "//", "**"];

/** One call of a schedule function: its parameters' values, and the snippet's names. */
class _Run {
  constructor(readonly reader: SnippetReader, readonly scope: Map<string, PyNumber>) {}

  #outside(n: SyntaxNode, why = "is outside what claimcheck evaluates in a schedule"): never {
    throw new _Outside(`${this.reader.where(n)}: \`${this.reader.snippet(n)}\` ${why}`);
  }

  /** Runs a body: undefined where it ends without returning, else what it returns. */
  block(body: SyntaxNode): { value: PyNumber | null } | undefined {
    for (const s of children(body)) {
      if (s.name === ":" || s.name === "Comment") continue;
      if (s.name === "ExpressionStatement" && children(s).every((k) => k.name === "String")) {
        continue;
      }
      if (s.name === "ReturnStatement") {
        const e = children(s).find((k) => k.name !== "return");
        return { value: e ? this.expr(e) : null };
      }
      if (s.name !== "IfStatement") this.#outside(s);
      const k = children(s);
      for (let i = 0; i < k.length; i++) {
        if (k[i].name === "if" || k[i].name === "elif") {
          if (this.#condition(k[i + 1])) {
            const r = this.block(k[i + 2]);
            if (r) return r;
            break;
          }
          i += 2;
        } else if (k[i].name === "else") {
          const r = this.block(k[i + 1]);
          if (r) return r;
        }
      }
    }
    return undefined;
  }

  /** A condition: one comparison of two expressions (no `and`, `or`, `not` or chains). */
  #condition(n: SyntaxNode): boolean {
    if (n.name === "ParenthesizedExpression") return this.#condition(_inner(n) ?? n);
    const [a, op, b] = children(n);
    const compare = n.name === "BinaryExpression" && op?.name === "CompareOp"
      ? _COMPARE[this.reader.text(op)]
      : undefined;
    if (!compare || _isComparison(a) || _isComparison(b)) this.#outside(n);
    return compare(this.expr(a).v, this.expr(b).v);
  }

  /** A number-valued expression. */
  expr(n: SyntaxNode): PyNumber {
    const k = children(n);
    switch (n.name) {
      case "Number":
        return pythonNumber(this.reader.text(n)) ?? this.#outside(n);
      case "MemberExpression":
        // `1.` (a float with a trailing point) reaches us as the member expression `1` `.`.
        if (k.length === 2 && k[0].name === "Number" && k[1].name === ".") {
          return { v: this.expr(k[0]).v, int: false };
        }
        return this.#outside(n);
      case "VariableName":
        return this.#name(n);
      case "ParenthesizedExpression":
        return this.expr(_inner(n) ?? this.#outside(n));
      case "UnaryExpression": {
        const op = this.reader.text(k[0]);
        if (op !== "-" && op !== "+") return this.#outside(n);
        const v = this.expr(k[1]);
        return op === "-" ? { v: -v.v, int: v.int } : v;
      }
      case "BinaryExpression": {
        const op = this.reader.text(k[1]);
        if (k[1].name !== "ArithOp" || !_ARITHMETIC.includes(op)) return this.#outside(n);
        const r = pythonArithmetic(op, this.expr(k[0]), this.expr(k[2]));
        return typeof r === "string" ? this.#outside(n, r) : r;
      }
      case "ConditionalExpression":
        return this.#condition(k[2]) ? this.expr(k[0]) : this.expr(k[4]);
      case "CallExpression":
        return this.#call(n);
      default:
        return this.#outside(n);
    }
  }

  #name(n: SyntaxNode): PyNumber {
    const name = this.reader.text(n);
    const param = this.scope.get(name);
    if (param) return param;
    const v = this.reader.name(name);
    if (v?.k === "num" && v.py) return { v: v.v, int: v.py === "int" };
    return this.#outside(n, "is not a number the snippet assigns at module level");
  }

  /** round, min, max (where the snippet does not rebind them), math.exp, np.exp, math.floor. */
  #call(n: SyntaxNode): PyNumber {
    const [callee, argList] = children(n);
    const argNodes = children(argList).filter((a) => !["(", ")", ","].includes(a.name));
    if (argNodes.some((a) => a.name === "AssignOp" || a.name === "*" || a.name === "**")) {
      return this.#outside(n);
    }
    const fn = callee.name === "VariableName" && !this.reader.name(this.reader.text(callee))
      ? `builtins.${this.reader.text(callee)}`
      : callee.name === "MemberExpression"
      ? this.#path(callee)
      : undefined;
    const args = () => argNodes.map((a) => this.expr(a));
    switch (fn) {
      case "builtins.round": {
        if (argNodes.length < 1 || argNodes.length > 2) return this.#outside(n);
        const [x, digits] = args();
        if (digits && !digits.int) return this.#outside(n, "rounds to a float number of digits");
        const r = pythonRound(x, digits?.v);
        return typeof r === "string" ? this.#outside(n, r) : r;
      }
      case "builtins.min":
      case "builtins.max": {
        if (argNodes.length < 2) return this.#outside(n);
        // Python keeps the first of equal values (an int stays an int).
        return args().reduce((best, x) =>
          (fn === "builtins.min" ? x.v < best.v : x.v > best.v) ? x : best
        );
      }
      case "math.exp":
      case "numpy.exp": {
        if (argNodes.length !== 1) return this.#outside(n);
        const v = Math.exp(args()[0].v);
        return Number.isFinite(v) ? { v, int: false } : this.#outside(n, "overflows");
      }
      case "math.floor": {
        if (argNodes.length !== 1) return this.#outside(n);
        const v = Math.floor(args()[0].v);
        return Number.isSafeInteger(v) ? { v, int: true } : this.#outside(n, "is not a small int");
      }
      default:
        return this.#outside(n);
    }
  }

  /** `math.exp` / `np.exp` as the imported module's path (`numpy.exp`), from the snippet's names. */
  #path(member: SyntaxNode): string | undefined {
    const [obj, dot, prop] = children(member);
    if (obj?.name !== "VariableName" || dot?.name !== "." || !prop) return undefined;
    const module = this.reader.name(this.reader.text(obj));
    return module?.k === "ref" ? `${module.path}.${this.reader.text(prop)}` : undefined;
  }
}

/** A parenthesized expression's one inner expression. */
function _inner(n: SyntaxNode): SyntaxNode | undefined {
  const inner = children(n).filter((k) => k.name !== "(" && k.name !== ")");
  return inner.length === 1 ? inner[0] : undefined;
}

function _isComparison(n: SyntaxNode | undefined): boolean {
  return n?.name === "BinaryExpression" && children(n)[1]?.name === "CompareOp";
}
