/// <reference lib="deno.worker" />
/**
 * Imports one model.ts for loadReplication, apart from the process that asked, and answers
 * `{}` or `{ error }`; a model.ts that hangs at import never answers and is terminated.
 * @module
 */
import { guardExit } from "./util/exit_guard.ts";

guardExit();

self.onmessage = async ({ data }: MessageEvent<string>) => {
  try {
    await import(data);
    self.postMessage({});
  } catch (e) {
    self.postMessage({ error: (e as Error).message });
  }
};
