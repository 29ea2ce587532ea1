/** Options for finding and downloading dataset files. @module */

/** Options controlling where dataset files are looked for and whether they may be downloaded. */
export interface DataOptions {
  /** Highest-priority data directory (the CLI's --data-dir); it must exist when given. */
  dataDir?: string;
  /** Download cache; defaults to `data/cache` in the project. */
  cacheDir?: string;
  /** Allow downloading missing files into the cache (default true). */
  download?: boolean;
  /** Replacement for the global fetch (tests, proxies). */
  fetch?: typeof fetch;
  /**
   * Reads an environment variable (CLAIMCHECK_DATA_DIR); default `Deno.env.get`. Tests pass
   * their own, since the process environment is shared by test files running in parallel.
   */
  env?: (name: string) => string | undefined;
  /** Progress messages (where each file came from, download progress and retries). */
  log?: (msg: string) => void;
  /** How long to wait for a mirror's response headers, in ms (default 30000). */
  connectTimeoutMs?: number;
  /** How long a download may go without receiving a byte, in ms (default 30000). */
  idleTimeoutMs?: number;
  /** Further tries per mirror after a transient failure (default 2, so 3 attempts). */
  retries?: number;
  /** Wait before the first retry, in ms, doubled before each next one (default 1000). */
  backoffMs?: number;
}
