/**
 * Property tests of the data readers on random, truncated and corrupted input: each must
 * return a consistent result or throw a DataError of kind "format" — never another exception,
 * never a hang, and never accept a wrong file where the format can tell.
 *
 * Every case draws from its own seeded stream, so a failure names its seed and case and
 * reproduces with `CLAIMCHECK_FUZZ_SEED=<seed> deno test --allow-all tests/data_fuzz_test.ts`.
 */
import assert from "assert";
import { DataError } from "../harness/data/data_error.ts";
import { gunzip } from "../harness/data/_gunzip.ts";
import { parseIdx } from "../harness/data/idx.ts";
import { parseDigitsCsv } from "../harness/data/digits_csv.ts";
import { deriveSeed, mulberry32, type Rng } from "../harness/util/random.ts";

const SEED = Number(Deno.env.get("CLAIMCHECK_FUZZ_SEED") ?? 20_240_611);
const CASES = 200;
/** Far above the few ms one case takes: reaching it means the reader hangs. */
const HANG_MS = 2000;

/** Run `CASES` cases of `name`, each with its own seeded stream; failures name seed and case. */
async function _cases(name: string, run: (rng: Rng) => void | Promise<void>): Promise<void> {
  for (let i = 0; i < CASES; i++) {
    try {
      await run(mulberry32(deriveSeed(SEED, name, i)));
    } catch (err) {
      throw new Error(
        `${name}, case ${i} (CLAIMCHECK_FUZZ_SEED=${SEED}): ${(err as Error).stack ?? err}`,
        { cause: err },
      );
    }
  }
}

/** Call `parse`: its result, or null when it threw the expected DataError; else fail. */
async function _parseOrFormat<T>(
  parse: () => T | Promise<T>,
  input: Uint8Array,
): Promise<T | null> {
  try {
    return await parse();
  } catch (err) {
    const what = `input ${input.length} bytes, starting ${_hex(input.subarray(0, 32))}`;
    assert.ok(err instanceof DataError, `expected a DataError, got ${err} (${what})`);
    assert.equal(err.kind, "format", `${err.message} (${what})`);
    return null;
  }
}

function _int(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** 0..2000 random bytes, small lengths likelier; sometimes after a plausible `magic`. */
function _randomBytes(rng: Rng, magic: number[]): Uint8Array {
  const out = new Uint8Array(Math.floor(rng() ** 2 * 2001)).map(() => _int(rng, 256));
  if (rng() < 0.5) out.set(magic.slice(0, out.length));
  return out;
}

function _truncate(rng: Rng, bytes: Uint8Array): Uint8Array {
  return bytes.slice(0, _int(rng, bytes.length));
}

/**
 * A copy with one byte changed (never to itself), and where: at random or, half the time, before
 * `focus` (a header); by a random XOR or, half the time, by ±1 (an off-by-one count or size).
 */
function _corrupt(
  rng: Rng,
  bytes: Uint8Array,
  focus = bytes.length,
): { bytes: Uint8Array; at: number } {
  const out = bytes.slice();
  const at = _int(rng, rng() < 0.5 ? Math.min(focus, out.length) : out.length);
  out[at] = rng() < 0.5 ? out[at] ^ (1 + _int(rng, 255)) : out[at] + (rng() < 0.5 ? 1 : 255);
  return { bytes: out, at };
}

function _hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function _within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** A valid unsigned-byte IDX file with 1..4 random dims of 0..5 and random pixels. */
function _idx(rng: Rng): { bytes: Uint8Array; dims: number[]; header: number } {
  const dims = Array.from({ length: 1 + _int(rng, 4) }, () => _int(rng, 6));
  const header = 4 + 4 * dims.length;
  const bytes = new Uint8Array(header + dims.reduce((a, b) => a * b, 1));
  const view = new DataView(bytes.buffer);
  bytes.set([0, 0, 0x08, dims.length]);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = header; i < bytes.length; i++) bytes[i] = _int(rng, 256);
  return { bytes, dims, header };
}

/** A parse result must describe exactly the bytes it came from. */
function _consistentIdx(got: { dims: number[]; data: Uint8Array }, input: Uint8Array): void {
  assert.ok(got.dims.length >= 1 && got.dims.length <= 4, `dims [${got.dims}]`);
  const size = got.dims.reduce((a, b) => a * b, 1);
  assert.equal(got.data.length, size);
  assert.equal(4 + 4 * got.dims.length + size, input.length);
}

Deno.test("fuzz parseIdx: random bytes parse consistently or are format errors", async () => {
  await _cases("idx-random", async (rng) => {
    const input = _randomBytes(rng, [0, 0, 0x08, 1 + _int(rng, 4)]);
    const got = await _parseOrFormat(() => parseIdx(input, "fuzz.idx"), input);
    if (got) _consistentIdx(got, input);
  });
});

Deno.test("fuzz parseIdx: a random header is accepted exactly when the length matches", async () => {
  await _cases("idx-header", async (rng) => {
    const ndims = _int(rng, 7);
    const dims = Array.from({ length: ndims }, () => _int(rng, 7));
    const size = dims.reduce((a, b) => a * b, 1);
    const extra = rng() < 0.5 ? 0 : _int(rng, 7) - 3;
    const input = new Uint8Array(Math.max(0, 4 + 4 * ndims + size + extra));
    const view = new DataView(input.buffer);
    input.set([0, 0, 0x08, ndims].slice(0, input.length));
    dims.forEach((d, i) => 8 + 4 * i <= input.length && view.setUint32(4 + 4 * i, d, false));
    const got = await _parseOrFormat(() => parseIdx(input, "fuzz.idx"), input);
    const valid = ndims >= 1 && ndims <= 4 && extra === 0;
    assert.equal(got !== null, valid, `dims [${dims}], ${extra} bytes off`);
    if (got) assert.deepEqual(got.dims, dims);
  });
});

Deno.test("fuzz parseIdx: every truncation of a valid file is a format error", async () => {
  await _cases("idx-truncate", async (rng) => {
    const input = _truncate(rng, _idx(rng).bytes);
    assert.equal(await _parseOrFormat(() => parseIdx(input, "fuzz.idx"), input), null);
  });
});

Deno.test("fuzz parseIdx: a corrupt header is an error, a corrupt pixel keeps the dims", async () => {
  await _cases("idx-corrupt", async (rng) => {
    const good = _idx(rng);
    // A file with no pixels has only its header to corrupt.
    const { bytes: input, at } = _corrupt(rng, good.bytes, good.header);
    const got = await _parseOrFormat(() => parseIdx(input, "fuzz.idx"), input);
    if (at < good.header) {
      // Nonzero dims: any changed header byte changes the length the header implies.
      if (good.dims.every((d) => d > 0)) assert.equal(got, null, `byte ${at} changed`);
      if (got) _consistentIdx(got, input);
    } else {
      assert.ok(got, `pixel byte ${at} changed`);
      assert.deepEqual(got.dims, good.dims);
    }
  });
});

async function _gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const s = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(s).arrayBuffer());
}

/** Valid gzip members of random content: empty, compressible and incompressible. */
async function _gzips(rng: Rng): Promise<{ raw: Uint8Array; gz: Uint8Array }> {
  const kind = _int(rng, 3);
  const n = kind === 0 ? 0 : 1 + _int(rng, 1500);
  const raw = new Uint8Array(n).map((_, i) => kind === 1 ? (i % 7) * _int(rng, 2) : _int(rng, 256));
  return { raw, gz: await _gzip(raw) };
}

/** gunzip `input`: its output, or null after the expected DataError; a hang fails. */
function _gunzip(input: Uint8Array): Promise<Uint8Array | null> {
  return _parseOrFormat(() => _within(gunzip(input, "fuzz.gz"), "gunzip"), input);
}

Deno.test("fuzz gunzip: random bytes decompress or are format errors, never hang", async () => {
  await _cases("gzip-random", async (rng) => {
    await _gunzip(_randomBytes(rng, [0x1f, 0x8b, 0x08, _int(rng, 32)]));
  });
});

Deno.test("fuzz gunzip: every truncation of a valid member is a format error", async () => {
  await _cases("gzip-truncate", async (rng) => {
    const { gz } = await _gzips(rng);
    assert.equal(await _gunzip(_truncate(rng, gz)), null);
  });
});

Deno.test("fuzz gunzip: a corrupt byte is an error or leaves the content unchanged", async () => {
  await _cases("gzip-corrupt", async (rng) => {
    const { raw, gz } = await _gzips(rng);
    const { bytes, at } = _corrupt(rng, gz);
    const got = await _gunzip(bytes);
    // The CRC-32 and length trailer must catch any change to the content.
    if (got) assert.deepEqual(got, raw, `byte ${at} of ${gz.length} changed`);
  });
});

Deno.test("fuzz gunzip: trailing bytes are an error or ignored, never a different content", async () => {
  await _cases("gzip-trailing", async (rng) => {
    const { raw, gz } = await _gzips(rng);
    const tail = new Uint8Array(1 + _int(rng, 20)).map(() => _int(rng, 256));
    const got = await _gunzip(new Uint8Array([...gz, ...tail]));
    if (got) assert.deepEqual(got, raw);
  });
});

/** A valid digits CSV: 1..30 rows, LF or CRLF, a final newline or not. */
function _csv(rng: Rng): { text: string; rows: number[][] } {
  const rows = Array.from(
    { length: 1 + _int(rng, 30) },
    () => [...Array.from({ length: 64 }, () => _int(rng, 17)), _int(rng, 10)],
  );
  const eol = rng() < 0.5 ? "\n" : "\r\n";
  const text = rows.map((r) => r.join(",")).join(eol) + (rng() < 0.5 ? eol : "");
  return { text, rows };
}

/** Parse `text` as the digits CSV; a result must hold only in-range values. */
async function _csvParse(text: string): Promise<number[][] | null> {
  const input = new TextEncoder().encode(text);
  const got = await _parseOrFormat(() => parseDigitsCsv(text, "fuzz.csv"), input);
  if (!got) return null;
  assert.equal(got.width, 64);
  assert.ok(got.count >= 1);
  assert.equal(got.features.length, got.count * 64);
  assert.equal(got.labels.length, got.count);
  assert.ok(got.features.every((v) => Number.isInteger(v) && v >= 0 && v <= 16));
  assert.ok(got.labels.every((v) => v <= 9));
  return Array.from(
    { length: got.count },
    (_, i) => [...got.features.subarray(i * 64, i * 64 + 64), got.labels[i]],
  );
}

const _CSV_CHARS = "0123456789,,,\n\r -x.";

Deno.test("fuzz parseDigitsCsv: random text parses in range or is a format error", async () => {
  await _cases("csv-random", async (rng) => {
    const bytes = _randomBytes(rng, []);
    // Half raw bytes, half text from the CSV's own alphabet, which gets further into a row.
    const text = rng() < 0.5
      ? new TextDecoder().decode(bytes)
      : Array.from(bytes, (b) => _CSV_CHARS[b % _CSV_CHARS.length]).join("");
    await _csvParse(text);
  });
});

Deno.test("fuzz parseDigitsCsv: a truncated table is an error or its first whole rows", async () => {
  await _cases("csv-truncate", async (rng) => {
    const { text, rows } = _csv(rng);
    const got = await _csvParse(text.slice(0, _int(rng, text.length)));
    // A cut row loses its label (a single digit) or more, so whatever parses is whole rows.
    if (got) assert.deepEqual(got, rows.slice(0, got.length));
  });
});

Deno.test("fuzz parseDigitsCsv: a corrupt character is an error or an in-range table", async () => {
  await _cases("csv-corrupt", async (rng) => {
    const { text, rows } = _csv(rng);
    const at = _int(rng, text.length);
    const ch = _CSV_CHARS[_int(rng, _CSV_CHARS.length)];
    const got = await _csvParse(text.slice(0, at) + ch + text.slice(at + 1));
    // One character can change at most one value, or split/join lines (then it is an error).
    if (got) {
      assert.equal(got.length, rows.length);
      const diff = got.flat().filter((v, i) => v !== rows.flat()[i]).length;
      assert.ok(diff <= 1, `${diff} values changed by one character at ${at}`);
    }
  });
});
