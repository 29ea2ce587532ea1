/** The digits table format: CSV rows of 64 features 0..16 and a label 0..9. @module */
import { DATA_FIX_HINT, DataError } from "./data_error.ts";

/** Features per row of the digits table (8x8 pixels). */
const _WIDTH = 64;

/**
 * Parse the uncompressed digits CSV: one row per line (LF or CRLF, a final newline optional) of
 * 64 integer features 0..16 followed by an integer label 0..9, no header.
 *
 * @param text the file's text
 * @param file path or name used in error messages
 * @returns row-major features, labels, the row count and the row width (64)
 * @throws {DataError} kind "format" naming the file and line of the first malformed row
 */
export function parseDigitsCsv(
  text: string,
  file: string,
): { features: Float32Array; labels: Uint8Array; count: number; width: number } {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const width = _WIDTH;
  const bad = (line: number, what: string): never => {
    throw new DataError("format", file, `${file}: line ${line}: ${what}. ${DATA_FIX_HINT}`);
  };
  if (lines.length === 0) bad(1, "expected rows of 65 integers, found an empty file");
  const features = new Float32Array(lines.length * width);
  const labels = new Uint8Array(lines.length);
  lines.forEach((raw, i) => {
    const fields = raw.replace(/\r$/, "").split(",");
    if (fields.length !== width + 1) {
      bad(i + 1, `expected ${width + 1} comma-separated integers, found ${fields.length} fields`);
    }
    fields.forEach((f, j) => {
      const max = j < width ? 16 : 9;
      const v = /^\d{1,3}$/.test(f) ? Number(f) : NaN;
      if (!(v <= max)) {
        bad(i + 1, `column ${j + 1}: expected an integer 0..${max}, found "${_clip(f)}"`);
      }
      if (j < width) features[i * width + j] = v;
      else labels[i] = v;
    });
  });
  return { features, labels, count: lines.length, width };
}

// A corrupt file can hold one enormous "field"; the message needs only its start.
function _clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
