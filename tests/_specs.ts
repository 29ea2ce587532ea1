/** Small specs for validation tests: layers protocols with only the fields a test is about. */
import assert from "assert";
import { parseSpec } from "../harness/spec/load_spec.ts";
import { type LayersProtocol, SpecError } from "../harness/spec/spec.ts";

/**
 * A minimal valid spec with one layers protocol per argument (`p0`, `p1`, …): a softmax
 * classifier trained with SGD for one epoch, each argument's fields merged over it. Its one claim
 * reads p0's test_loss, which every layers protocol records.
 */
export function specWith(...protocols: Record<string, unknown>[]): Record<string, unknown> {
  return {
    version: 2,
    name: "demo",
    title: "demo",
    sources: [{ id: "src", url: "https://example.com/", title: "a source" }],
    protocols: protocols.map((p, i) => ({
      id: `p${i}`,
      source: "src",
      description: "d",
      model: "m",
      dataset: "mnist",
      loss: "categoricalCrossentropy",
      optimizer: { name: "sgd" },
      batchSize: 32,
      epochs: 1,
      ...p,
    })),
    claims: [{
      id: "c",
      source: "src",
      where: "w",
      statement: "s",
      protocol: "p0",
      metric: "test_loss",
      claimed: 0.9,
      compare: "atMost",
      epsilon: 0.01,
    }],
    defaultSeeds: 1,
  };
}

/** The problems parseSpec finds in `spec`, one line each (none for a valid spec). */
export function specIssues(spec: unknown): string[] {
  try {
    parseSpec(spec, "spec.json");
  } catch (e) {
    assert.ok(e instanceof SpecError, String(e));
    return e.issues;
  }
  return [];
}

/** The layers protocol `fields` make, parsed (see specWith). */
export function layersProtocol(fields: Record<string, unknown>): LayersProtocol {
  const p = parseSpec(specWith(fields), "spec.json").protocols[0];
  assert.ok(p.kind === "layers");
  return p;
}
