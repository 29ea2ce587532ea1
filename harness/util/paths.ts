/**
 * The project's folders, in one place. Built with `fileURLToPath`, so a checkout under a path
 * with spaces or non-ASCII characters works.
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The project root (the folder above harness/). */
export const PROJECT_ROOT: string = fileURLToPath(new URL("../..", import.meta.url));
/** Where replication folders live unless `--replications DIR` names another. */
export const REPLICATIONS_DIR: string = join(PROJECT_ROOT, "replications");
/** Dataset manifests (data/<name>.json). */
export const MANIFEST_DIR: string = join(PROJECT_ROOT, "data");
/** The download cache (ignored by git). */
export const DEFAULT_CACHE_DIR: string = join(PROJECT_ROOT, "data", "cache");
/** Where reports go by default. */
export const REPORTS_DIR: string = join(PROJECT_ROOT, "reports");
/** Results of record, in git: `records/<name>/results.json` (see score/records.ts). */
export const RECORDS_DIR: string = join(PROJECT_ROOT, "records");
/** The folder `deno task new` copies. */
export const TEMPLATE_DIR: string = join(PROJECT_ROOT, "replications", "_template");
