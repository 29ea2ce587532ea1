/**
 * Python's numbers in float64, as CPython computes them: ints (exact while they stay within
 * 2^53) and floats, the arithmetic operators with Python's int/float rules, floor division and
 * modulo by CPython's algorithm, and `round(x, n)` half to even on the float's exact value.
 * `**` with a float and `exp` use V8's fdlibm, which may differ from CPython's C library in the
 * last bit of a float64; everything else is exact.
 * @module
 */

/** A Python number: its value and whether it is an `int` (else a `float`). */
export interface PyNumber {
  /** The value (an int's is a whole number within ±2^53). */
  v: number;
  /** Whether Python holds it as an `int`. */
  int: boolean;
}

/** A Python number literal (`3`, `0x1F`, `1_000`, `2.5`, `1e-3`); undefined: not a plain number. */
export function pythonNumber(literal: string): PyNumber | undefined {
  const t = literal.replaceAll("_", "").toLowerCase();
  if (/[jl]$/.test(t)) return undefined; // complex, or Python 2's long
  const int = /^(0[xob][\da-f]+|\d+)$/.test(t);
  const v = Number(t);
  if (!Number.isFinite(v) || (int && !Number.isSafeInteger(v))) return undefined;
  return { v, int };
}

/** The arithmetic operators {@link pythonArithmetic} computes. */
export const PYTHON_OPERATORS = ["+", "-", "*", "/", "//", "%", "**"];

/**
 * `a op b` as Python computes it, or why Python would raise (or the int grow past 2^53): int op
 * int stays an int but for `/` and a negative power; anything with a float is a float.
 */
export function pythonArithmetic(op: string, a: PyNumber, b: PyNumber): PyNumber | string {
  const x = a.v, y = b.v;
  if ((op === "/" || op === "//" || op === "%") && y === 0) {
    return "divides by zero (Python raises ZeroDivisionError)";
  }
  if (a.int && b.int && op !== "/" && !(op === "**" && y < 0)) {
    let v: number;
    if (op === "**") {
      if (Math.abs(x) > 1 && y > 53) return "an int past 2^53";
      v = Number(BigInt(x) ** BigInt(y));
    } else if (op === "//" || op === "%") {
      const mod = _pyMod(x, y) + 0; // an int has no −0
      v = op === "%" ? mod : (x - mod) / y; // exact: x − mod is a multiple of y
    } else v = op === "+" ? x + y : op === "-" ? x - y : x * y;
    return Number.isSafeInteger(v) ? { v, int: true } : "an int past 2^53";
  }
  if (op === "**") {
    if (x === 0 && y < 0) return "0.0 to a negative power (Python raises ZeroDivisionError)";
    if (x < 0 && !Number.isInteger(y)) return "a negative number to a fractional power (complex)";
    const v = x ** y;
    return Number.isFinite(v) ? { v, int: false } : "a power that overflows (OverflowError)";
  }
  const v = op === "+"
    ? x + y
    : op === "-"
    ? x - y
    : op === "*"
    ? x * y
    : op === "/"
    ? x / y
    : op === "//"
    ? _floatFloorDiv(x, y)
    : _pyMod(x, y);
  return { v, int: false };
}

/** Python's `%` (the result takes the divisor's sign): C's fmod, then CPython's correction. */
function _pyMod(x: number, y: number): number {
  let mod = x % y; // JavaScript's % on numbers is C's fmod, exact
  if (mod !== 0) {
    if ((y < 0) !== (mod < 0)) mod += y;
  } else mod = y < 0 ? -0 : 0;
  return mod;
}

/** CPython's float `//` (float_floor_div): from fmod, so that `x == (x//y)*y + x%y` holds. */
function _floatFloorDiv(x: number, y: number): number {
  let mod = x % y;
  let div = (x - mod) / y;
  if (mod !== 0 && (y < 0) !== (mod < 0)) {
    mod += y;
    div -= 1;
  }
  if (div === 0) {
    const q = x / y; // zero with the true quotient's sign
    return q < 0 || Object.is(q, -0) ? -0 : 0;
  }
  let floor = Math.floor(div);
  if (div - floor > 0.5) floor += 1;
  return floor;
}

/**
 * Python's `round(x, n)`: a float rounded half to even at the n-th decimal (n < 0: tens,
 * hundreds…) of its exact binary value, the result the float nearest that decimal; an int stays
 * an int. Undefined `n` is `round(x)`: an int. Returns why Python would raise instead.
 */
export function pythonRound(x: PyNumber, n: number | undefined): PyNumber | string {
  if (x.int) {
    if (n === undefined || n >= 0) return x;
    const unit = 10n ** BigInt(-n);
    return { v: Number(_halfEven(BigInt(x.v), unit) * unit), int: true };
  }
  if (!Number.isFinite(x.v)) return `round() of ${x.v} (Python raises)`;
  if (n === undefined) {
    const v = Number(_halfEvenOf(x.v, 0));
    return Number.isSafeInteger(v) ? { v, int: true } : "an int past 2^53";
  }
  // CPython's limits (float_round): past them the float is its own rounding, or 0.
  if (n > 323) return x;
  if (n < -308) return { v: 0 * x.v, int: false };
  const k = _halfEvenOf(x.v, n);
  const v = Number(`${k}e${-n}`); // the nearest float to k·10^-n: JS parses decimals exactly
  return { v: v === 0 ? 0 * Math.sign(x.v) : v, int: false };
}

/** round-half-even(x · 10^n) as an integer, from x's exact value m · 2^e. */
function _halfEvenOf(x: number, n: number): bigint {
  const { m, e } = _exact(x);
  let num = m, den = 1n;
  if (e >= 0) num <<= BigInt(e);
  else den <<= BigInt(-e);
  if (n >= 0) num *= 10n ** BigInt(n);
  else den *= 10n ** BigInt(-n);
  return _halfEven(num, den);
}

/** num / den rounded half to even (den > 0). */
function _halfEven(num: bigint, den: bigint): bigint {
  const neg = num < 0n;
  const a = neg ? -num : num;
  let q = a / den;
  const twice = 2n * (a % den);
  if (twice > den || (twice === den && q % 2n === 1n)) q += 1n;
  return neg ? -q : q;
}

/** A finite float as m · 2^e exactly, m an integer. */
function _exact(x: number): { m: bigint; e: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const exp = Number((bits >> 52n) & 0x7ffn);
  let m = bits & 0xfffffffffffffn;
  if (exp !== 0) m |= 1n << 52n;
  if (bits >> 63n) m = -m;
  return { m, e: (exp === 0 ? 1 : exp) - 1075 };
}
