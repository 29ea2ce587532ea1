/**
 * The exit guard names a replication's file that calls Deno.exit, also under a path with a space
 * and an accented letter, which V8 writes percent-encoded in one thread and decoded in a worker.
 */
import assert from "assert";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { guardExit } from "../harness/util/exit_guard.ts";

async function quitter(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "exit guard é " });
  const file = join(dir, "model.ts");
  await Deno.writeTextFile(file, "export function quit() {\n  Deno.exit(3);\n}\n");
  return file;
}

Deno.test("a Deno.exit from outside harness/ throws, naming the file (this thread)", async () => {
  const file = await quitter();
  const { quit } = await import(pathToFileURL(file).href);
  const unguard = guardExit();
  try {
    assert.throws(() => quit(), (e: Error) => e.message.startsWith(`${file}:2:`));
  } finally {
    unguard();
    await Deno.remove(join(file, ".."), { recursive: true });
  }
});

Deno.test("a Deno.exit from outside harness/ throws, naming the file (a worker)", async () => {
  const file = await quitter();
  const guard = new URL("../harness/util/exit_guard.ts", import.meta.url).href;
  const script = join(file, "..", "worker.js"); // plain JS: nothing to type-check
  await Deno.writeTextFile(
    script,
    `import { guardExit } from "${guard}";\nimport { quit } from "./model.ts";\n` +
      "guardExit();\ntry { quit(); self.postMessage('exited'); } " +
      "catch (e) { self.postMessage(e.message); }\n",
  );
  const worker = new Worker(pathToFileURL(script).href, { type: "module" });
  try {
    const message = await new Promise<string>((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
      setTimeout(() => resolve("no answer: the worker ended"), 10_000);
    });
    assert.ok(message.startsWith(`${file}:2:`), message);
  } finally {
    worker.terminate();
    await Deno.remove(join(file, ".."), { recursive: true });
  }
});
