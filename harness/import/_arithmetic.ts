/** Arithmetic on the numbers a snippet states, as its language computes them. @module */

/**
 * `x op y` for the operators Python and JavaScript share (and Python's `//`), or undefined for
 * another operator.
 */
export function arithmetic(x: number, op: string, y: number): number | undefined {
  switch (op) {
    case "+":
      return x + y;
    case "-":
      return x - y;
    case "*":
      return x * y;
    case "/":
      return x / y;
    case "//":
      return Math.floor(x / y);
    case "%":
      return x % y;
    case "**":
      return x ** y;
    default:
      return undefined;
  }
}
