/** What went wrong with a data file; callers branch on this rather than on message text. */
export type DataErrorKind = "missing" | "hash" | "format" | "download" | "manifest";

/**
 * A problem with a dataset file or manifest. The message is meant for the person running the
 * harness: it names the file, says what was expected and what was found, and what to do next.
 */
export class DataError extends Error {
  /** The category of failure. */
  readonly kind: DataErrorKind;
  /** The path (or, before a path is known, the name) of the offending file. */
  readonly file: string;

  /**
   * Creates a DataError.
   *
   * @param kind category of failure
   * @param file path or name of the file concerned
   * @param message full human-readable explanation
   * @param options standard error options (e.g. `cause`)
   */
  constructor(kind: DataErrorKind, file: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DataError";
    this.kind = kind;
    this.file = file;
  }
}

/** Advice appended to errors about a bad local copy, so every message offers the same way out. */
export const DATA_FIX_HINT =
  "Delete it and rerun to download again, or point --data-dir / CLAIMCHECK_DATA_DIR at a good copy.";
