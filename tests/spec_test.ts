import assert from "assert";
import { join } from "node:path";
import { sha256Hex } from "../harness/util/sha256_hex.ts";
import { loadSpec, parseSpec } from "../harness/spec/load_spec.ts";
import { Trainer } from "../harness/train/trainer.ts";
import { SpecError } from "../harness/spec/spec.ts";
import { listReplications, loadReplication } from "../harness/replications.ts";

const good = {
  version: 2,
  name: "demo",
  title: "Demo",
  sources: [{ id: "002", file: "002_5dcc19fec036a721.txt", title: "slides" }],
  protocols: [{
    id: "p",
    source: "002",
    description: "d",
    model: "m",
    dataset: "mnist",
    optimizer: { name: "adam" },
    loss: "categoricalCrossentropy",
    batchSize: 32,
    epochs: 1,
  }],
  claims: [{
    id: "c",
    source: "002",
    where: "w",
    statement: "s",
    protocol: "p",
    metric: "test_acc",
    claimed: 0.9,
    compare: "approx",
    epsilon: 0.01,
  }],
  defaultSeeds: 1,
  gates: [],
};

function issuesOf(data: unknown): string[] {
  try {
    parseSpec(data, "spec.json");
  } catch (e) {
    assert.ok(e instanceof SpecError);
    return e.issues;
  }
  return [];
}

Deno.test("a valid spec gets Keras' optimizer defaults filled in", () => {
  const spec = parseSpec(good, "spec.json");
  const p = spec.protocols[0];
  assert.equal(p.kind, "layers", "a protocol without kind is a layers protocol");
  assert.deepEqual(p.kind === "layers" && p.optimizer, {
    name: "adam",
    learningRate: 0.001,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
    amsgrad: false,
  });
  assert.equal(p.exploratory, false);
});

Deno.test("schema errors name the field and what is wrong", () => {
  const badEpsilon = structuredClone(good);
  (badEpsilon.claims[0] as Record<string, unknown>).epsilon = -1;
  assert.match(issuesOf(badEpsilon).join("\n"), /claims\.0\.epsilon/);

  const badCompare = structuredClone(good);
  (badCompare.claims[0] as Record<string, unknown>).compare = "roughly";
  assert.match(issuesOf(badCompare).join("\n"), /claims\.0\.compare/);

  const badFile = structuredClone(good);
  badFile.sources[0].file = "slides.txt";
  assert.match(issuesOf(badFile).join("\n"), /sources\.0\.file: a seed file name/);

  const badOptimizer = structuredClone(good);
  (badOptimizer.protocols[0] as Record<string, unknown>).optimizer = { name: "adamw" };
  assert.match(issuesOf(badOptimizer).join("\n"), /protocols\.0\.optimizer\.name/);
});

Deno.test("dangling references between sources, protocols, claims and gates are errors", () => {
  const bad = structuredClone(good);
  bad.claims[0].protocol = "nope";
  bad.claims[0].source = "009";
  (bad.gates as unknown[]).push({ claim: "missing", seeds: [1], threshold: 0.9, why: "w" });
  const issues = issuesOf(bad).join("\n");
  assert.match(issues, /claims\.0\.protocol: unknown protocol "nope"/);
  assert.match(issues, /claims\.0\.source: unknown source "009"/);
  assert.match(issues, /gates\.0\.claim: unknown claim "missing"/);
});

Deno.test("a gate's budget: epochs and trainImages are positive integers", () => {
  const gate = (budget: Record<string, unknown>) => {
    const spec = structuredClone(good);
    const claim = spec.claims[0].id;
    (spec.gates as unknown[]).push({ claim, seeds: [1], threshold: 0.9, why: "w", ...budget });
    return issuesOf(spec).join("\n");
  };
  assert.equal(gate({ epochs: 1, trainImages: 6000 }), "");
  assert.match(gate({ trainImages: 0 }), /gates\.0\.trainImages/);
  assert.match(gate({ trainImages: 2.5 }), /gates\.0\.trainImages/);
});

Deno.test("custom protocols name a trainer and keep their params", () => {
  const custom = structuredClone(good) as Record<string, unknown>;
  custom.claims = [{ ...good.claims[0], metric: "test_score" }];
  custom.metrics = { test_score: { better: "higher" } };
  custom.protocols = [{
    kind: "custom",
    id: "p",
    source: "002",
    description: "d",
    trainer: "t",
    dataset: "sklearn-digits",
    epochs: 10,
    params: { hidden: [4, 4, 4] },
  }];
  const spec = parseSpec(custom, "spec.json");
  const p = spec.protocols[0];
  assert.deepEqual(p.kind === "custom" && p.params, { hidden: [4, 4, 4] });
  (custom.protocols as Record<string, unknown>[])[0].kind = "magic";
  assert.match(issuesOf(custom).join("\n"), /protocols\.0\.kind/);
});

Deno.test("headline: a claim's flag, false unless set; not on a curve", () => {
  assert.equal(parseSpec(good, "spec.json").claims[0].headline, false);
  const withHeadline = (claim: Record<string, unknown>) => ({ ...good, claims: [claim] });
  const marked = parseSpec(withHeadline({ ...good.claims[0], headline: true }), "spec.json");
  assert.equal(marked.claims[0].headline, true);
  assert.match(
    issuesOf(withHeadline({ ...good.claims[0], headlin: true })).join("\n"),
    /claims\.0: unknown key "headlin" \(did you mean "headline"\?\)/,
  );
  assert.match(
    issuesOf(withHeadline({ ...good.claims[0], headline: "yes" })).join("\n"),
    /claims\.0\.headline/,
  );
  // A headline is one number; a curve's points are not (and expand with headline false).
  const { claimed: _, ...curve } = { ...good.claims[0], curve: { "1": 0.5 } };
  assert.equal(parseSpec(withHeadline(curve), "spec.json").claims[0].headline, false);
  assert.match(
    issuesOf(withHeadline({ ...curve, headline: true })).join("\n"),
    /claims\.0: unknown key "headline"/,
  );
});

Deno.test("loadSpec names the file for unreadable JSON", async () => {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(file, "{ not json");
  await assert.rejects(() => loadSpec(file), (e: Error) => e.message.includes(file));
  await Deno.remove(file);
});

Deno.test("loadSpec accepts a spec saved with a byte-order mark, hashing the file's bytes", async () => {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  const bytes = new TextEncoder().encode(`\uFEFF${JSON.stringify(good)}`);
  await Deno.writeFile(file, bytes);
  const spec = await loadSpec(file);
  assert.equal(spec.name, "demo");
  assert.equal(spec.sha256, await sha256Hex(bytes));
  await Deno.remove(file);
});

/** A spec naming, for each table of model.ts, a member of Object.prototype. */
const prototypeNames = {
  ...good,
  name: "proto",
  protocols: [
    {
      ...good.protocols[0],
      model: "toString",
      inputs: { derived: "valueOf", params: {} },
      targets: { function: "hasOwnProperty" },
    },
    {
      kind: "custom",
      id: "custom",
      source: "002",
      description: "d",
      trainer: "constructor",
      dataset: "mnist",
      epochs: 1,
      params: { n: 1 },
    },
  ],
};

Deno.test("a spec naming Object.prototype members (constructor, toString) fails validation", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(join(dir, "proto"));
  await Deno.writeTextFile(join(dir, "proto", "spec.json"), JSON.stringify(prototypeNames));
  // Every table exists, empty: only Object.prototype has these names.
  await Deno.writeTextFile(
    join(dir, "proto", "model.ts"),
    ["models", "datasets", "targets", "trainers", "params"]
      .map((t) => `export const ${t} = {};\n`).join(""),
  );
  const error = await loadReplication("proto", dir).then(() => null, (e) => e);
  assert.ok(error instanceof SpecError, String(error));
  assert.deepEqual(error.issues.map((i) => i.split(":")[0]), [
    "protocols.0.model",
    "protocols.0.inputs.derived",
    "protocols.0.targets.function",
    "protocols.1.params",
    "protocols.1.trainer",
  ]);
  assert.match(error.issues[0], /"toString" is not exported in `models`/);
  assert.match(error.issues[3], /"constructor" takes no params/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the trainer looks model.ts names up as own properties too", async () => {
  const spec = parseSpec(prototypeNames, "proto/spec.json");
  const trainer = new Trainer({ name: "proto", spec, module: { models: {}, trainers: {} } }, {});
  await assert.rejects(() => trainer.run({ protocol: "p", seed: 1 }), /no model "toString"/);
  await assert.rejects(
    () => trainer.run({ protocol: "custom", seed: 1 }),
    /no trainer "constructor"/,
  );
  trainer.dispose();
});

Deno.test("every replication folder loads, and its sources exist in ../shared/seeds", async () => {
  const names = await listReplications();
  assert.ok(names.includes("keras-dense"));
  for (const name of names) {
    const rep = await loadReplication(name);
    // The scoreboard leads with each replication's headline claims: the source's main numbers.
    const exploratory = new Set(rep.spec.protocols.filter((p) => p.exploratory).map((p) => p.id));
    const headline = rep.spec.claims.filter((c) => c.headline);
    assert.ok(headline.length, `${name}: no claim marked "headline"`);
    for (const c of headline) {
      assert.ok(!exploratory.has(c.protocol), `${name}: headline ${c.id} is exploratory`);
    }
    for (const s of rep.spec.sources.filter((s) => s.file !== undefined)) {
      const seeds = new URL(`../../shared/seeds/${s.file}`, import.meta.url);
      const exists = await Deno.stat(seeds).then(() => true, () => false);
      const sharedPresent = await Deno.stat(new URL("../../shared/seeds", import.meta.url))
        .then(() => true, () => false);
      if (sharedPresent) assert.ok(exists, `${name}: source ${s.file} not found in shared/seeds`);
    }
  }
});

Deno.test("an unknown replication name lists the known ones", async () => {
  await assert.rejects(
    () => loadReplication("nope"),
    /unknown replication "nope" \(known: .*keras-dense/,
  );
});
