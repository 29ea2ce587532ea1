/**
 * Dataset manifests, file resolution (local copies, cache, download) and loaders.
 *
 * Every file is identified by the SHA-256 in its manifest, so a result never depends on which
 * mirror or directory the bytes came from.
 */
import { join, resolve } from "node:path";
import { DEFAULT_CACHE_DIR, MANIFEST_DIR } from "../util/paths.ts";
import { sha256Hex } from "../util/sha256_hex.ts";
import { z } from "zod";
import { DATA_FIX_HINT, DataError } from "./data_error.ts";
import type { DataOptions } from "./data_options.ts";
import { parseDigitsCsv } from "./digits_csv.ts";
import { download } from "./download.ts";
import { gunzip } from "./_gunzip.ts";
import { parseIdx } from "./idx.ts";

export type { DataOptions } from "./data_options.ts";

/** Environment variable naming a directory laid out as `<dir>/<dataset name>/<file>`. */
export const DATA_DIR_ENV = "CLAIMCHECK_DATA_DIR";

const _NAME = /^[a-z0-9][a-z0-9-]*$/;

/** One file of a dataset, pinned by hash. */
export interface DatasetFile {
  /** What the file is for, e.g. "trainImages" or "table". */
  role: string;
  /** Plain file name (no directories), as stored on disk and on the mirrors. */
  file: string;
  /** Lowercase hex SHA-256 of the file as stored (i.e. of the .gz). */
  sha256: string;
  /** Size in bytes, for messages. */
  bytes: number;
  /** Mirrors, tried in order. */
  urls: string[];
}

/** A validated `data/<name>.json`. */
export interface DatasetManifest {
  /** Lowercase name, also the folder under a data directory, e.g. "mnist". */
  name: string;
  /** Human-readable title. */
  title: string;
  /** The data's license, as its source states it. */
  license: string;
  /** The files, each with a distinct role. */
  files: DatasetFile[];
}

const _FileSchema = z.strictObject({
  role: z.string().min(1),
  file: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "must be a plain file name"),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits"),
  bytes: z.number().int().positive(),
  urls: z.array(z.url({ protocol: /^https?$/ })),
});

const _ManifestSchema: z.ZodType<DatasetManifest> = z.strictObject({
  name: z.string().regex(_NAME, "must be lowercase letters, digits and dashes"),
  title: z.string().min(1),
  license: z.string().min(1),
  files: z.array(_FileSchema).min(1),
}).superRefine((m, ctx) => {
  const seen = new Set<string>();
  m.files.forEach((f, i) => {
    if (seen.has(f.role)) {
      ctx.addIssue({ code: "custom", path: ["files", i, "role"], message: "duplicate role" });
    }
    seen.add(f.role);
  });
});

/** Where one dataset file was found, as reported in a loaded dataset. */
export interface LoadedFile {
  /** What the file is for, e.g. "trainImages" or "table" (as in the manifest). */
  role: string;
  /** Plain file name, as in the manifest. */
  file: string;
  /** Where the file was read from or downloaded to. */
  path: string;
  /** Lowercase hex SHA-256 of the file as read (it matched the manifest). */
  sha256: string;
}

/** Images and labels of one split. */
export interface ImageSet {
  /** Row-major pixels, `count * rows * cols`, scaled to [0, 1] by /255. */
  images: Float32Array;
  /** Class label (0..9) of each image. */
  labels: Uint8Array;
  /** Number of images. */
  count: number;
  /** Image height in pixels. */
  rows: number;
  /** Image width in pixels. */
  cols: number;
}

/** An MNIST-like dataset with its provenance. */
export interface ImageDataset {
  /** The dataset's name (its manifest's name). */
  name: string;
  /** The training split. */
  train: ImageSet;
  /** The test split. */
  test: ImageSet;
  /** The files it was loaded from. */
  files: LoadedFile[];
}

/** A table of integer features with a class label per row (sklearn digits). */
export interface TableDataset {
  /** The dataset's name (its manifest's name). */
  name: string;
  /** Row-major `count * width` raw values (0..16 for digits), as stored. */
  features: Float32Array;
  /** Class label (0..9) of each row. */
  labels: Uint8Array;
  /** Number of rows. */
  count: number;
  /** Features per row. */
  width: number;
  /** The files it was loaded from. */
  files: LoadedFile[];
}

/**
 * Validate a parsed manifest object.
 *
 * @param value parsed JSON
 * @param file path used in error messages
 * @throws {DataError} kind "manifest" naming the zod path of each bad field
 */
export function parseManifest(value: unknown, file: string): DatasetManifest {
  const r = _ManifestSchema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `${_zodPath(i.path)}: ${i.message}`).join("; ");
  throw new DataError(
    "manifest",
    file,
    `${file}: invalid dataset manifest: ${issues}. Fix the manifest (data/mnist.json is a valid example).`,
  );
}

/**
 * Read and validate `data/<name>.json` from the project.
 *
 * @throws {DataError} kind "manifest" when it is missing, not JSON, invalid, or names another dataset
 */
export async function loadManifest(name: string): Promise<DatasetManifest> {
  const path = join(MANIFEST_DIR, `${name}.json`);
  if (!_NAME.test(name)) {
    throw new DataError("manifest", name, `"${name}" is not a valid dataset name (e.g. "mnist").`);
  }
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    throw new DataError(
      "manifest",
      path,
      `${path}: no manifest for dataset "${name}". Known datasets: ${await _knownDatasets()}.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DataError("manifest", path, `${path}: not valid JSON (${(err as Error).message}).`);
  }
  const manifest = parseManifest(json, path);
  if (manifest.name !== name) {
    throw new DataError(
      "manifest",
      path,
      `${path}: invalid dataset manifest: name: expected "${name}", found "${manifest.name}".`,
    );
  }
  return manifest;
}

/** Load MNIST (60000 train / 10000 test, 28x28). */
export async function loadMnist(opts?: DataOptions): Promise<ImageDataset> {
  return loadImageDataset(await loadManifest("mnist"), opts);
}

/** Load Fashion-MNIST (60000 train / 10000 test, 28x28). */
export async function loadFashionMnist(opts?: DataOptions): Promise<ImageDataset> {
  return loadImageDataset(await loadManifest("fashion-mnist"), opts);
}

/** Load scikit-learn's 8x8 digits (1797 rows of 64 values 0..16). */
export async function loadDigits(opts?: DataOptions): Promise<TableDataset> {
  return loadDigitsDataset(await loadManifest("sklearn-digits"), opts);
}

/**
 * Load an MNIST-like dataset: gzipped IDX files with roles trainImages, trainLabels,
 * testImages, testLabels.
 *
 * @throws {DataError} when a file is missing, has the wrong hash, or is malformed
 */
export async function loadImageDataset(
  manifest: DatasetManifest,
  opts: DataOptions = {},
): Promise<ImageDataset> {
  const roles = ["trainImages", "trainLabels", "testImages", "testLabels"];
  const [trI, trL, teI, teL] = await _resolveAll(manifest, roles, opts);
  const [train, test] = await _settleAll([_imageSet(trI, trL), _imageSet(teI, teL)]);
  if (test.rows !== train.rows || test.cols !== train.cols) {
    throw new DataError(
      "format",
      teI.path,
      `${teI.path}: expected ${train.rows}x${train.cols} images like ${trI.path}, ` +
        `found ${test.rows}x${test.cols}. ${DATA_FIX_HINT}`,
    );
  }
  return { name: manifest.name, train, test, files: [trI, trL, teI, teL].map(_loaded) };
}

/**
 * Load a digits-style table: one gzipped CSV (role "table") of 64 integer features 0..16
 * followed by an integer label 0..9 per line.
 *
 * @throws {DataError} kind "format" naming the file and line of the first malformed row
 */
export async function loadDigitsDataset(
  manifest: DatasetManifest,
  opts: DataOptions = {},
): Promise<TableDataset> {
  const [table] = await _resolveAll(manifest, ["table"], opts);
  const text = new TextDecoder().decode(await gunzip(table.bytes, table.path));
  return { name: manifest.name, ...parseDigitsCsv(text, table.path), files: [_loaded(table)] };
}

/**
 * Check that the data directories given by `opts.dataDir` (--data-dir) and by
 * CLAIMCHECK_DATA_DIR exist, so a mistyped path fails up front instead of quietly falling
 * through to the cache or a download. The loaders call it too; the CLI calls it before training.
 *
 * @throws {DataError} kind "missing" naming the flag or variable, the path and what to do
 */
export async function checkDataDirs(opts: DataOptions = {}): Promise<void> {
  for (const [label, dir] of _dataDirs(opts)) {
    if (dir === undefined) continue;
    const fix = label === DATA_DIR_ENV
      ? `Fix it, or unset ${DATA_DIR_ENV} to use the cache and downloads.`
      : `Fix it, or leave --data-dir out to use ${DATA_DIR_ENV}, the cache and downloads.`;
    const fail = (what: string, cause?: unknown): never => {
      throw new DataError(
        "missing",
        dir,
        `${label} ${JSON.stringify(dir)}: ${what}; it should be a directory holding ` +
          `<dataset>/<file> (e.g. mnist/train-images-idx3-ubyte.gz). ${fix}`,
        { cause },
      );
    };
    if (dir === "") fail("empty path");
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(dir);
    } catch (err) {
      const where = resolve(dir) === dir ? "" : ` (${resolve(dir)})`;
      if (err instanceof Deno.errors.NotFound) fail(`no such directory${where}`, err);
      fail(`cannot be read${where} (${(err as Error).message})`, err);
    }
    if (!info!.isDirectory) fail("not a directory");
  }
}

/** The data directories in lookup order; an empty CLAIMCHECK_DATA_DIR counts as unset. */
function _dataDirs(opts: DataOptions): [string, string | undefined][] {
  const env = opts.env ?? Deno.env.get;
  return [
    ["--data-dir", opts.dataDir],
    [DATA_DIR_ENV, env(DATA_DIR_ENV) || undefined],
  ];
}

interface _Resolved extends LoadedFile {
  bytes: Uint8Array;
}

function _loaded({ role, file, path, sha256 }: _Resolved): LoadedFile {
  return { role, file, path, sha256 };
}

async function _imageSet(img: _Resolved, lab: _Resolved): Promise<ImageSet> {
  const [imgBytes, labBytes] = await _settleAll([
    gunzip(img.bytes, img.path),
    gunzip(lab.bytes, lab.path),
  ]);
  const images = parseIdx(imgBytes, img.path);
  const labels = parseIdx(labBytes, lab.path);
  const fail = (file: string, what: string): never => {
    throw new DataError("format", file, `${file}: ${what}. ${DATA_FIX_HINT}`);
  };
  if (images.dims.length !== 3) {
    fail(img.path, `expected images with 3 dimensions, found [${images.dims.join(", ")}]`);
  }
  if (labels.dims.length !== 1) {
    fail(lab.path, `expected labels with 1 dimension, found [${labels.dims.join(", ")}]`);
  }
  const [count, rows, cols] = images.dims;
  if (labels.dims[0] !== count) {
    fail(lab.path, `expected ${count} labels to match ${img.path}, found ${labels.dims[0]}`);
  }
  const bad = labels.data.findIndex((l) => l > 9);
  if (bad >= 0) fail(lab.path, `expected labels 0..9, found ${labels.data[bad]} at index ${bad}`);
  const pixels = new Float32Array(images.data.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = images.data[i] / 255;
  return { images: pixels, labels: labels.data.slice(), count, rows, cols };
}

// allSettled rather than all: a failed file must not leave sibling reads running unobserved.
async function _settleAll<T extends readonly unknown[]>(
  ps: readonly [...{ [K in keyof T]: Promise<T[K]> }],
): Promise<T> {
  const rs = await Promise.allSettled(ps);
  const failed = rs.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return rs.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

async function _resolveAll(
  m: DatasetManifest,
  roles: string[],
  opts: DataOptions,
): Promise<_Resolved[]> {
  const entries = roles.map((role) => {
    const entry = m.files.find((f) => f.role === role);
    if (entry) return entry;
    throw new DataError(
      "manifest",
      m.name,
      `Dataset manifest "${m.name}" has no file with role "${role}"; ` +
        `expected roles ${roles.join(", ")}, found ${m.files.map((f) => f.role).join(", ")}.`,
    );
  });
  await checkDataDirs(opts);
  return _settleAll(entries.map((e) => _resolveFile(m, e, opts)));
}

async function _resolveFile(
  m: DatasetManifest,
  entry: DatasetFile,
  opts: DataOptions,
): Promise<_Resolved> {
  const cacheDir = opts.cacheDir ?? DEFAULT_CACHE_DIR;
  const places: [string, string | undefined][] = [..._dataDirs(opts), ["cache", cacheDir]];
  const looked: string[] = [];
  for (const [label, dir] of places) {
    if (!dir) continue;
    const path = join(dir, m.name, entry.file);
    const bytes = await _readIfExists(path);
    if (!bytes) {
      looked.push(`${path} (${label})`);
      continue;
    }
    const actual = await sha256Hex(bytes);
    if (actual !== entry.sha256) {
      throw new DataError(
        "hash",
        path,
        `${path}: wrong SHA-256 for ${m.name}/${entry.file}: expected ${entry.sha256} ` +
          `(${entry.bytes} bytes), found ${actual} (${bytes.length} bytes). ${DATA_FIX_HINT}`,
      );
    }
    opts.log?.(`${m.name}/${entry.file}: using ${path}`);
    return { role: entry.role, file: entry.file, path, sha256: actual, bytes };
  }
  return await _download(m, entry, join(cacheDir, m.name), opts, looked);
}

async function _download(
  m: DatasetManifest,
  entry: DatasetFile,
  dir: string,
  opts: DataOptions,
  looked: string[],
): Promise<_Resolved> {
  const enabled = opts.download ?? true;
  const path = join(dir, entry.file);
  let failures: DataError[] = [];
  if (enabled && entry.urls.length) {
    try {
      const label = `${m.name}/${entry.file}`;
      const bytes = await download({ ...entry, path, label }, opts);
      return { role: entry.role, file: entry.file, path, sha256: entry.sha256, bytes };
    } catch (err) {
      if (!(err instanceof AggregateError)) throw err;
      failures = err.errors;
    }
  }
  const why = !enabled
    ? "Downloading is disabled."
    : entry.urls.length === 0
    ? "The manifest lists no download URLs."
    : `Download failed from every mirror:\n${failures.map((f) => `  - ${f.message}`).join("\n")}`;
  throw new DataError(
    "missing",
    `${m.name}/${entry.file}`,
    `Dataset file ${m.name}/${entry.file} (sha256 ${entry.sha256}) not found. Looked in:\n` +
      `${looked.map((p) => `  - ${p}`).join("\n")}\n${why}\n` +
      `Put a copy at <dir>/${m.name}/${entry.file} and pass --data-dir <dir> or set ` +
      `${DATA_DIR_ENV}=<dir>` +
      (enabled ? ", or make a mirror reachable." : `, or enable downloading into ${dir}.`),
    { cause: failures.length ? new AggregateError(failures) : undefined },
  );
}

// A file standing where a folder should be (NotADirectory) also means "not here"; any other
// failure (permissions, a folder where the file should be) is reported, not skipped.
async function _readIfExists(path: string): Promise<Uint8Array | null> {
  try {
    return await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      return null;
    }
    throw new DataError(
      "missing",
      path,
      `${path}: cannot be read (${(err as Error).message}). ${DATA_FIX_HINT}`,
      { cause: err },
    );
  }
}

function _zodPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(top level)";
  return path.map((k, i) => typeof k === "number" ? `[${k}]` : `${i ? "." : ""}${String(k)}`)
    .join("");
}

async function _knownDatasets(): Promise<string> {
  const names: string[] = [];
  for await (const e of Deno.readDir(MANIFEST_DIR)) {
    if (e.isFile && e.name.endsWith(".json")) names.push(e.name.slice(0, -5));
  }
  return names.sort().join(", ") || "(none)";
}
