/**
 * "Did you mean …?" for unknown keys: the keys the schema accepts at the offending object,
 * found by walking the zod schema along the path (through arrays, records, optional
 * and default wrappers, and unions, choosing a discriminated union's member by the data).
 * @module
 */
import type { z } from "zod";

// zod 4's internal definition, as far as this walk reads it.
interface _Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
  in?: z.ZodType;
  items?: z.ZodType[];
}

const _def = (s: z.ZodType) => (s as unknown as { _zod: { def: _Def } })._zod.def;

/** The object schemas `schema` may be at `data` (several where a plain union allows). */
function _objects(schema: z.ZodType, data: unknown): _Def[] {
  const def = _def(schema);
  const inner = def.innerType ?? def.in;
  if (inner) return _objects(inner, data);
  if (def.type === "object") return [def];
  if (def.type !== "union") return [];
  let options = def.options ?? [];
  if (def.discriminator && data && typeof data === "object") {
    const tag = (data as Record<string, unknown>)[def.discriminator];
    const match = options.filter((o) =>
      _objects(o, undefined).some((obj) => {
        const lit = obj.shape?.[def.discriminator!];
        const values = lit && (lit as unknown as { _zod: { values?: Set<unknown> } })._zod.values;
        return values?.has(tag) ?? false;
      })
    );
    if (match.length) options = match;
  }
  return options.flatMap((o) => _objects(o, data));
}

/** The schema one step down `key` from `schema` (at `data`), or undefined. */
function _child(schema: z.ZodType, data: unknown, key: PropertyKey): z.ZodType | undefined {
  const def = _def(schema);
  const inner = def.innerType ?? def.in;
  if (inner) return _child(inner, data, key);
  if (def.type === "array") return def.element;
  if (def.type === "record") return def.valueType;
  if (def.type === "tuple") return def.items?.[Number(key)];
  return _objects(schema, data).map((o) => o.shape?.[String(key)]).find((s) => s);
}

/** The keys `schema` accepts for the object at `path` in `data`. */
function _keysAt(schema: z.ZodType, data: unknown, path: readonly PropertyKey[]): string[] {
  let s: z.ZodType | undefined = schema, d = data;
  for (const key of path) {
    s = s && _child(s, d, key);
    d = d && typeof d === "object" ? (d as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return s ? [...new Set(_objects(s, d).flatMap((o) => Object.keys(o.shape ?? {})))] : [];
}

/** Levenshtein distance, case-insensitive. */
function _distance(a: string, b: string): number {
  a = a.toLowerCase(), b = b.toLowerCase();
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length];
}

/** The closest of `known` to `key` when it is plausibly a typo (a third of its letters or fewer). */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined, bestDistance = Infinity;
  for (const k of known) {
    const d = _distance(key, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return bestDistance <= Math.max(1, Math.floor(key.length / 3)) ? best : undefined;
}

/** The message for unknown `keys` at `path`: each key, with a suggestion where one is close. */
export function unknownKeysMessage(
  schema: z.ZodType,
  data: unknown,
  path: readonly PropertyKey[],
  keys: readonly string[],
): string {
  const known = _keysAt(schema, data, path);
  return keys.map((k) => {
    const hint = closest(k, known);
    return `unknown key "${k}"` + (hint ? ` (did you mean "${hint}"?)` : "") +
      (known.length && !hint ? ` (allowed here: ${known.join(", ")})` : "");
  }).join("; ");
}
