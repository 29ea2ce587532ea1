/**
 * Small grayscale images (digits) as inline `<img>` data URIs: a 24-bit BMP, which every
 * browser shows without a script, a decoder or a file beside the page.
 * @module
 */

/**
 * A BMP of `rows × cols` bytes (0 = black … 255 = white unless `invert`), scaled up by `scale`,
 * as a `data:image/bmp;base64,…` URI.
 */
export function grayBmpDataUri(
  pixels: Uint8Array,
  rows: number,
  cols: number,
  { scale = 2, invert = true } = {},
): string {
  const w = cols * scale, h = rows * scale;
  const stride = Math.ceil((w * 3) / 4) * 4;
  const size = 54 + stride * h;
  const buf = new Uint8Array(size);
  const view = new DataView(buf.buffer);
  buf.set([0x42, 0x4d]);
  view.setUint32(2, size, true);
  view.setUint32(10, 54, true);
  view.setUint32(14, 40, true);
  view.setInt32(18, w, true);
  view.setInt32(22, h, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, 24, true);
  view.setUint32(34, stride * h, true);
  for (let y = 0; y < h; y++) {
    // BMP rows run bottom-up.
    const src = (rows - 1 - Math.floor(y / scale)) * cols;
    const row = 54 + y * stride;
    for (let x = 0; x < w; x++) {
      const v = pixels[src + Math.floor(x / scale)];
      const g = invert ? 255 - v : v;
      buf[row + x * 3] = buf[row + x * 3 + 1] = buf[row + x * 3 + 2] = g;
    }
  }
  return `data:image/bmp;base64,${_bytesToBase64(buf)}`;
}

/** Bytes as base64 (how artifacts keep images in results.json). */
function _bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * Pixels in [0, 1] (e.g. one image of a loaded dataset) as 0..255 bytes in base64, for an
 * artifact; {@link pixelsFromBase64} reads them back.
 */
export function pixelsToBase64(pixels: ArrayLike<number>): string {
  return _bytesToBase64(
    Uint8Array.from(pixels, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255)),
  );
}

/** Decodes the base64 pixel bytes an artifact stores. */
export function pixelsFromBase64(base64: string): Uint8Array {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}
