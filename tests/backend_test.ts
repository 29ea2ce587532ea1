/**
 * setupBackend says which backend ran and why: when the wasm backend does not start, `auto`
 * runs on cpu with wasm's own error in the note, and `--backend wasm` fails with it (tfjs only
 * logs that error, and the PROD flag silences the log).
 */
import assert from "assert";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { PROJECT_ROOT } from "../harness/util/paths.ts";

Deno.test("a wasm backend that does not start: auto's note and wasm's error carry the cause", async () => {
  const dir = await Deno.makeTempDir({ prefix: "claimcheck-backend-" });
  try {
    // A subprocess: it replaces tfjs's wasm factory, global state no other test should see.
    const script = join(dir, "failing_wasm.ts");
    const backend = pathToFileURL(join(PROJECT_ROOT, "harness/backend/backend.ts")).href;
    await Deno.writeTextFile(
      script,
      `import * as tf from "@tensorflow/tfjs";
import { setupBackend } from "${backend}";
// No WebGPU adapter, whatever the machine has, so that auto goes on to wasm.
Object.defineProperty(navigator, "gpu", { value: undefined });
tf.removeBackend("wasm");
tf.registerBackend("wasm", () => Promise.reject(new Error("wasm init exploded")), 2);
const auto = await setupBackend("auto");
const wasm = await setupBackend("wasm").then(() => "started", (e) => e.message);
console.log(JSON.stringify({ auto, wasm }));
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", join(PROJECT_ROOT, "deno.json"), script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    assert.equal(out.code, 0, dec.decode(out.stderr));
    const { auto, wasm } = JSON.parse(dec.decode(out.stdout));
    assert.equal(auto.name, "cpu");
    assert.equal(
      auto.note,
      "auto chose cpu: skipped WebGPU: no adapter; skipped wasm: it did not start: " +
        "wasm init exploded",
    );
    assert.equal(wasm, "--backend wasm: the backend did not start: wasm init exploded");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
