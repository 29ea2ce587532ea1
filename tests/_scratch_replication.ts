/** Replications written by a test into a folder of its own: model.ts files that misbehave. */
import { join } from "node:path";

const _PLUGIN = new URL("../harness/plugin.ts", import.meta.url).href;
const _SPEC = new URL("./fixtures/replications/fails/spec.json", import.meta.url);

/**
 * Writes `<dir>/<name>/`: the `fails` fixture's `ok` protocol (softmax regression, 1 epoch on
 * MNIST) and its claim, with `atImport` run when model.ts is imported and `inBuilder` when its
 * model is built (at training).
 */
export async function scratchReplication(
  dir: string,
  name: string,
  { atImport = "", inBuilder = "" } = {},
): Promise<void> {
  const spec = JSON.parse(await Deno.readTextFile(_SPEC));
  spec.name = name;
  spec.protocols = spec.protocols.filter((p: { id: string }) => p.id === "ok");
  await Deno.mkdir(join(dir, name), { recursive: true });
  await Deno.writeTextFile(join(dir, name, "spec.json"), JSON.stringify(spec, null, 2));
  await Deno.writeTextFile(
    join(dir, name, "model.ts"),
    `import * as tf from "@tensorflow/tfjs";
import { type ModelBuilder, seededGlorot } from "${_PLUGIN}";
${atImport}
export const models: Record<string, ModelBuilder> = {
  linear: (seed) => {
    ${inBuilder}
    const init = seededGlorot(seed);
    return tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [28, 28] }),
        tf.layers.dense({ units: 10, activation: "softmax", kernelInitializer: init() }),
      ],
    });
  },
};
`,
  );
}
