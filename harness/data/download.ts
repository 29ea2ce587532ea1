/**
 * Downloading a dataset file into the cache: mirrors in order, connect and idle timeouts,
 * retries with exponential backoff, progress through `log`, and a temp file renamed into place
 * only once its SHA-256 matches, so the cache never holds a partial or wrong file.
 * @module
 */
import { dirname } from "node:path";
import { sha256Hex } from "../util/sha256_hex.ts";
import { DataError } from "./data_error.ts";
import type { DataOptions } from "./data_options.ts";

// A mirror that answers nothing, or stops sending, must not hang a run; a slow but steady one
// (the largest file is ~26 MB) may take as long as it needs.
const _CONNECT_TIMEOUT_MS = 30_000;
const _IDLE_TIMEOUT_MS = 30_000;
const _RETRIES = 2;
const _BACKOFF_MS = 1000;
const _PROGRESS_EVERY_MS = 1000;

/** One file to download, pinned by hash. */
export interface DownloadRequest {
  /** Mirrors, tried in order. */
  urls: string[];
  /** Where the file goes once its SHA-256 matches; its folder is created if needed. */
  path: string;
  /** Expected lowercase hex SHA-256. */
  sha256: string;
  /** Expected size in bytes: the progress total when a mirror sends no Content-Length. */
  bytes: number;
  /** Name in log lines, e.g. "mnist/train-images-idx3-ubyte.gz". */
  label: string;
}

/**
 * Download a file from the first mirror that delivers the pinned bytes, and save it.
 *
 * Network errors, timeouts and HTTP 408, 429 and 5xx are retried on the same mirror with
 * exponential backoff; other HTTP statuses and a wrong SHA-256 move on to the next mirror at once.
 *
 * @returns the file's bytes, already saved at `req.path`
 * @throws {AggregateError} when every mirror failed: one DataError per mirror (kind "download",
 *   or "hash" for wrong content), in `req.urls` order
 * @throws {DataError} kind "download" when the file cannot be written to `req.path`'s folder
 */
export async function download(req: DownloadRequest, opts: DataOptions = {}): Promise<Uint8Array> {
  const failures: DataError[] = [];
  for (const url of req.urls) {
    const got = await _fromMirror(url, req, opts);
    if (got instanceof Uint8Array) return got;
    opts.log?.(`${req.label}: failed: ${got.message}`);
    failures.push(got);
  }
  throw new AggregateError(failures, `${req.label}: every mirror failed`);
}

/** A failure that is the mirror's (not ours), and whether trying the same mirror again may help. */
class _Failure extends Error {
  constructor(
    readonly kind: "download" | "hash",
    message: string,
    readonly retry: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

// Returns the mirror's failure rather than throwing it, so that anything thrown (a cache that
// cannot be written) stops every mirror: the next one would fail the same way.
async function _fromMirror(
  url: string,
  req: DownloadRequest,
  opts: DataOptions,
): Promise<Uint8Array | DataError> {
  const retries = opts.retries ?? _RETRIES;
  const backoff = opts.backoffMs ?? _BACKOFF_MS;
  opts.log?.(`${req.label}: downloading ${url}`);
  for (let attempt = 0;; attempt++) {
    try {
      const bytes = await _attempt(url, req, opts);
      opts.log?.(`${req.label}: saved ${req.path}`);
      return bytes;
    } catch (err) {
      if (!(err instanceof _Failure)) throw err;
      if (!err.retry || attempt >= retries) {
        const tries = attempt ? ` (after ${attempt + 1} attempts)` : "";
        return new DataError(err.kind, url, `${url}: ${err.message}${tries}`, { cause: err.cause });
      }
      const wait = backoff * 2 ** attempt;
      opts.log?.(
        `${req.label}: retry ${attempt + 1}/${retries} in ${_duration(wait)}: ${err.message}`,
      );
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

async function _attempt(url: string, req: DownloadRequest, opts: DataOptions): Promise<Uint8Array> {
  const connectMs = opts.connectTimeoutMs ?? _CONNECT_TIMEOUT_MS;
  const ctl = new AbortController();
  const fetchFn = opts.fetch ?? fetch;
  // async wrapper: a replacement fetch that throws synchronously is a failed request too.
  const pending = (async () => await fetchFn(url, { signal: ctl.signal }))();
  let res: Response;
  try {
    res = await _within(
      pending,
      connectMs,
      ctl,
      () => `no response within ${_duration(connectMs)}`,
    );
  } catch (err) {
    // A replacement fetch may ignore the signal and answer late; release that answer's body.
    pending.then((late) => late.body?.cancel(), () => {});
    if (err instanceof _Failure) throw err;
    throw new _Failure("download", _describe(err), true, { cause: err });
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    const s = res.status;
    const retry = s >= 500 || s === 408 || s === 429;
    throw new _Failure("download", `HTTP ${s} ${res.statusText}`.trim(), retry);
  }
  const dir = dirname(req.path);
  let tmp: string;
  try {
    tmp = await _local(req.path, async () => {
      await Deno.mkdir(dir, { recursive: true });
      return await Deno.makeTempFile({ dir, prefix: ".download-", suffix: ".part" });
    });
  } catch (err) {
    await res.body?.cancel().catch(() => {});
    throw err;
  }
  let saved = false;
  try {
    await _receive(res, tmp, req, opts, ctl);
    const bytes = await _local(req.path, () => Deno.readFile(tmp));
    const actual = await sha256Hex(bytes);
    if (actual !== req.sha256) {
      throw new _Failure(
        "hash",
        `wrong SHA-256: expected ${req.sha256} (${req.bytes} bytes), got ${actual} ` +
          `(${bytes.length} bytes)`,
        false,
      );
    }
    await _local(req.path, () => Deno.rename(tmp, req.path));
    saved = true;
    return bytes;
  } finally {
    if (!saved) await Deno.remove(tmp).catch(() => {});
  }
}

/** Stream the body into `tmp`, logging progress; a stall longer than the idle timeout aborts. */
async function _receive(
  res: Response,
  tmp: string,
  req: DownloadRequest,
  opts: DataOptions,
  ctl: AbortController,
): Promise<void> {
  const idleMs = opts.idleTimeoutMs ?? _IDLE_TIMEOUT_MS;
  const length = Number(res.headers.get("content-length"));
  const total = length > 0 ? length : req.bytes;
  const started = performance.now();
  let logged = started;
  let received = 0;
  const progress = (now: number) => {
    const pct = total > 0 ? ` (${Math.floor((100 * received) / total)}%)` : "";
    const secs = Math.max(now - started, 1) / 1000;
    return `${req.label}: ${_size(received)} / ${_size(total)}${pct}, ` +
      `${(received / secs / 1e6).toFixed(1)} MB/s`;
  };
  const reader = res.body?.getReader();
  let done = !reader;
  let file: Deno.FsFile | undefined;
  try {
    const out = file = await _local(req.path, () => Deno.open(tmp, { write: true }));
    while (!done) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await _within(
          reader!.read(),
          idleMs,
          ctl,
          () => `no data for ${_duration(idleMs)} after ${_size(received)} of ${_size(total)}`,
        );
      } catch (err) {
        if (err instanceof _Failure) throw err;
        throw new _Failure("download", `reading failed: ${_describe(err)}`, true, { cause: err });
      }
      if (chunk.done) break;
      received += chunk.value.length;
      // More bytes than the pinned file has cannot hash right (a captive portal, an endless
      // stream): stop now instead of filling the disk.
      if (received > req.bytes) {
        throw new _Failure(
          "hash",
          `wrong content: more than the expected ${req.bytes} bytes`,
          false,
        );
      }
      await _local(req.path, async () => {
        for (let off = 0; off < chunk.value.length;) {
          off += await out.write(chunk.value.subarray(off));
        }
      });
      const now = performance.now();
      if (now - logged >= _PROGRESS_EVERY_MS) {
        logged = now;
        opts.log?.(progress(now));
      }
    }
    done = true;
    const now = performance.now();
    opts.log?.(`${progress(now)}, done in ${((now - started) / 1000).toFixed(1)} s`);
  } finally {
    file?.close();
    // Releases the connection, whatever stopped the loop (timeout, wrong content, full disk).
    if (!done) await reader?.cancel().catch(() => {});
  }
}

/**
 * Settle with `p`, or fail with a retryable timeout after `ms` (and abort `ctl`, which ends the
 * request or body read that `p` waits on).
 */
async function _within<T>(
  p: Promise<T>,
  ms: number,
  ctl: AbortController,
  what: () => string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new _Failure("download", `${what()} (timeout)`, true);
      // Reject first: aborting makes `p` reject too, and the timeout is the clearer reason.
      reject(err);
      ctl.abort(err);
    }, ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Run a file-system step of saving the download; its failure is ours, not the mirror's. */
async function _local<T>(path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new DataError(
      "download",
      path,
      `${path}: could not save the download (${_describe(err)}). Make its folder writable, ` +
        `or put a copy under --data-dir.`,
      { cause: err },
    );
  }
}

// fetch() reports network failures as a bare "fetch failed"; the reason is in the cause chain.
function _describe(err: unknown): string {
  const parts: string[] = [];
  for (let e = err; e !== undefined && parts.length < 4; e = (e as Error).cause) {
    parts.push(e instanceof Error ? e.message : String(e));
    if (!(e instanceof Error)) break;
  }
  return parts.join(": ");
}

function _size(n: number): string {
  if (n < 1e3) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  return `${(n / 1e6).toFixed(1)} MB`;
}

function _duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${+(ms / 1000).toFixed(1)} s`;
}
