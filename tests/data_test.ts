import assert from "assert";
import { join } from "node:path";
import { DataError, type DataErrorKind } from "../harness/data/data_error.ts";
import { gunzip } from "../harness/data/_gunzip.ts";
import { parseIdx } from "../harness/data/idx.ts";
import {
  checkDataDirs,
  DATA_DIR_ENV,
  type DatasetManifest,
  loadDigitsDataset,
  loadImageDataset,
  loadManifest,
  loadMnist,
  parseManifest,
} from "../harness/data/datasets.ts";
import { PROJECT_ROOT } from "../harness/util/paths.ts";

const REAL_DATA_DIR = Deno.env.get(DATA_DIR_ENV);
const NAME = "fixture-mnist";

function _idx(dims: number[], data: ArrayLike<number>, ndimsByte = dims.length): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out.set([0, 0, 0x08, ndimsByte]);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

async function _gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const s = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(s).arrayBuffer());
}

async function _sha256(bytes: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Uncompressed IDX contents of a tiny valid dataset: 3 train and 2 test 2x2 images. */
function _goodRaw(): Record<string, Uint8Array> {
  return {
    trainImages: _idx([3, 2, 2], [0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8]),
    trainLabels: _idx([3], [5, 0, 9]),
    testImages: _idx([2, 2, 2], [255, 0, 0, 255, 10, 20, 30, 40]),
    testLabels: _idx([2], [1, 2]),
  };
}

const FILES: Record<string, string> = {
  trainImages: "train-images-idx3-ubyte.gz",
  trainLabels: "train-labels-idx1-ubyte.gz",
  testImages: "t10k-images-idx3-ubyte.gz",
  testLabels: "t10k-labels-idx1-ubyte.gz",
  table: "digits.csv.gz",
};

interface _Fixture {
  manifest: DatasetManifest;
  /** The gzipped bytes of each role, as the manifest pins them. */
  gz: Record<string, Uint8Array>;
}

/** Gzip each raw file (or take pre-gzipped bytes) and build a manifest with their real hashes. */
async function _fixture(
  raw: Record<string, Uint8Array>,
  opts: { gzipped?: Record<string, Uint8Array>; name?: string } = {},
): Promise<_Fixture> {
  const gz: Record<string, Uint8Array> = { ...opts.gzipped };
  for (const [role, bytes] of Object.entries(raw)) gz[role] = await _gzip(bytes);
  const files = await Promise.all(
    Object.entries(gz).map(async ([role, bytes]) => ({
      role,
      file: FILES[role],
      sha256: await _sha256(bytes),
      bytes: bytes.length,
      urls: [`https://a.invalid/${FILES[role]}`, `https://b.invalid/${FILES[role]}`],
    })),
  );
  const manifest = { name: opts.name ?? NAME, title: "fixture", license: "CC0", files };
  return { manifest, gz };
}

/** Write the fixture's files as `<dir>/<name>/<file>`. */
async function _place(f: _Fixture, dir: string): Promise<void> {
  await Deno.mkdir(join(dir, f.manifest.name), { recursive: true });
  for (const { role, file } of f.manifest.files) {
    await Deno.writeFile(join(dir, f.manifest.name, file), f.gz[role]);
  }
}

/** An environment reader (DataOptions.env) where only CLAIMCHECK_DATA_DIR is set, to `dir`. */
function _env(dir?: string): (name: string) => string | undefined {
  return (name) => name === DATA_DIR_ENV ? dir : undefined;
}

/**
 * Run with a fresh temp dir and an environment reader where CLAIMCHECK_DATA_DIR is `dataDirEnv`
 * (or unset), for the loaders' `env`: the process environment is shared by test files running
 * in parallel, so no test here changes it.
 */
async function _withTmp(
  fn: (tmp: string, env: (name: string) => string | undefined) => Promise<void>,
  dataDirEnv?: (tmp: string) => string,
): Promise<void> {
  const tmp = await Deno.makeTempDir({ prefix: "claimcheck-data-test-" });
  try {
    await fn(tmp, _env(dataDirEnv?.(tmp)));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

function _isDataError(kind: DataErrorKind, ...patterns: (string | RegExp)[]) {
  return (err: unknown): true => {
    assert.ok(err instanceof DataError, `expected DataError, got ${err}`);
    assert.equal(err.kind, kind, err.message);
    for (const p of patterns) {
      if (typeof p === "string") {
        assert.ok(err.message.includes(p), `"${p}" not in: ${err.message}`);
      } else assert.match(err.message, p);
    }
    return true;
  };
}

/** Load the fixture from `<tmp>/data`, never downloading. */
async function _loadBroken(
  raw: Record<string, Uint8Array>,
  tmp: string,
  env: (name: string) => string | undefined,
) {
  const f = await _fixture(raw);
  await _place(f, join(tmp, "data"));
  return loadImageDataset(f.manifest, {
    env,
    dataDir: join(tmp, "data"),
    cacheDir: join(tmp, "cache"),
    download: false,
  });
}

async function _listFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) names.push(e.name);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return names.sort();
}

Deno.test("parseIdx accepts 1..4 dims and rejects bad headers and lengths", () => {
  const good = parseIdx(_idx([2, 3], [1, 2, 3, 4, 5, 6]), "x.idx");
  assert.deepEqual(good.dims, [2, 3]);
  assert.deepEqual([...good.data], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(parseIdx(_idx([1, 1, 1, 1], [7]), "x.idx").dims, [1, 1, 1, 1]);
  const bad = (bytes: Uint8Array, ...p: (string | RegExp)[]) =>
    assert.throws(() => parseIdx(bytes, "x.idx"), _isDataError("format", "x.idx", ...p));
  bad(_idx([2, 3], [1, 2, 3, 4, 5]), "truncated", "need 18 bytes, found 17");
  bad(_idx([2, 3], [1, 2, 3, 4, 5, 6, 7]), "trailing bytes", "found 19");
  bad(new Uint8Array([0, 0, 0x0d, 1, 0, 0, 0, 0]), "0x00000d01");
  bad(new Uint8Array([1, 0, 0x08, 1, 0, 0, 0, 0]), "magic");
  bad(_idx([], [], 0), "expected 1 to 4 dimensions, found 0");
  bad(_idx([1, 1, 1, 1, 1], [0], 5), "expected 1 to 4 dimensions, found 5");
  bad(new Uint8Array([0, 0, 8, 3, 0, 0]), "header");
  bad(new Uint8Array([0, 0]), "4-byte header");
});

Deno.test("loads a generated dataset: pixels scaled to [0,1], labels and shapes right", async () => {
  await _withTmp(async (tmp, env) => {
    const f = await _fixture(_goodRaw());
    await _place(f, join(tmp, "data"));
    const logs: string[] = [];
    const d = await loadImageDataset(f.manifest, {
      env,
      dataDir: join(tmp, "data"),
      cacheDir: join(tmp, "cache"),
      download: false,
      log: (m) => logs.push(m),
    });
    assert.equal(d.name, NAME);
    assert.deepEqual([d.train.count, d.train.rows, d.train.cols], [3, 2, 2]);
    assert.deepEqual([d.test.count, d.test.rows, d.test.cols], [2, 2, 2]);
    assert.equal(d.train.images.length, 12);
    assert.deepEqual(
      [...d.train.images.subarray(0, 4)],
      [0, 1, 51 / 255, 102 / 255].map(Math.fround),
    );
    assert.deepEqual([...d.train.labels], [5, 0, 9]);
    assert.deepEqual([...d.test.labels], [1, 2]);
    assert.deepEqual([...d.test.images.subarray(0, 4)], [1, 0, 0, 1]);
    assert.equal(d.files.length, 4);
    for (const file of d.files) {
      assert.equal(file.path, join(tmp, "data", NAME, file.file));
      assert.equal(file.sha256, await _sha256(f.gz[file.role]));
    }
    assert.equal(logs.length, 4);
  });
});

Deno.test("truncated IDX is a format error naming the file", async () => {
  await _withTmp(async (tmp, env) => {
    const raw = _goodRaw();
    raw.trainImages = raw.trainImages.subarray(0, raw.trainImages.length - 1);
    await assert.rejects(
      _loadBroken(raw, tmp, env),
      _isDataError("format", "train-images-idx3-ubyte.gz", "truncated", "Delete it"),
    );
  });
});

Deno.test("IDX with trailing bytes is a format error", async () => {
  await _withTmp(async (tmp, env) => {
    const raw = _goodRaw();
    raw.testLabels = new Uint8Array([...raw.testLabels, 0]);
    await assert.rejects(
      _loadBroken(raw, tmp, env),
      _isDataError("format", "t10k-labels-idx1-ubyte.gz", "trailing bytes"),
    );
  });
});

Deno.test("IDX with the wrong magic is a format error", async () => {
  await _withTmp(async (tmp, env) => {
    const raw = _goodRaw();
    raw.trainLabels = raw.trainLabels.slice();
    raw.trainLabels[2] = 0x0c; // float type code
    await assert.rejects(
      _loadBroken(raw, tmp, env),
      _isDataError("format", "train-labels-idx1-ubyte.gz", "0x00000c01"),
    );
  });
});

Deno.test("images with the wrong dimension count are a format error", async () => {
  await _withTmp(async (tmp, env) => {
    const raw = _goodRaw();
    raw.trainImages = _idx([12], new Uint8Array(12));
    await assert.rejects(
      _loadBroken(raw, tmp, env),
      _isDataError("format", "train-images-idx3-ubyte.gz", "3 dimensions", "[12]"),
    );
  });
});

Deno.test("label count differing from image count is a format error", async () => {
  await _withTmp(async (tmp, env) => {
    const raw = _goodRaw();
    raw.testLabels = _idx([3], [1, 2, 3]);
    await assert.rejects(
      _loadBroken(raw, tmp, env),
      _isDataError("format", "t10k-labels-idx1-ubyte.gz", "expected 2 labels", "found 3"),
    );
  });
});

Deno.test("labels outside 0..9 are a format error", async () => {
  await _withTmp(async (tmp, env) => {
    const raw = _goodRaw();
    raw.trainLabels = _idx([3], [5, 10, 9]);
    await assert.rejects(_loadBroken(raw, tmp, env), _isDataError("format", "found 10 at index 1"));
  });
});

Deno.test("a found file with the wrong hash is an error, not a fall-through", async () => {
  await _withTmp(async (tmp, env) => {
    const good = await _fixture(_goodRaw());
    await _place(good, join(tmp, "env"));
    const raw = _goodRaw();
    raw.testImages = _idx([2, 2, 2], new Uint8Array(8));
    const bad = await _fixture(raw);
    await _place(bad, join(tmp, "data"));
    const expected = good.manifest.files.find((f) => f.role === "testImages")!.sha256;
    await assert.rejects(
      loadImageDataset(good.manifest, {
        env,
        dataDir: join(tmp, "data"),
        cacheDir: join(tmp, "cache"),
        download: false,
      }),
      _isDataError(
        "hash",
        join(tmp, "data", NAME, "t10k-images-idx3-ubyte.gz"),
        `expected ${expected}`,
        "CLAIMCHECK_DATA_DIR",
      ),
    );
  }, (tmp) => join(tmp, "env"));
});

Deno.test("corrupt gzip is a format error", async () => {
  await assert.rejects(
    gunzip(new TextEncoder().encode("not gzip at all"), "x.gz"),
    _isDataError("format", "x.gz", "gzip", "found bytes starting 6e 6f 74 20"),
  );
  await assert.rejects(gunzip(new Uint8Array(), "x.gz"), _isDataError("format", "empty file"));
  await _withTmp(async (tmp, env) => {
    const raw = _goodRaw();
    const gz = await _gzip(raw.trainImages);
    const broken = gz.slice(0, gz.length - 6); // cut into the CRC/size trailer
    delete (raw as Partial<typeof raw>).trainImages;
    const f = await _fixture(raw, { gzipped: { trainImages: broken } });
    await _place(f, join(tmp, "data"));
    await assert.rejects(
      loadImageDataset(f.manifest, { env, dataDir: join(tmp, "data"), download: false }),
      _isDataError("format", "train-images-idx3-ubyte.gz", "gzip"),
    );
  });
});

Deno.test("missing file with download:false lists the places looked", async () => {
  await _withTmp(async (tmp, env) => {
    const f = await _fixture(_goodRaw());
    for (const dir of ["data", "env"]) await Deno.mkdir(join(tmp, dir));
    await assert.rejects(
      loadImageDataset(f.manifest, {
        env,
        dataDir: join(tmp, "data"),
        cacheDir: join(tmp, "cache"),
        download: false,
      }),
      _isDataError(
        "missing",
        join(tmp, "data", NAME),
        join(tmp, "env", NAME),
        join(tmp, "cache", NAME),
        "--data-dir",
        "CLAIMCHECK_DATA_DIR",
        "Downloading is disabled",
      ),
    );
  }, (tmp) => join(tmp, "env"));
});

Deno.test("download: first mirror fails, second succeeds, file lands in cache atomically", async () => {
  await _withTmp(async (tmp, env) => {
    const f = await _fixture(_goodRaw());
    const byUrl = new Map(f.manifest.files.map((e) => [e.urls[1], f.gz[e.role]]));
    const calls: string[] = [];
    const stub = (input: RequestInfo | URL) => {
      const url = String(input);
      calls.push(url);
      if (url.startsWith("https://a.invalid/")) {
        return Promise.resolve(new Response("gone", { status: 404, statusText: "Not Found" }));
      }
      return Promise.resolve(new Response(byUrl.get(url) as Uint8Array<ArrayBuffer>));
    };
    const cache = join(tmp, "cache");
    const logs: string[] = [];
    const d = await loadImageDataset(f.manifest, {
      env,
      cacheDir: cache,
      fetch: stub as typeof fetch,
      log: (m) => logs.push(m),
    });
    assert.deepEqual([...d.train.labels], [5, 0, 9]);
    assert.equal(calls.length, 8);
    for (const e of f.manifest.files) {
      assert.ok(
        calls.indexOf(e.urls[0]) >= 0 && calls.indexOf(e.urls[0]) < calls.indexOf(e.urls[1]),
      );
    }
    assert.deepEqual(await _listFiles(join(cache, NAME)), Object.values(FILES).slice(0, 4).sort());
    assert.deepEqual(d.files.map((x) => x.path), d.files.map((x) => join(cache, NAME, x.file)));
    assert.ok(logs.some((m) => m.includes("downloading https://b.invalid/")));
    // Now cached: a second load must not touch the network.
    const again = await loadImageDataset(f.manifest, {
      env,
      cacheDir: cache,
      fetch: () => Promise.reject(new Error("network used")),
    });
    assert.deepEqual([...again.test.labels], [1, 2]);
  });
});

Deno.test("download with the wrong content leaves nothing in the cache", async () => {
  await _withTmp(async (tmp, env) => {
    const f = await _fixture(_goodRaw());
    const stub = (input: RequestInfo | URL) =>
      String(input).startsWith("https://a.invalid/")
        ? Promise.reject(new TypeError("connection refused"))
        : Promise.resolve(new Response("<html>captive portal</html>"));
    const cache = join(tmp, "cache");
    await assert.rejects(
      loadImageDataset(f.manifest, {
        env,
        cacheDir: cache,
        fetch: stub as typeof fetch,
        backoffMs: 1,
      }),
      (err: unknown) => {
        _isDataError("missing", "connection refused", "wrong SHA-256", "every mirror")(err);
        assert.match((err as Error).message, /connection refused \(after 3 attempts\)/);
        const cause = (err as Error).cause as AggregateError;
        assert.deepEqual(
          cause.errors.map((e: DataError) => e.kind),
          ["download", "hash"],
        );
        return true;
      },
    );
    assert.deepEqual(await _listFiles(join(cache, NAME)), []);
  });
});

Deno.test("lookup order: dataDir beats CLAIMCHECK_DATA_DIR beats cache", async () => {
  await _withTmp(async (tmp, env) => {
    const f = await _fixture(_goodRaw());
    for (const dir of ["data", "env", "cache"]) await _place(f, join(tmp, dir));
    const noNet = () => Promise.reject(new Error("network used"));
    const load = (dataDir?: string, readEnv = env) =>
      loadImageDataset(f.manifest, {
        dataDir,
        cacheDir: join(tmp, "cache"),
        fetch: noNet,
        env: readEnv,
      });
    const where = async (dataDir?: string, readEnv = env) =>
      (await load(dataDir, readEnv)).files[0].path;
    const file = FILES.trainImages;
    assert.equal(await where(join(tmp, "data")), join(tmp, "data", NAME, file));
    assert.equal(await where(), join(tmp, "env", NAME, file));
    // A directory lacking the file falls through.
    await Deno.mkdir(join(tmp, "empty"));
    assert.equal(await where(join(tmp, "empty")), join(tmp, "env", NAME, file));
    assert.equal(await where(undefined, _env()), join(tmp, "cache", NAME, file));
  }, (tmp) => join(tmp, "env"));
});

Deno.test("the process's CLAIMCHECK_DATA_DIR is read by default, and an env reader replaces it", async () => {
  await _withTmp(async (tmp) => {
    const f = await _fixture(_goodRaw());
    for (const dir of ["process", "reader"]) await _place(f, join(tmp, dir));
    await Deno.writeTextFile(join(tmp, "manifest.json"), JSON.stringify(f.manifest));
    // A process of its own: this one's environment is shared with test files running alongside.
    const script = join(tmp, "load.ts");
    await Deno.writeTextFile(
      script,
      `import { DATA_DIR_ENV, loadImageDataset } from "${
        new URL("../harness/data/datasets.ts", import.meta.url).href
      }";
const manifest = JSON.parse(await Deno.readTextFile(${JSON.stringify(join(tmp, "manifest.json"))}));
const opts = { cacheDir: ${JSON.stringify(join(tmp, "cache"))}, download: false };
const reader = (name: string) => name === DATA_DIR_ENV ? ${
        JSON.stringify(join(tmp, "reader"))
      } : undefined;
const byDefault = await loadImageDataset(manifest, opts);
const byReader = await loadImageDataset(manifest, { ...opts, env: reader });
console.log(JSON.stringify([byDefault.files[0].path, byReader.files[0].path]));
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", join(PROJECT_ROOT, "deno.json"), script],
      env: { [DATA_DIR_ENV]: join(tmp, "process") },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    assert.equal(out.code, 0, dec.decode(out.stderr));
    assert.deepEqual(JSON.parse(dec.decode(out.stdout)), [
      join(tmp, "process", NAME, FILES.trainImages),
      join(tmp, "reader", NAME, FILES.trainImages),
    ]);
  });
});

/** A one-file digits dataset (mirrors to be filled in) and its gzipped table. */
async function _digitsFixture(rows = 40): Promise<{ manifest: DatasetManifest; gz: Uint8Array }> {
  const csv = Array.from({ length: rows }, (_, i) => [...Array(64).fill(i % 17), i % 10].join(","));
  const f = await _fixture({ table: new TextEncoder().encode(csv.join("\n")) }, {
    name: "fixture-digits",
  });
  return { manifest: f.manifest, gz: f.gz.table };
}

/** A local HTTP server on a free port; `url(name)` addresses it. Dispose to shut it down. */
function _httpServer(handler: (req: Request) => Response | Promise<Response>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  return {
    url: (name: string) => `http://127.0.0.1:${server.addr.port}/${name}`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/**
 * A mirror that stalls: a raw TCP server that reads each request, writes `reply` (possibly
 * nothing, so no headers ever come) and then sends nothing more until disposed.
 */
function _stallingServer(reply: Uint8Array) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const handlers: Promise<unknown>[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        conns.push(conn);
        handlers.push(
          (async () => {
            await conn.read(new Uint8Array(64 * 1024)); // the request line and headers
            for (let off = 0; off < reply.length;) off += await conn.write(reply.subarray(off));
          })().catch(() => {}),
        );
      }
    } catch { /* listener closed */ }
  })();
  return {
    url: `http://127.0.0.1:${listener.addr.port}/digits.csv.gz`,
    connections: () => conns.length,
    [Symbol.asyncDispose]: async () => {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* the client closed it first */ }
      }
      await accepting;
      await Promise.all(handlers);
    },
  };
}

Deno.test("download: no response headers within connectTimeoutMs fails fast, after retries", async () => {
  await _withTmp(async (tmp, env) => {
    await using server = _stallingServer(new Uint8Array());
    const { manifest } = await _digitsFixture();
    manifest.files[0].urls = [server.url];
    const logs: string[] = [];
    const t0 = performance.now();
    await assert.rejects(
      loadDigitsDataset(manifest, {
        env,
        cacheDir: join(tmp, "cache"),
        connectTimeoutMs: 100,
        retries: 1,
        backoffMs: 10,
        log: (m) => logs.push(m),
      }),
      _isDataError("missing", server.url, "no response within 100 ms", "(after 2 attempts)"),
    );
    assert.ok(performance.now() - t0 < 2000, `took ${performance.now() - t0} ms`);
    assert.equal(server.connections(), 2);
    assert.ok(logs.some((m) => m.includes("retry 1/1 in 10 ms: no response within 100 ms")));
    assert.deepEqual(await _listFiles(join(tmp, "cache", "fixture-digits")), []);
  });
});

Deno.test("download: a fetch that ignores the abort signal still hits the connect timeout", async () => {
  await _withTmp(async (tmp, env) => {
    const { manifest } = await _digitsFixture();
    await assert.rejects(
      loadDigitsDataset(manifest, {
        env,
        cacheDir: join(tmp, "cache"),
        fetch: () => new Promise<Response>(() => {}),
        connectTimeoutMs: 20,
        retries: 0,
      }),
      _isDataError("missing", "https://a.invalid/", "https://b.invalid/", "no response within"),
    );
  });
});

Deno.test("download: a body that stalls hits the idle timeout and leaves no partial file", async () => {
  await _withTmp(async (tmp, env) => {
    const { manifest, gz } = await _digitsFixture();
    const head = `HTTP/1.1 200 OK\r\nContent-Length: ${gz.length}\r\n\r\n`;
    const half = gz.subarray(0, gz.length >> 1);
    await using server = _stallingServer(
      new Uint8Array([...new TextEncoder().encode(head), ...half]),
    );
    manifest.files[0].urls = [server.url];
    const cache = join(tmp, "cache");
    await assert.rejects(
      loadDigitsDataset(manifest, { env, cacheDir: cache, idleTimeoutMs: 150, retries: 0 }),
      _isDataError("missing", `no data for 150 ms after ${half.length} B of ${gz.length} B`),
    );
    // The folder was made for the temp file, and the temp file is gone.
    assert.ok((await Deno.stat(join(cache, "fixture-digits"))).isDirectory);
    assert.deepEqual(await _listFiles(join(cache, "fixture-digits")), []);
  });
});

Deno.test("download: 503 twice then success is retried with backoff and logs progress", async () => {
  await _withTmp(async (tmp, env) => {
    const { manifest, gz } = await _digitsFixture();
    let calls = 0;
    await using server = _httpServer(() =>
      ++calls <= 2
        ? new Response("busy", { status: 503, statusText: "Service Unavailable" })
        : new Response(gz as Uint8Array<ArrayBuffer>)
    );
    manifest.files[0].urls = [server.url("digits.csv.gz")];
    const cache = join(tmp, "cache");
    const logs: string[] = [];
    const d = await loadDigitsDataset(manifest, {
      env,
      cacheDir: cache,
      backoffMs: 10,
      log: (m) => logs.push(m),
    });
    assert.equal(d.count, 40);
    assert.equal(calls, 3);
    const label = "fixture-digits/digits.csv.gz";
    const retries = logs.filter((m) => m.includes("retry"));
    assert.deepEqual(retries, [
      `${label}: retry 1/2 in 10 ms: HTTP 503 Service Unavailable`,
      `${label}: retry 2/2 in 20 ms: HTTP 503 Service Unavailable`,
    ]);
    const done = new RegExp(
      `^${label}: ${gz.length} B / ${gz.length} B \\(100%\\), [\\d.]+ MB/s, done in [\\d.]+ s$`,
    );
    assert.ok(logs.some((m) => done.test(m)), logs.join("\n"));
    assert.ok(logs.includes(`${label}: saved ${join(cache, "fixture-digits", FILES.table)}`));
    assert.deepEqual(await _listFiles(join(cache, "fixture-digits")), [FILES.table]);
  });
});

Deno.test("download: 404, a wrong SHA-256 and an oversized body are not retried", async () => {
  await _withTmp(async (tmp, env) => {
    const { manifest, gz } = await _digitsFixture();
    const calls: string[] = [];
    await using server = _httpServer((req) => {
      const name = new URL(req.url).pathname.slice(1);
      calls.push(name);
      if (name === "gone") return new Response("no", { status: 404, statusText: "Not Found" });
      if (name === "wrong") return new Response(gz.map((b) => b ^ 1));
      return new Response(new Uint8Array(gz.length * 3));
    });
    manifest.files[0].urls = ["gone", "wrong", "huge"].map(server.url);
    const logs: string[] = [];
    await assert.rejects(
      loadDigitsDataset(manifest, {
        env,
        cacheDir: join(tmp, "cache"),
        retries: 3,
        backoffMs: 10,
        log: (m) => logs.push(m),
      }),
      (err: unknown) => {
        _isDataError(
          "missing",
          `${server.url("gone")}: HTTP 404 Not Found\n`,
          `${server.url("wrong")}: wrong SHA-256`,
          `${server.url("huge")}: wrong content: more than the expected ${gz.length} bytes`,
        )(err);
        const cause = (err as Error).cause as AggregateError;
        assert.deepEqual(cause.errors.map((e: DataError) => e.kind), ["download", "hash", "hash"]);
        return true;
      },
    );
    assert.deepEqual(calls, ["gone", "wrong", "huge"]);
    assert.ok(!logs.some((m) => m.includes("retry")), logs.join("\n"));
    assert.deepEqual(await _listFiles(join(tmp, "cache", "fixture-digits")), []);
  });
});

Deno.test("download: a cache that cannot be written stops at once, trying no other mirror", async () => {
  await _withTmp(async (tmp, env) => {
    const { manifest, gz } = await _digitsFixture();
    let calls = 0;
    await using server = _httpServer(() => (calls++, new Response(gz as Uint8Array<ArrayBuffer>)));
    manifest.files[0].urls = [server.url("a"), server.url("b")];
    const cache = join(tmp, "a-file");
    await Deno.writeTextFile(cache, "");
    await assert.rejects(
      loadDigitsDataset(manifest, { env, cacheDir: cache, backoffMs: 10 }),
      _isDataError("download", join(cache, "fixture-digits", FILES.table), "could not save"),
    );
    assert.equal(calls, 1);
  });
});

Deno.test("a missing --data-dir or CLAIMCHECK_DATA_DIR is an error naming it, before any download", async () => {
  await _withTmp(async (tmp, env) => {
    const f = await _fixture(_goodRaw());
    const nope = join(tmp, "nope");
    const noNet = () => Promise.reject(new Error("network used"));
    const opts = { env, cacheDir: join(tmp, "cache"), fetch: noNet };
    const missing = _isDataError("missing", `--data-dir "${nope}": no such directory`, "Fix it");
    await assert.rejects(checkDataDirs({ env, dataDir: nope }), missing);
    await assert.rejects(loadImageDataset(f.manifest, { ...opts, dataDir: nope }), missing);
    const { manifest } = await _digitsFixture();
    await assert.rejects(loadDigitsDataset(manifest, { ...opts, dataDir: nope }), missing);
    await assert.rejects(
      checkDataDirs({ env, dataDir: "" }),
      _isDataError("missing", "empty path"),
    );
    const file = join(tmp, "a-file");
    await Deno.writeTextFile(file, "");
    await assert.rejects(
      checkDataDirs({ env, dataDir: file }),
      _isDataError("missing", "--data-dir", file, "not a directory"),
    );
    await checkDataDirs({ env, dataDir: tmp });
    await assert.rejects(
      loadImageDataset(f.manifest, { ...opts, env: _env(nope) }),
      _isDataError("missing", `${DATA_DIR_ENV} "${nope}": no such directory`, "unset"),
    );
    await checkDataDirs({ env: _env("") });
  });
});

Deno.test("bad manifests give manifest errors naming the file and zod path", async () => {
  const f = await _fixture(_goodRaw());
  const bad = structuredClone(f.manifest) as unknown as Record<string, unknown>;
  (bad.files as Record<string, unknown>[])[1].sha256 = "xyz";
  assert.throws(
    () => parseManifest(bad, "data/bad.json"),
    _isDataError("manifest", "data/bad.json", "files[1].sha256"),
  );
  const noTitle = { ...f.manifest, title: undefined };
  assert.throws(() => parseManifest(noTitle, "m.json"), _isDataError("manifest", "title"));
  const dup = { ...f.manifest, files: [f.manifest.files[0], f.manifest.files[0]] };
  assert.throws(() => parseManifest(dup, "m.json"), _isDataError("manifest", "files[1].role"));
  const pathy = structuredClone(f.manifest);
  pathy.files[0].file = "../evil.gz";
  assert.throws(() => parseManifest(pathy, "m.json"), _isDataError("manifest", "files[0].file"));
  assert.deepEqual(parseManifest(f.manifest, "m.json"), f.manifest);
  await assert.rejects(loadManifest("no-such-dataset"), _isDataError("manifest", "mnist"));
  const partial = { ...f.manifest, files: f.manifest.files.slice(1) };
  await assert.rejects(
    loadImageDataset(partial, { download: false }),
    _isDataError("manifest", 'no file with role "trainImages"'),
  );
});

Deno.test("project manifests are valid", async () => {
  for (const name of ["mnist", "fashion-mnist", "sklearn-digits"]) {
    const m = await loadManifest(name);
    assert.equal(m.name, name);
    assert.ok(m.files.every((f) => f.urls.length > 0));
  }
  assert.equal((await loadManifest("mnist")).files[0].urls.length, 2);
});

Deno.test({
  name: "project manifests match SHA256SUMS in CLAIMCHECK_DATA_DIR",
  ignore: !REAL_DATA_DIR,
  fn: async () => {
    for (const name of ["mnist", "fashion-mnist", "sklearn-digits"]) {
      const sums = await Deno.readTextFile(join(REAL_DATA_DIR!, name, "SHA256SUMS"));
      const pinned = new Map(
        sums.trim().split("\n").map((l) => l.split(/\s+/).reverse() as [string, string]),
      );
      for (const f of (await loadManifest(name)).files) {
        assert.equal(f.sha256, pinned.get(f.file), `${name}/${f.file}`);
        assert.equal(f.bytes, (await Deno.stat(join(REAL_DATA_DIR!, name, f.file))).size);
      }
    }
  },
});

Deno.test("digits CSV: good table parses, malformed rows name file and line", async () => {
  const row = (label: number, v = 0) => [...Array(64).fill(v), label].join(",");
  const load = async (csv: string, tmp: string, env: (name: string) => string | undefined) => {
    const f = await _fixture({ table: new TextEncoder().encode(csv) }, { name: "fixture-digits" });
    await _place(f, join(tmp, "data"));
    return loadDigitsDataset(f.manifest, { env, dataDir: join(tmp, "data"), download: false });
  };
  await _withTmp(async (tmp, env) => {
    const d = await load(`${row(3, 16)}\r\n${row(0, 2)}\n${row(9)}\n`, tmp, env);
    assert.deepEqual([d.count, d.width, d.features.length], [3, 64, 192]);
    assert.deepEqual([...d.labels], [3, 0, 9]);
    assert.deepEqual([d.features[0], d.features[63], d.features[64], d.features[191]], [
      16,
      16,
      2,
      0,
    ]);
    const path = join(tmp, "data", "fixture-digits", FILES.table);
    assert.equal(d.files[0].path, path);
    await assert.rejects(
      load(`${row(1)}\n${row(1).slice(2)}\n`, tmp, env),
      _isDataError("format", path, "line 2", "found 64 fields"),
    );
    await assert.rejects(
      load(`${row(1)}\n${row(1)}\n${row(1).replace(/^0/, "x")}\n`, tmp, env),
      _isDataError("format", "line 3", "column 1", '"x"'),
    );
    await assert.rejects(load(row(1, 17), tmp, env), _isDataError("format", "line 1", "0..16"));
    await assert.rejects(load(row(10), tmp, env), _isDataError("format", "column 65", "0..9"));
    await assert.rejects(load("", tmp, env), _isDataError("format", "empty file"));
  });
});

Deno.test({
  name: "real MNIST loads from CLAIMCHECK_DATA_DIR",
  ignore: !REAL_DATA_DIR,
  fn: async () => {
    const d = await loadMnist({ download: false });
    assert.equal(d.train.count, 60000);
    assert.equal(d.test.count, 10000);
    assert.deepEqual([d.train.rows, d.train.cols], [28, 28]);
    assert.equal(d.train.images.length, 60000 * 784);
    assert.equal(d.train.labels[0], 5);
    assert.ok(d.files.every((f) => f.path.startsWith(REAL_DATA_DIR!)));
    // SOURCE.md documents the training pixel mean (33.3184 on the 0..255 scale).
    let sum = 0;
    for (const p of d.train.images) sum += p;
    assert.ok(Math.abs((sum / d.train.images.length) * 255 - 33.3184) < 1e-3);
  },
});
