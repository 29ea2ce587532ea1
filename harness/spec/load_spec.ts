/**
 * Reading a spec.json: `extends` resolved, zod validation, logged curves expanded into one
 * claim per point, and every cross-reference (sources, protocols, stages, metrics, gates)
 * checked before anything trains.
 * @module
 */
import { sha256Hex } from "../util/sha256_hex.ts";
import { protocolMetrics } from "./metrics.ts";
import {
  check,
  type Claim,
  ClaimSchema,
  CurveClaimSchema,
  type ReplicationSpec,
  SpecError,
  SpecFileSchema,
} from "./spec.ts";

type _Json = Record<string, unknown>;

/**
 * Protocol fields that write one setting two ways (the scaling; the validation data): a variant
 * giving one drops the other.
 */
const _SAME_SETTING: [string, string][] = [
  ["scaling", "pixelDivisor"],
  ["validationFirst", "validationSplit"],
];

/**
 * Resolves `extends`: a protocol that names another takes all of its fields (but its id) and
 * overrides the ones it gives (`scaling` also overrides an inherited `pixelDivisor`, and the
 * other way round; so do `validationFirst` and `validationSplit`). Chains are followed; cycles
 * and unknown names are errors.
 */
function _resolveExtends(protocols: unknown, file: string): unknown {
  if (!Array.isArray(protocols)) return protocols;
  const byId = new Map<string, _Json>();
  for (const p of protocols) if (p && typeof p === "object") byId.set((p as _Json).id as string, p);
  const resolve = (p: _Json, i: number, seen: string[]): _Json => {
    if (typeof p.extends !== "string") return p;
    const base = byId.get(p.extends);
    if (!base) {
      throw new SpecError(file, [
        `protocols.${i}.extends: unknown protocol "${p.extends}" (known: ${
          [...byId.keys()].join(", ")
        })`,
      ]);
    }
    if (seen.includes(p.extends)) {
      throw new SpecError(file, [
        `protocols.${i}.extends: cycle ${[...seen, p.extends].join(" → ")}`,
      ]);
    }
    const { extends: _, ...own } = p;
    const { id: _id, explains: _e, ...inherited } = resolve(base, i, [...seen, p.id as string]);
    for (const [a, b] of _SAME_SETTING) {
      if (a in own) delete inherited[b];
      if (b in own) delete inherited[a];
    }
    // A variant explains the protocol it extends unless it says otherwise.
    return { ...inherited, explains: p.extends, ...own };
  };
  return protocols.map((p, i) => {
    if (!p || typeof p !== "object") return p;
    return resolve(p as _Json, i, [(p as _Json).id as string]);
  });
}

/** Checks references between the parts of a spec; returns one message per problem. */
function _crossCheck(spec: Omit<ReplicationSpec, "sha256">): string[] {
  const issues: string[] = [];
  const sources = new Set(spec.sources.map((s) => s.id));
  const dup = (list: string, ids: string[]) =>
    ids.forEach((id, i) => {
      if (ids.indexOf(id) !== i) issues.push(`${list}.${i}.id: duplicate id "${id}"`);
    });
  dup("sources", spec.sources.map((s) => s.id));
  dup("protocols", spec.protocols.map((p) => p.id));
  dup("claims", spec.claims.map((c) => c.id));
  const known = (what: string, set: Iterable<string>) => `(known ${what}s: ${[...set].join(", ")})`;
  const index = new Map(spec.protocols.map((p, i) => [p.id, i]));
  spec.protocols.forEach((p, i) => {
    if (!sources.has(p.source)) {
      issues.push(
        `protocols.${i}.source: unknown source "${p.source}" ${known("source", sources)}`,
      );
    }
    if (p.explains !== undefined && (!index.has(p.explains) || p.explains === p.id)) {
      issues.push(
        `protocols.${i}.explains: "${p.explains}" is not another protocol ${
          known("protocol", index.keys())
        }`,
      );
    }
    for (const u of p.uses) {
      const j = index.get(u);
      if (j === undefined) {
        issues.push(
          `protocols.${i}.uses: unknown protocol "${u}" ${known("protocol", index.keys())}`,
        );
      } else if (j >= i) {
        issues.push(`protocols.${i}.uses: "${u}" must come before "${p.id}" in protocols`);
      } else if (spec.protocols[j].kind !== "layers") {
        issues.push(
          `protocols.${i}.uses: "${u}" is a custom protocol; only layers models can be used`,
        );
      }
    }
    if (p.kind === "layers") {
      const recorded = protocolMetrics({ ...p, derivedMetrics: {} }, spec.metrics);
      for (const [name, d] of Object.entries(p.derivedMetrics)) {
        for (const k of d.of.filter((k) => !recorded.has(k))) {
          issues.push(
            `protocols.${i}.derivedMetrics.${name}.of: "${k}" is not recorded by "${p.id}"`,
          );
        }
      }
    }
    if (p.kind === "layers") {
      const metrics = protocolMetrics(p, spec.metrics);
      const recorded = `this protocol (it records ${[...metrics.keys()].join(", ")})`;
      if (p.earlyStopping && !metrics.has(p.earlyStopping.monitor)) {
        issues.push(
          `protocols.${i}.earlyStopping.monitor: "${p.earlyStopping.monitor}" is not recorded by ` +
            recorded,
        );
      }
      const plateau = p.reduceLROnPlateau;
      if (plateau && !metrics.has(plateau.monitor)) {
        issues.push(
          `protocols.${i}.reduceLROnPlateau.monitor: "${plateau.monitor}" is not recorded by ` +
            recorded,
        );
      } else if (plateau?.mode === "auto" && metrics.get(plateau.monitor) === "neither") {
        issues.push(
          `protocols.${i}.reduceLROnPlateau.mode: "${plateau.monitor}" is declared neither ` +
            'higher- nor lower-better: give "mode": "min" or "max"',
        );
      }
      for (const epoch of Object.keys(p.learningRateScheduler ?? {})) {
        if (Number(epoch) > p.epochs) {
          issues.push(
            `protocols.${i}.learningRateScheduler.${epoch}: epoch ${epoch} is past the ` +
              `protocol's ${p.epochs} epochs`,
          );
        }
      }
    }
  });
  spec.claims.forEach((c, i) => {
    if (!sources.has(c.source)) {
      issues.push(`claims.${i}.source: unknown source "${c.source}" ${known("source", sources)}`);
    }
    const p = spec.protocols.find((q) => q.id === c.protocol);
    if (!p) {
      issues.push(
        `claims.${i}.protocol: unknown protocol "${c.protocol}" ${known("protocol", index.keys())}`,
      );
      return;
    }
    const metrics = protocolMetrics(p, spec.metrics);
    if (!metrics.has(c.metric)) {
      issues.push(
        `claims.${i}.metric: protocol "${p.id}" does not record "${c.metric}" ` +
          `(it records ${[...metrics.keys()].join(", ")})`,
      );
    }
    if (c.epoch !== undefined && c.epoch > p.epochs) {
      issues.push(`claims.${i}.epoch: ${c.epoch} is past protocol "${p.id}"'s ${p.epochs} epochs`);
    }
  });
  const claims = new Set(spec.claims.map((c) => c.id));
  spec.gates.forEach((g, i) => {
    if (!claims.has(g.claim)) {
      issues.push(`gates.${i}.claim: unknown claim "${g.claim}" ${known("claim", claims)}`);
    }
  });
  return issues;
}

/**
 * Validates a parsed spec.json (`data`), naming `file` in errors; `sha256` is the file's hash
 * as recorded in results.
 */
export function parseSpec(data: unknown, file: string, sha256 = ""): ReplicationSpec {
  const raw = data && typeof data === "object" ? data as _Json : {};
  const withBases = { ...raw, protocols: _resolveExtends(raw.protocols, file) };
  const top = check(SpecFileSchema, withBases);
  // A protocol that `extends` another inherits its fields: report a bad field once, where written.
  const own = (issue: string) => {
    const m = /^protocols\.(\d+)\.?([^:]*): unknown key "([^"]+)"/.exec(issue);
    const written = Array.isArray(raw.protocols) ? raw.protocols[Number(m?.[1])] : undefined;
    return !m || !written || typeof written !== "object" || (m[2].split(".")[0] || m[3]) in written;
  };
  const issues = (top.issues ?? []).filter(own);
  // A claim with a `curve` is one claim per logged point, judged apart: `<id>-epoch-<n>`.
  const rawClaims = Array.isArray(raw.claims) ? raw.claims : [];
  const written = rawClaims.flatMap((c, i) => {
    const curve = c && typeof c === "object" && "curve" in c;
    const r = check(curve ? CurveClaimSchema : ClaimSchema, c, ["claims", i]);
    issues.push(...r.issues ?? []);
    return r.data ? [r.data] : [];
  });
  if (issues.length || !top.data) throw new SpecError(file, issues);
  const parsed = top.data;
  const claims: Claim[] = written.flatMap((c) => {
    if (!("curve" in c)) return [c];
    const { curve, ...rest } = c;
    return Object.entries(curve).map(([epoch, claimed]) => ({
      ...rest,
      id: `${c.id}-epoch-${epoch}`,
      statement: `${c.statement} (epoch ${epoch}: ${claimed})`,
      epoch: Number(epoch),
      claimed,
      headline: false,
      curve: c.id,
    }));
  });
  const spec = { ...parsed, claims };
  const cross = _crossCheck(spec);
  if (cross.length) throw new SpecError(file, cross);
  return { ...spec, sha256 };
}

/** Reads and validates a spec.json. */
export async function loadSpec(file: string): Promise<ReplicationSpec> {
  let text = "", data: unknown;
  try {
    text = await Deno.readTextFile(file);
    // An editor may save a byte-order mark, which JSON.parse rejects; the hash keeps it (the bytes).
    data = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (e) {
    throw new SpecError(file, [`cannot read as JSON: ${(e as Error).message}`]);
  }
  return parseSpec(data, file, await sha256Hex(text));
}
