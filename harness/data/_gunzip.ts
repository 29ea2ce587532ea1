import { DATA_FIX_HINT, DataError } from "./data_error.ts";

/**
 * Decompress a gzip byte array with the Web Streams `DecompressionStream`.
 *
 * @param bytes gzip-compressed data
 * @param file path or name used in error messages
 * @throws {DataError} kind "format" when the stream is not valid gzip
 */
export async function gunzip(bytes: Uint8Array, file = "<gzip data>"): Promise<Uint8Array> {
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
