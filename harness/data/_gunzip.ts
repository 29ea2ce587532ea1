import { DATA_FIX_HINT, DataError } from "./data_error.ts";

/**
 * Decompress a gzip byte array with the Web Streams `DecompressionStream`.
 *
 * @param bytes gzip-compressed data
 * @param file path or name used in error messages
 * @throws {DataError} kind "format" when the stream is not valid gzip
 */
export async function gunzip(bytes: Uint8Array, file = "<gzip data>"): Promise<Uint8Array> {
  // Without this check an empty or plain file fails with a misleading "checksum" message.
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    const start = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0"));
    const found = bytes.length ? `bytes starting ${start.join(" ")}` : "an empty file";
    throw new DataError(
      "format",
      file,
      `${file}: expected gzip-compressed data (starting 1f 8b), found ${found}. ${DATA_FIX_HINT}`,
    );
  }
  const input = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream();
  try {
    const out = input.pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(out).arrayBuffer());
  } catch (err) {
    throw new DataError(
      "format",
      file,
      `${file}: expected gzip-compressed data, but decompression failed (${
        (err as Error).message
      }). ${DATA_FIX_HINT}`,
      { cause: err },
    );
  }
}
