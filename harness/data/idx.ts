import { DATA_FIX_HINT, DataError } from "./data_error.ts";

/** IDX type code for unsigned bytes; MNIST-style datasets use nothing else. */
const _UBYTE = 0x08;

/**
 * Parse an unsigned-byte IDX file (magic 0x00000801..0x00000804, e.g. MNIST labels and images).
 *
 * The length must be exactly header + product(dims): truncation and trailing bytes both mean
 * the file is not what the manifest promised, so neither is tolerated.
 *
 * @param bytes the uncompressed file contents
 * @param file path or name used in error messages
 * @returns the dimensions and a view (not a copy) of the payload
 * @throws {DataError} kind "format" when the header or length is wrong
 */
export function parseIdx(bytes: Uint8Array, file: string): { dims: number[]; data: Uint8Array } {
  const fail = (what: string): never => {
    throw new DataError(
      "format",
      file,
      `${file}: not a valid unsigned-byte IDX file: ${what}. ${DATA_FIX_HINT}`,
    );
  };
  if (bytes.length < 4) fail(`expected at least a 4-byte header, found ${bytes.length} bytes`);
  const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== _UBYTE) {
    fail(`expected magic 0x000008NN (unsigned bytes), found 0x${magic}`);
  }
  const ndims = bytes[3];
  if (ndims < 1 || ndims > 4) fail(`expected 1 to 4 dimensions, found ${ndims} (magic 0x${magic})`);
  const header = 4 + 4 * ndims;
  if (bytes.length < header) {
    fail(`expected a ${header}-byte header for ${ndims} dimensions, found ${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = header + dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== expected) {
    const how = bytes.length < expected ? "truncated" : "trailing bytes";
    fail(
      `${how}: dims [${dims.join(", ")}] need ${expected} bytes, found ${bytes.length}`,
    );
  }
  return { dims, data: bytes.subarray(header) };
}
